//! Where the page is: the path that picks the page, and a query parameter a page reads
//! (`/login?next=…`, `/ra/audit?user=…`). Every page is a page load of its own (issue 18:
//! no client-side router), so this is read once, when the page starts.

/// The address's path, `/` if the browser will not say.
pub(crate) fn path() -> String {
    leptos::prelude::window()
        .location()
        .pathname()
        .unwrap_or_else(|_| "/".to_owned())
}

/// The query parameter `name`, decoded; none when absent.
pub(crate) fn query(name: &str) -> Option<String> {
    let search = leptos::prelude::window().location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}
