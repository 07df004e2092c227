//! The Smartcard Self-Service page (Leptos, client-side rendered, WASM): every screen of
//! the unlock flow, talking to the server (same origin) and to the card bridge on
//! 127.0.0.1 (a different origin, reached with CORS and a custom header).

mod client;
mod problem;
mod unlock;

use leptos::prelude::*;
use leptos::task::spawn_local;

use problem::{Problem, ProblemSummary};

#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let config = RwSignal::new(None::<Result<api_types::unlock::PublicConfig, Problem>>);
    spawn_local(async move {
        config.set(Some(client::server_config().await));
    });
    view! {
        <header class="nhsuk-header" role="banner">
            <div class="nhsuk-header__container nhsuk-width-container">
                <div class="nhsuk-header__service">
                    <span class="nhsuk-header__service-name app-service-name">
                        "Smartcard Self-Service"
                    </span>
                </div>
            </div>
        </header>
        <div class="nhsuk-width-container">
            <main class="nhsuk-main-wrapper" id="maincontent" role="main">
                {move || match config.get() {
                    None => view! { <p aria-live="polite">"Loading…"</p> }.into_any(),
                    Some(Err(problem)) => view! { <ProblemSummary problem=problem/> }.into_any(),
                    Some(Ok(config)) => view! { <unlock::Unlock config=config/> }.into_any(),
                }}
            </main>
        </div>
    }
}
