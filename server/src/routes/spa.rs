//! The built SPA (issue 18): its files as they are (pre-compressed when present), and for
//! a page's path the HTML of the entry that draws it (one WASM per audience,
//! `api_types::pages`), with the organisation's public settings written into it, so the
//! first screen needs no round trip before it is drawn. A missing asset is a real 404,
//! and no path reaches a file outside the SPA's folder (ALL-2).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use api_types::pages::{entry_for, Entry, SETTINGS_ELEMENT_ID};
use api_types::unlock::PublicConfig;
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use tower_http::services::ServeDir;

/// Where the API reference page (Swagger UI, OPS-1) lives in the built SPA.
const API_DOCS_DIR: &str = "api-docs";
const API_DOCS_PAGE: &str = "/api-docs/index.html";

pub(super) fn spa(dir: PathBuf, config: &PublicConfig) -> Router {
    let settings: Arc<str> = settings_element(config).into();
    Router::new()
        .fallback_service(ServeDir::new(&dir).precompressed_br().precompressed_gzip())
        .layer(axum::middleware::from_fn(
            move |request: Request, next: Next| {
                let dir = dir.clone();
                let settings = settings.clone();
                async move {
                    // Judged before the filesystem is asked anything, so a probe learns
                    // nothing about files outside the SPA (a `..` or absolute path is 404).
                    let Some(path) = asset_path(request.uri().path()) else {
                        return StatusCode::NOT_FOUND.into_response();
                    };
                    let name = path.to_str().unwrap_or_default();
                    // OPS-1: the API reference page is a plain file of its own.
                    if name.trim_end_matches('/') == API_DOCS_DIR {
                        return Redirect::to(API_DOCS_PAGE).into_response();
                    }
                    let page = if !name.rsplit('/').next().unwrap_or(name).contains('.') {
                        Some(entry_for(request.uri().path()).html())
                    } else {
                        Entry::ALL
                            .into_iter()
                            .map(Entry::html)
                            .find(|html| *html == name)
                    };
                    match page {
                        Some(html) => page_response(&dir, html, &settings, request.method()).await,
                        None if !dir.join(&path).is_file() => StatusCode::NOT_FOUND.into_response(),
                        None => next.run(request).await,
                    }
                }
            },
        ))
}

/// An entry's HTML with the settings in it, read on every request so a rebuilt SPA is
/// served at once; the unlock entry's when a build has only that one.
async fn page_response(dir: &Path, html: &str, settings: &str, method: &Method) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let template = match tokio::fs::read_to_string(dir.join(html)).await {
        Ok(template) => template,
        Err(_) => match tokio::fs::read_to_string(dir.join(Entry::Unlock.html())).await {
            Ok(template) => template,
            Err(_) => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        with_settings(&template, settings),
    )
        .into_response()
}

/// The `<script type="application/json">` the SPA reads its settings from. Every `<` is
/// escaped, so no setting can close the element or open a comment in it.
fn settings_element(config: &PublicConfig) -> String {
    let json = serde_json::to_string(config)
        .unwrap_or_default()
        .replace('<', "\\u003c");
    format!(r#"<script type="application/json" id="{SETTINGS_ELEMENT_ID}">{json}</script>"#)
}

/// `page` with `settings` at the end of its head.
fn with_settings(page: &str, settings: &str) -> String {
    match page.find("</head>") {
        Some(at) => format!("{}{settings}{}", &page[..at], &page[at..]),
        None => format!("{settings}{page}"),
    }
}

/// A request path as a path inside the SPA's folder: percent-decoded, and only plain
/// names — no `..`, `.`, root, drive prefix or backslash, however encoded.
fn asset_path(uri_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(uri_path.trim_start_matches('/'))?;
    if decoded.contains('\\') || decoded.contains('\0') {
        return None;
    }
    let path = PathBuf::from(&decoded);
    let plain = path
        .components()
        .all(|part| matches!(part, std::path::Component::Normal(_)));
    (plain && !decoded.starts_with('/')).then_some(path)
}

/// `%XX` escapes decoded; a broken escape or text that is not UTF-8 is no path at all.
fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = tail.get(..2)?;
            let value = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            bytes.push(value);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn all_2_only_plain_paths_inside_the_spa_reach_the_filesystem() {
        assert_eq!(
            asset_path("/app_bg.wasm"),
            Some(PathBuf::from("app_bg.wasm"))
        );
        assert_eq!(
            asset_path("/snippets/a/b.js"),
            Some(PathBuf::from("snippets/a/b.js"))
        );
        assert_eq!(asset_path("/ra/users"), Some(PathBuf::from("ra/users")));
        for probe in [
            "/../../etc/ld.so.conf",
            "/%2e%2e/%2E%2E/etc/passwd",
            "/a/../../x.js",
            "/./x.js",
            "/%2Fetc%2Fpasswd",
            "/..%5c..%5cwindows%5cwin.ini",
            "/x%00.js",
            "/%zz.js",
            "/%ff.js",
        ] {
            assert_eq!(asset_path(probe), None, "{probe}");
        }
    }

    #[test]
    fn all_2_no_setting_can_end_the_settings_element_early() {
        let config = PublicConfig {
            organisation_name: "</script><script>alert(1)</script><!--".into(),
            ra_help: "Call 0300 & ask".into(),
            bridge_url: "http://127.0.0.1:9981".into(),
            approved_email_domains: vec!["nhs.net".into()],
            policy: api_types::policy::Policy::Nhs2023,
            passcode_expiry: Default::default(),
        };
        let element = settings_element(&config);
        let json = element
            .strip_prefix(r#"<script type="application/json" id="scss-settings">"#)
            .and_then(|rest| rest.strip_suffix("</script>"))
            .expect("one element");
        assert!(!json.contains('<'), "{json}");
        assert_eq!(
            serde_json::from_str::<PublicConfig>(json).ok(),
            Some(config)
        );
        assert_eq!(
            with_settings("<html><head><title>t</title></head></html>", "<s></s>"),
            "<html><head><title>t</title><s></s></head></html>"
        );
    }

    proptest! {
        // ALL-2: any path is judged without a panic, and what passes never climbs out.
        #[test]
        fn all_2_no_path_climbs_out(path in "/[a-z./%0-9A-F\\\\]{0,40}") {
            if let Some(inside) = asset_path(&path) {
                prop_assert!(inside.components().all(|c| matches!(c, std::path::Component::Normal(_))));
            }
        }
    }
}
