//! "This wasn't me": the page a notice email links to. The token is in the link's
//! fragment, which the browser never sends; the page posts it only when the user presses
//! the button, so a mail scanner that fetches the link reports nothing.

use api_types::auth::{NotMe, NotMeRequest};
use api_types::values::NotMeToken;
use api_types::ErrorCode;
use leptos::prelude::*;

use crate::api;
use crate::errors::{Problem, ProblemSummary};

fn token_from_page() -> Option<NotMeToken> {
    let hash = window().location().hash().ok()?;
    NotMeToken::parse(hash.trim_start_matches('#')).ok()
}

#[component]
pub fn NotMePage() -> impl IntoView {
    let report = Action::new_local(|_: &()| async {
        let token = token_from_page().ok_or_else(|| Problem::from_code(ErrorCode::NotFound))?;
        api::call::<NotMe>(&(), &NotMeRequest { token }).await
    });
    view! {
        <p id="progress" class="app-progress" role="status" aria-live="polite">
            {move || if report.pending().get() { "Sending your report…" } else { "" }}
        </p>
        {move || match report.value().get() {
            Some(Ok(_)) => view! {
                <h1 tabindex="-1">"Thank you, we have your report"</h1>
                <p>
                    "Self-service is now closed for your account, so nobody can unlock your \
                     smartcard or change your registration without your Registration Authority. \
                     They will look into it and contact you."
                </p>
            }.into_any(),
            other => view! {
                <h1 tabindex="-1">"Report that this wasn't you"</h1>
                {other.and_then(Result::err).map(|p: Problem| view! { <ProblemSummary problem=p/> })}
                <p>
                    "If you did not unlock your smartcard or change your self-service \
                     registration, report it here. Self-service will be closed for your \
                     account until your Registration Authority has looked into it."
                </p>
                <button type="button" id="not-me-button" class="nhsuk-button nhsuk-button--warning"
                    on:click=move |_| { report.dispatch_local(()); }>
                    "Report that this wasn't me"
                </button>
            }.into_any(),
        }}
    }
}
