//! The Smartcard Self-Service page (Leptos, client-side rendered, WASM): every screen of
//! the unlock flow, talking to the server (same origin, [`api`]) and to the card bridge
//! on 127.0.0.1 (a different origin, reached with CORS and a custom header, [`bridge`]).
//! Errors are shown in plain language with their stable reason code ([`errors`]).

pub mod api;
pub mod bridge;
pub mod errors;
mod unlock;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::path;

use errors::{Problem, ProblemSummary};

#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let config = RwSignal::new(None::<Result<api_types::unlock::PublicConfig, Problem>>);
    spawn_local(async move {
        config.set(Some(api::config().await));
    });
    // The routes render their view once, untracked: the config lookup inside must be a
    // closure of its own to follow the signal.
    let unlock = move || match config.get() {
        None => view! { <p aria-live="polite">"Loading…"</p> }.into_any(),
        Some(Err(problem)) => view! {
            <h1>"Smartcard Self-Service is not available"</h1>
            <ProblemSummary problem=problem/>
        }
        .into_any(),
        Some(Ok(config)) => view! { <unlock::Unlock config=config/> }.into_any(),
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
                    </FlatRoutes>
                </Router>
            </main>
        </div>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <p>"If you typed the web address, check it is correct."</p>
        <p><a href="/unlock">"Unlock your smartcard"</a></p>
    }
}
