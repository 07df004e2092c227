//! The emailed Smartcard Unlock Code (UNL-5). Once it is accepted the user chooses the
//! new passcode, and the card update begins.

use api_types::unlock::{Code, CodeRequest};
use api_types::{AttemptId, Endpoint, ErrorCode, UnlockCode};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::{Flow, Step, Submit};
use crate::api;
use crate::errors::Problem;
use crate::submit::Screens;
use crate::widgets::Field;

/// Sends a code for this attempt to `E` (the emailed code, UNL-5, or the RA team's,
/// RA-3); once it is accepted, the user chooses the new passcode.
pub(super) fn send_code<E, S>(
    screens: S,
    progress: &'static str,
    attempt_id: AttemptId,
) -> Submit<S, CodeRequest>
where
    E: Endpoint<Params = AttemptId, Request = CodeRequest> + 'static,
    S: Screens<Step = Step>,
{
    Submit::new(screens, progress, move |request: &CodeRequest| {
        let (attempt_id, request) = (attempt_id.clone(), request.clone());
        async move {
            api::call::<E>(&attempt_id, &request).await?;
            Ok(Step::NewPasscode { attempt_id })
        }
    })
}

#[component]
pub(super) fn CodePage(flow: Flow, attempt_id: AttemptId, email_hint: String) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let send = send_code::<Code, _>(flow, "Checking your code…", attempt_id);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send.dispatch(|| match UnlockCode::parse(&code.get_untracked()) {
            Ok(code) => Ok(CodeRequest { code: code.into() }),
            Err(_) => Err(Problem::from_code(ErrorCode::CodeInvalid).on_field("unlock-code")),
        });
    };
    view! {
        {send.progress_line()}
        <h1 tabindex="-1">"Smartcard Unlock Code"</h1>
        <p>
            {format!(
                "We have sent a Smartcard Unlock Code to your registered email address ({email_hint}). \
                 Once you receive the code, enter it below and press the Next button. This will take \
                 you to a screen where you will be able to set a new passcode for your Smartcard."
            )}
        </p>
        <form on:submit=submit novalidate>
            {Field::new("unlock-code", "Smartcard Unlock Code")
                .hint(
                    "unlock-code-hint",
                    "The code is 6 digits and is valid for 15 minutes. Check your junk folder if \
                     it has not arrived.",
                )
                .one_time_code()
                .view(flow.problem, code)}
            <button type="submit" id="next-button" class="nhsuk-button">"Next"</button>
        </form>
    }
}
