//! Dead ends and restarts: self-service closed (UNL-4), not registered (UNL-8), unknown
//! or not genuine card, expired attempt or code — each with the RA help text (ALL-4).

use leptos::prelude::*;

use super::{Flow, Step};
use crate::errors::Problem;
use crate::submit::Screens;

#[component]
pub(super) fn StoppedPage(
    flow: Flow,
    heading: &'static str,
    problem: Problem,
    can_restart: bool,
) -> impl IntoView {
    let help = problem.help.clone();
    view! {
        <h1 tabindex="-1">{heading}</h1>
        <div class="nhsuk-warning-callout">
            <h2 class="nhsuk-warning-callout__label">
                <span role="text">
                    <span class="nhsuk-u-visually-hidden">"Important: "</span>
                    "What to do next"
                </span>
            </h2>
            <p>{problem.message}</p>
            {help.map(|help| view! { <p>{help}</p> })}
            <p class="reason-code">"Reason code: " {problem.code.as_str()}</p>
        </div>
        {can_restart.then(|| view! {
            <button type="button" class="nhsuk-button" on:click=move |_| flow.advance(Step::Start)>
                "Start again"
            </button>
        })}
    }
}
