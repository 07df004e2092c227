//! The Smartcard Self-Service page (Leptos, client-side rendered, WASM): every screen of
//! the unlock flow, talking to the server (same origin, [`api`]) and to the card bridge
//! on 127.0.0.1 (a different origin, reached with CORS and a custom header, [`bridge`]).
//! Errors are shown in plain language with their stable reason code ([`errors`]). The
//! Registration Authority's console lives under `/ra` (RA-1…RA-4, [`ra`]).

mod account;
pub mod api;
pub mod bridge;
mod card_check;
mod contact;
pub mod errors;
pub mod local_network;
mod ra;
mod setup_check;
mod submit;
mod unlock;
mod widgets;

use leptos::prelude::*;
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::path;
use wasm_bindgen::JsCast;

use api_types::unlock::{Config, PublicConfig};
use errors::{Problem, ProblemSummary};

#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let config = LocalResource::new(|| api::call::<Config>(&(), &()));
    // The RA console reads it too: the bridge that follows the RA's card (RA-5).
    provide_context(config);
    // The pages that need the organisation's settings appear once they have loaded.
    let unlock = move || with_config(config, |config| view! { <unlock::Unlock config=config/> });
    let sign_in = move || with_config(config, |config| view! { <account::SignIn config=config/> });
    let my_card = move || with_config(config, |config| view! { <account::MyCard config=config/> });
    let register = move || {
        with_config(
            config,
            |config| view! { <account::Register config=config/> },
        )
    };
    let check_setup = move || {
        with_config(
            config,
            |config| view! { <setup_check::SetupCheck config=config/> },
        )
    };
    view! {
        <a class="nhsuk-skip-link" href="#maincontent">"Skip to main content"</a>
        <header class="nhsuk-header" role="banner">
            <div class="nhsuk-header__container nhsuk-width-container">
                <div class="nhsuk-header__service">
                    <a class="nhsuk-header__service-logo" href="/" aria-label="Smartcard Self-Service homepage">
                        <span class="nhsuk-header__service-name app-service-name">
                            "Smartcard Self-Service"
                        </span>
                    </a>
                </div>
            </div>
        </header>
        <div class="nhsuk-width-container">
            <main class="nhsuk-main-wrapper" id="maincontent" role="main">
                <Router>
                    <FlatRoutes fallback=NotFound>
                        <Route path=path!("/") view=move || unlock/>
                        <Route path=path!("/unlock") view=move || unlock/>
                        <Route path=path!("/login") view=move || sign_in/>
                        <Route path=path!("/my-card") view=move || my_card/>
                        <Route path=path!("/register") view=move || register/>
                        <Route path=path!("/not-me") view=account::NotMePage/>
                        <Route path=path!("/check-setup") view=move || check_setup/>
                        <Route path=path!("/ra") view=ra::HomePage/>
                        <Route path=path!("/ra/users/:uuid") view=ra::UserPage/>
                        <Route path=path!("/ra/audit") view=ra::AuditPage/>
                        <Route path=path!("/ra/reports") view=ra::ReportsPage/>
                    </FlatRoutes>
                </Router>
            </main>
        </div>
    }
}

/// `page` once the settings have loaded; a config that cannot be read is a page of its
/// own. The view is rendered once per route.
fn with_config<V: IntoView + 'static>(
    config: LocalResource<Result<PublicConfig, Problem>>,
    page: fn(PublicConfig) -> V,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p aria-live="polite">"Loading…"</p> }>
            <ErrorBoundary fallback=unavailable>
                {move || Suspend::new(async move { config.await.map(page) })}
            </ErrorBoundary>
        </Suspense>
    }
}

/// Moves keyboard and screen-reader focus to the new screen's heading.
pub(crate) fn focus_heading() {
    request_animation_frame(|| {
        let heading = document()
            .query_selector("main h1")
            .ok()
            .flatten()
            .and_then(|h| h.dyn_into::<leptos::web_sys::HtmlElement>().ok());
        if let Some(heading) = heading {
            let _ = heading.focus();
        }
    });
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <p>"If you typed the web address, check it is correct."</p>
        <p><a href="/unlock">"Unlock your smartcard"</a></p>
    }
}

/// The page when the organisation's settings cannot be loaded: the problem from
/// `<ErrorBoundary>`, in the same words as every other problem.
fn unavailable(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let problem = move || {
        errors
            .get()
            .into_iter()
            .find_map(|(_, error)| error.downcast_ref::<Problem>().cloned())
            .unwrap_or_else(Problem::network)
    };
    view! {
        <h1>"Smartcard Self-Service is not available"</h1>
        {move || view! { <ProblemSummary problem=problem()/> }}
    }
}
