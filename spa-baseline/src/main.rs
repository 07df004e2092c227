//! The smallest page `cargo xtask bench spa` compares the SPA with: Leptos' client-side
//! renderer and router, a heading and a working button — what any Leptos page pays
//! before it says anything of its own. Same heading and button ids as the unlock page, so
//! the bench waits for the same thing on both.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

fn main() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    view! {
        <Router>
            <main>
                <Routes fallback=|| "Not found">
                    <Route path=path!("/") view=Hello/>
                    <Route path=path!("/unlock") view=Hello/>
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn Hello() -> impl IntoView {
    let presses = RwSignal::new(0);
    view! {
        <h1>"Hello, world"</h1>
        <button id="start-button" aria-disabled="false" on:click=move |_| presses.update(|n| *n += 1)>
            "Start"
        </button>
        <p>{move || format!("Pressed {} times", presses.get())}</p>
    }
}
