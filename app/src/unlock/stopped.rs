//! Dead ends and restarts: self-service closed (UNL-4), not registered (UNL-8), unknown
//! or not genuine card, expired attempt or code — each with the RA help text (ALL-4).
//! A closed or unregistered user can go on with a code from the RA team (RA-3), and one
//! the questions closed out can take the Smartcard Service Centre's route (SCSC-1).

use api_types::policy::Policy;
use api_types::recovery::UnlockRoute;
use api_types::{AttemptId, ErrorCode};
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
    // SCSC: the questions' three strikes leave the Smartcard Service Centre's route open.
    let scsc = flow.policy == Policy::Seed2006 && problem.is(ErrorCode::SelfServiceClosed);
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
        {scsc.then(|| view! {
            <h2>"Unlock with your Account Recovery Passcode"</h2>
            <p>
                "If you have set an Account Recovery Passcode, the Smartcard Service Centre can \
                 unlock your smartcard with it and a One Time Passcode sent by email or SMS."
            </p>
            <button type="button" id="scsc-button" class="nhsuk-button nhsuk-button--secondary"
                on:click=move |_| flow.advance(Step::Start(UnlockRoute::Scsc))>
                "Use the Smartcard Service Centre"
            </button>
        })}
        {(can_restart || start_for_code).then(|| view! {
            <button type="button" id="start-again-button" class="nhsuk-button"
                on:click=move |_| flow.advance(Step::Start(super::first_route(flow.policy)))>
                "Start again"
            </button>
        })}
    }
}
