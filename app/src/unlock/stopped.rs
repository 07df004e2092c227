//! Dead ends and restarts: self-service closed (UNL-4), not registered (UNL-8), unknown
//! or not genuine card, expired attempt or code — each with the RA help text (ALL-4).
//! A closed or unregistered user can go on with a code from the RA team (RA-3).

use api_types::AttemptId;
use leptos::prelude::*;

use super::ra_code::RaCodeForm;
use super::{waits_for_ra_code, Flow, Step};
use crate::errors::Problem;
use crate::submit::Screens;
use crate::widgets::{reason_code, warning_callout};

#[component]
pub(super) fn StoppedPage(
    flow: Flow,
    heading: &'static str,
    problem: Problem,
    can_restart: bool,
    ra_code: Option<AttemptId>,
) -> impl IntoView {
    let help = problem.help.clone();
    let reason = reason_code(&problem);
    // Closed by the answers just now: the attempt has ended, and a new one can take a code.
    let start_for_code = ra_code.is_none() && waits_for_ra_code(&problem);
    view! {
        <h1 tabindex="-1">{heading}</h1>
        {warning_callout("What to do next", view! {
            <p>{problem.message}</p>
            {help.map(|help| view! { <p>{help}</p> })}
            {reason}
        })}
        {ra_code.map(|attempt_id| view! {
            <h2>"If the RA team gave you a code"</h2>
            <p>
                "Once the RA team have checked who you are on the phone, they can give you a code. \
                 Enter it to set a new passcode for your smartcard."
            </p>
            <RaCodeForm flow=flow attempt_id=attempt_id/>
        })}
        {start_for_code.then(|| view! {
            <p>
                "If the RA team give you a code on the phone, keep your smartcard in the reader, \
                 press Start again and enter the code."
            </p>
        })}
        {(can_restart || start_for_code).then(|| view! {
            <button type="button" id="start-again-button" class="nhsuk-button"
                on:click=move |_| flow.advance(Step::Start)>
                "Start again"
            </button>
        })}
    }
}
