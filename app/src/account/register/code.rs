//! Enter the registration code (REG-4): the emailed 6-digit code (15 minutes, single
//! use, limited tries; a wrong one shows the tries left). "Send a new code" replaces it;
//! the wrong codes already entered still count.

use api_types::register::{
    CodeSent, RegisterConfirm, RegisterConfirmRequest, RegisterResend, RegistrationId,
    ResendRequest,
};
use api_types::{ErrorCode, UnlockCode};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::{Reg, Step, Submit};
use crate::api;
use crate::errors::Problem;
use crate::widgets::Field;

/// The code input's id.
pub(super) const CODE_FIELD: &str = "registration-code";

/// A time of day as NHS.UK writes it: "9am", "2:05pm", "midday", "midnight".
pub(super) fn clock_time(hour: u32, minute: u32) -> String {
    match (hour, minute) {
        (0, 0) => "midnight".to_owned(),
        (12, 0) => "midday".to_owned(),
        _ => {
            let suffix = if hour < 12 { "am" } else { "pm" };
            let hour = match hour % 12 {
                0 => 12,
                h => h,
            };
            if minute == 0 {
                format!("{hour}{suffix}")
            } else {
                format!("{hour}:{minute:02}{suffix}")
            }
        }
    }
}

/// Unix seconds as a time of day on this computer's clock.
fn local_time(unix: i64) -> String {
    let millis = wasm_bindgen::JsValue::from_f64(unix as f64 * 1000.0);
    let date = leptos::web_sys::js_sys::Date::new(&millis);
    clock_time(date.get_hours(), date.get_minutes())
}

#[component]
pub(super) fn CodePage(
    reg: Reg,
    id: RegistrationId,
    sent: CodeSent,
    resent: bool,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let confirm_id = id.clone();
    let confirm = Submit::new(reg, "Checking your code…", move |code: &UnlockCode| {
        let (id, request) = (
            confirm_id.clone(),
            RegisterConfirmRequest { code: code.clone() },
        );
        async move {
            let done = api::call::<RegisterConfirm>(&id, &request).await?;
            if done.registered {
                Ok(Step::Done)
            } else {
                Err(Problem::from_code(ErrorCode::Internal))
            }
        }
    });
    let resend = Submit::new(reg, "Sending a new code…", move |(): &()| {
        let id = id.clone();
        async move {
            let sent = api::call::<RegisterResend>(&id, &ResendRequest {}).await?;
            Ok(Step::Code {
                id,
                sent,
                resent: true,
            })
        }
    });
    let busy = move || confirm.pending_untracked() || resend.pending_untracked();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy() {
            return;
        }
        confirm.dispatch(|| {
            UnlockCode::parse(&code.get_untracked()).map_err(|_| {
                Problem::from_code(ErrorCode::CodeInvalid)
                    .with_message("Enter the 6-digit registration code from the email.")
                    .on_field(CODE_FIELD)
            })
        });
    };
    let again = move |_| {
        if !busy() {
            resend.dispatch(|| Ok(()));
        }
    };
    let sent_to = if resent {
        format!(
            "We have sent a new registration code to {}.",
            sent.email_hint
        )
    } else {
        format!("We have sent a registration code to {}.", sent.email_hint)
    };
    let until = format!(
        "The code is valid for 15 minutes, until {}.",
        local_time(sent.code_expires_at)
    );
    view! {
        <p id="progress" class="app-progress" role="status" aria-live="polite">
            {move || match confirm.progress() {
                "" => resend.progress(),
                checking => checking,
            }}
        </p>
        <span class="nhsuk-caption-l">"Register for self-service unlock"</span>
        <h1 tabindex="-1">"Enter your registration code"</h1>
        <p id="code-sent">{sent_to}</p>
        <p id="code-expiry">{until}</p>
        {resent.then(|| view! {
            <p id="code-resent">
                "The code we sent before no longer works. Wrong codes you have already entered \
                 still count."
            </p>
        })}
        <form on:submit=submit novalidate>
            {Field::new(CODE_FIELD, "Registration code")
                .hint("registration-code-hint", "The code is 6 digits.")
                .one_time_code()
                .view(reg.problem, code)}
            <button type="submit" id="confirm-code-button" class="nhsuk-button">"Confirm"</button>
        </form>
        <h2 class="nhsuk-heading-s">"If the code has not arrived"</h2>
        <p>"Check your junk folder. Or we can send you a new code: the old one then stops working."</p>
        <button type="button" id="resend-code-button" class="nhsuk-button nhsuk-button--secondary"
            on:click=again>
            "Send a new code"
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reg_4_the_code_expiry_reads_as_people_write_times() {
        assert_eq!(clock_time(0, 0), "midnight");
        assert_eq!(clock_time(12, 0), "midday");
        assert_eq!(clock_time(9, 0), "9am");
        assert_eq!(clock_time(0, 5), "12:05am");
        assert_eq!(clock_time(12, 30), "12:30pm");
        assert_eq!(clock_time(14, 5), "2:05pm");
        assert_eq!(clock_time(23, 59), "11:59pm");
    }
}
