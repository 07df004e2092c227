//! SCSC-2 / POL-3: the one-time code that was sent — the SCSC's 12-character One Time
//! Passcode ("within ten minutes"), or the NHS's 2023 route's 6-digit code (until 15
//! minutes from the start). Once it is accepted the user sets the new passcode, as after
//! the emailed Smartcard Unlock Code.

use api_types::recovery::{CodeSent, Delivery, TypedCode, UnlockRoute};
use api_types::unlock::{Code, CodeRequest};
use api_types::{AttemptId, ErrorCode};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::code::send_code;
use super::{Flow, Worded};
use crate::errors::Problem;
use crate::widgets::{minute, Field};

const FIELD: &str = "one-time-passcode";

/// A wrong, used or expired code in the one-time code's words — a wrong one beside its
/// input (`Ok`); anything else as the flow shows it (`Err`).
fn in_one_time_words(problem: Problem) -> Result<Problem, Problem> {
    if problem.is(ErrorCode::CodeInvalid) {
        return Ok(problem
            .with_message("That One Time Passcode is not right. Check it and try again.")
            .on_field(FIELD));
    }
    let words = if problem.is(ErrorCode::CodeExpired) {
        "That One Time Passcode has expired. Please start again."
    } else if problem.is(ErrorCode::CodeAlreadyUsed) {
        "That One Time Passcode has already been used. Please start again."
    } else {
        return Err(problem);
    };
    Err(problem.with_message(words))
}

#[component]
pub(super) fn OneTimeCodePage(
    flow: Flow,
    attempt_id: AttemptId,
    route: UnlockRoute,
    sent: CodeSent,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let worded = Worded {
        flow,
        words: in_one_time_words,
    };
    let send = send_code::<Code, _>(worded, "Checking your code…", attempt_id);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send.dispatch(|| match TypedCode::parse(&code.get_untracked()) {
            Ok(code) => Ok(CodeRequest { code }),
            Err(_) => Err(Problem::from_code(ErrorCode::CodeInvalid)
                .with_message("Enter the One Time Passcode exactly as we sent it.")
                .on_field(FIELD)),
        });
    };
    let by = match sent.delivery {
        Delivery::Email => "email",
        Delivery::Sms => "text message",
    };
    let field = match route {
        UnlockRoute::Scsc => Field::new(FIELD, "One Time Passcode")
            .hint(
                "one-time-passcode-hint",
                "12 letters and numbers. Important: you must enter it within ten minutes of \
                 requesting the Passcode.",
            )
            .autocomplete("one-time-code"),
        _ => Field::new(FIELD, "Unlock Code")
            .hint(
                "one-time-passcode-hint",
                format!(
                    "6 digits. It works until {} UTC, 15 minutes from when you started.",
                    minute(sent.code_expires_at)
                ),
            )
            .one_time_code(),
    };
    view! {
        {send.progress_line()}
        <h1 tabindex="-1">"Enter your One Time Passcode"</h1>
        <p>{format!("We have sent a One Time Passcode by {by} to {}.", sent.hint)}</p>
        <form on:submit=submit novalidate>
            {field.view(flow.problem, code)}
            <button type="submit" id="next-button" class="nhsuk-button">"Next"</button>
        </form>
    }
}
