//! Reset Smartcard Passcode (UNL-6, UNL-7): checked here before anything is sent; then the
//! bridge runs the server's script (PIN reset to a one-time PIN, new PUK) and changes the
//! one-time PIN to the new passcode locally, so the server never learns it (CARD-3).

use api_types::bridge::{
    ChangePinRequest, ChangePinResponse, RunScriptRequest, RunScriptResponse, PATH_CHANGE_PIN,
    PATH_RUN_SCRIPT,
};
use api_types::passcode::{CardPasscode, PasscodeError};
use api_types::unlock::{CodeResponse, Complete, CompleteRequest, Script, ScriptRequest};
use api_types::values::{BoundedVec, ResponseHex};
use api_types::{AttemptId, ErrorCode};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::{Flow, Step, Submit};
use crate::api;
use crate::bridge::Bridge;
use crate::errors::Problem;

#[component]
pub(super) fn PasscodePage(flow: Flow, attempt_id: AttemptId, card: CodeResponse) -> impl IntoView {
    let first = RwSignal::new(String::new());
    let second = RwSignal::new(String::new());
    let field_error = RwSignal::new(None::<(&'static str, String)>);
    let card = StoredValue::new(card);
    // After a failed try the card may be half-updated: ask the server for a fresh script.
    let needs_fresh_script = RwSignal::new(false);
    let bridge = flow.bridge();
    let update = Submit::new(
        flow,
        "Updating your smartcard… do not remove it.",
        move |passcode: &CardPasscode| {
            let (bridge, attempt_id, passcode) =
                (bridge.clone(), attempt_id.clone(), passcode.clone());
            async move {
                let updated =
                    update_card(&bridge, &attempt_id, card, needs_fresh_script, &passcode).await;
                if updated.is_err() {
                    needs_fresh_script.set(true);
                }
                updated.map(|()| Step::Done)
            }
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        update.dispatch(|| {
            field_error.set(None);
            // UNL-6 / CARD-2: checked here, before anything reaches the card.
            CardPasscode::parse_confirmed(&first.get_untracked(), &second.get_untracked()).map_err(
                |error| {
                    let field = if error == PasscodeError::Mismatch {
                        "confirm-passcode"
                    } else {
                        "new-passcode"
                    };
                    let message = error.to_string();
                    field_error.set(Some((field, message.clone())));
                    Problem::from_code(ErrorCode::InvalidPasscode)
                        .with_message(&message)
                        .on_field(field)
                },
            )
        });
    };
    let error_for = move |field: &'static str| {
        move || {
            field_error
                .get()
                .filter(|(f, _)| *f == field)
                .map(|(_, message)| {
                    view! {
                        <span class="nhsuk-error-message" id=format!("{field}-error")>
                            <span class="nhsuk-u-visually-hidden">"Error: "</span>
                            {message}
                        </span>
                    }
                })
        }
    };
    let group_class = move |field: &'static str| {
        move || {
            if field_error.get().is_some_and(|(f, _)| f == field) {
                "nhsuk-form-group nhsuk-form-group--error"
            } else {
                "nhsuk-form-group"
            }
        }
    };
    let has_error = move |field: &'static str| field_error.get().is_some_and(|(f, _)| f == field);
    let input_class = move |field: &'static str| {
        move || {
            if has_error(field) {
                "nhsuk-input nhsuk-input--width-10 nhsuk-input--error"
            } else {
                "nhsuk-input nhsuk-input--width-10"
            }
        }
    };
    let described_by = move |field: &'static str, hint: &'static str| {
        move || match (has_error(field), hint.is_empty()) {
            (true, true) => Some(format!("{field}-error")),
            (true, false) => Some(format!("{hint} {field}-error")),
            (false, true) => None,
            (false, false) => Some(hint.to_owned()),
        }
    };
    view! {
        {update.progress_line()}
        <h1 tabindex="-1">"Reset Smartcard Passcode"</h1>
        <p>
            "Please enter the new passcode for your Smartcard in the two spaces below and then press \
             the Confirm button. You may use the passcode you had before."
        </p>
        <form on:submit=submit novalidate>
            <div class=group_class("new-passcode")>
                <label class="nhsuk-label" for="new-passcode">"New passcode"</label>
                <div class="nhsuk-hint" id="new-passcode-hint">
                    "The passcode must be between 4 and 8 characters long. You can use any standard keyboard characters."
                </div>
                {error_for("new-passcode")}
                <input
                    class=input_class("new-passcode")
                    id="new-passcode"
                    name="new-passcode"
                    type="password"
                    autocomplete="new-password"
                    aria-describedby=described_by("new-passcode", "new-passcode-hint")
                    on:input=move |ev| first.set(event_target_value(&ev))
                />
            </div>
            <div class=group_class("confirm-passcode")>
                <label class="nhsuk-label" for="confirm-passcode">"Confirm passcode"</label>
                {error_for("confirm-passcode")}
                <input
                    class=input_class("confirm-passcode")
                    id="confirm-passcode"
                    name="confirm-passcode"
                    type="password"
                    autocomplete="new-password"
                    aria-describedby=described_by("confirm-passcode", "")
                    on:input=move |ev| second.set(event_target_value(&ev))
                />
            </div>
            <button type="submit" id="confirm-button" class="nhsuk-button">"Confirm"</button>
        </form>
    }
}

/// UNL-7 / CARD-3: the bridge runs the server's script (PIN reset to a one-time PIN, new
/// PUK), then changes the one-time PIN to the user's passcode locally; the server records
/// what the card answered.
async fn update_card(
    bridge: &Bridge,
    attempt_id: &AttemptId,
    card: StoredValue<CodeResponse>,
    needs_fresh_script: RwSignal<bool>,
    passcode: &CardPasscode,
) -> Result<(), Problem> {
    if needs_fresh_script.get_untracked() {
        let fresh = api::step::<Script>(attempt_id, &ScriptRequest {}).await?;
        card.set_value(fresh);
        needs_fresh_script.set(false);
    }
    let script = card.get_value();
    let ran: RunScriptResponse = bridge
        .post(
            PATH_RUN_SCRIPT,
            &RunScriptRequest {
                expected_guid: script.card_guid.to_hex(),
                script: script.script.clone(),
            },
        )
        .await?;
    let script_ok = ran.responses.len() == script.script.apdus.len()
        && ran.responses.iter().all(|r| r.ends_with("9000"));
    let changed = if script_ok {
        bridge
            .post::<_, ChangePinResponse>(
                PATH_CHANGE_PIN,
                &ChangePinRequest {
                    expected_guid: script.card_guid.to_hex(),
                    current_pin: script.one_time_pin.clone(),
                    new_pin: passcode.expose().to_owned(),
                },
            )
            .await
            .map(|_| ())
    } else {
        Err(Problem::from_code(ErrorCode::CardUpdateFailed))
    };
    let responses: Result<Vec<ResponseHex>, _> = ran
        .responses
        .iter()
        .map(|r| ResponseHex::parse(r))
        .collect();
    let script_responses = responses
        .and_then(BoundedVec::new)
        .map_err(|_| Problem::from_code(ErrorCode::CardError))?;
    let completed = api::step::<Complete>(
        attempt_id,
        &CompleteRequest {
            script_responses,
            pin_changed: changed.is_ok(),
        },
    )
    .await;
    changed?;
    completed?;
    Ok(())
}
