//! RA-3 in the unlock: a code the RA team read out on the phone, in place of the answers
//! and the emailed code. It is offered on the questions screen, and on the pages that stop
//! a closed (UNL-4) or unregistered (UNL-8) user, whose attempt the server keeps for it
//! after the card proved itself. A right code leads to the new passcode (UNL-6), as the
//! emailed code does. Its problems stay beside its input: the RA team can read out a new
//! code for the same attempt.

use api_types::unlock::{CodeRequest, RaCode};
use api_types::{AttemptId, ErrorCode, UnlockCode};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::code::send_code;
use super::{Flow, Worded};
use crate::errors::{self, Problem};
use crate::widgets::Field;

/// The code input's id.
const RA_CODE_FIELD: &str = "ra-code";

/// A problem with the code itself, in words about the RA team's code and beside its input
/// (`Ok`); any other problem as the flow shows it (`Err`).
fn in_ra_code_words(problem: Problem) -> Result<Problem, Problem> {
    use ErrorCode as C;
    let about_the_code = [
        C::CodeInvalid,
        C::CodeExpired,
        C::CodeTriesExhausted,
        C::CodeAlreadyUsed,
        C::NoRaCode,
    ]
    .into_iter()
    .any(|code| problem.is(code));
    if about_the_code {
        Ok(problem
            .in_flow(errors::Flow::PhoneCode)
            .on_field(RA_CODE_FIELD))
    } else {
        Err(problem)
    }
}

/// The form: "Code from the RA team" and Continue.
#[component]
pub(super) fn RaCodeForm(flow: Flow, attempt_id: AttemptId) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let by_phone = Worded {
        flow,
        words: in_ra_code_words,
    };
    let send = send_code::<RaCode, _>(by_phone, "Checking the code…", attempt_id);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send.dispatch(|| match UnlockCode::parse(&code.get_untracked()) {
            Ok(code) => Ok(CodeRequest { code: code.into() }),
            Err(_) => Err(Problem::from_code(ErrorCode::CodeInvalid)
                .with_message("Enter the 6-digit code the RA team gave you.")
                .on_field(RA_CODE_FIELD)),
        });
    };
    view! {
        <form on:submit=submit novalidate>
            {Field::new(RA_CODE_FIELD, "Code from the RA team")
                .hint(
                    "ra-code-hint",
                    "The 6 digits the RA team read out to you on the phone. The code works for 10 minutes.",
                )
                .one_time_code()
                .view(flow.problem, code)}
            {send.status_line("ra-code-progress")}
            <button type="submit" id="ra-code-button" class="nhsuk-button">"Continue"</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_3_a_wrong_phone_code_stays_by_its_input_with_the_tries_left() {
        let wrong = in_ra_code_words(Problem {
            tries_left: Some(2),
            ..Problem::from_code(ErrorCode::CodeInvalid)
        })
        .unwrap_or_else(|p| p);
        assert_eq!(wrong.field, Some(RA_CODE_FIELD));
        assert!(wrong.message.contains("RA team"));
        assert_eq!(wrong.tries_left, Some(2));
        for code in [
            ErrorCode::CodeExpired,
            ErrorCode::CodeTriesExhausted,
            ErrorCode::NoRaCode,
        ] {
            let kept = in_ra_code_words(Problem::from_code(code));
            assert!(
                kept.is_ok_and(|p| p.field == Some(RA_CODE_FIELD)),
                "{code:?}"
            );
        }
        for code in [ErrorCode::AttemptExpired, ErrorCode::WrongStep] {
            assert!(
                in_ra_code_words(Problem::from_code(code)).is_err(),
                "{code:?}"
            );
        }
        assert!(in_ra_code_words(Problem::network()).is_err());
    }
}
