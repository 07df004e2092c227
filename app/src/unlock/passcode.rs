//! Reset Smartcard Passcode (UNL-6, UNL-7): checked here before anything is sent; then the
//! server opens a secure channel to the card through the bridge and sends the sealed
//! script (PIN reset to a one-time PIN, new PUK) that this page relays without being able
//! to read; the server judges the card's MACed answers; then the bridge changes the
//! one-time PIN to the new passcode locally, so the server never learns it (CARD-3).

use api_types::bridge::{
    ChangePinRequest, ChangePinResponse, RelayRequest, RelayResponse, SignedRelay, PATH_CHANGE_PIN,
    PATH_RELAY,
};
use api_types::passcode::{CardPasscode, PasscodeError};
use api_types::unlock::{
    Channel, ChannelRequest, Complete, CompleteRequest, Script, ScriptRequest, SealedScript,
};
use api_types::values::{BoundedVec, ResponseHex};
use api_types::{AttemptId, ErrorCode};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::{Flow, Step, Submit};
use crate::api;
use crate::bridge::Bridge;
use crate::errors::Problem;

#[component]
pub(super) fn PasscodePage(flow: Flow, attempt_id: AttemptId) -> impl IntoView {
    let first = RwSignal::new(String::new());
    let second = RwSignal::new(String::new());
    let field_error = RwSignal::new(None::<(&'static str, String)>);
    let bridge = flow.bridge();
    let update = Submit::new(
        flow,
        "Updating your smartcard… do not remove it.",
        move |passcode: &CardPasscode| {
            let (bridge, attempt_id, passcode) =
                (bridge.clone(), attempt_id.clone(), passcode.clone());
            async move {
                update_card(&bridge, &attempt_id, &passcode)
                    .await
                    .map(|()| Step::Done)
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

/// The card's answers as the server takes them.
fn answers<const N: usize>(relayed: RelayResponse) -> Result<BoundedVec<ResponseHex, N>, Problem> {
    BoundedVec::new(relayed.responses).map_err(|_| Problem::from_code(ErrorCode::CardError))
}

async fn relay(bridge: &Bridge, relay: SignedRelay) -> Result<RelayResponse, Problem> {
    bridge.post(PATH_RELAY, &RelayRequest::from(relay)).await
}

/// The card update, always from a fresh channel (so a retry after any failure starts
/// clean): open the channel, relay the sealed script, let the server judge the card's
/// answers. It says "not updated yet" when it had to reconcile a PUK; then again.
async fn sealed_update(bridge: &Bridge, attempt_id: &AttemptId) -> Result<SealedScript, Problem> {
    let mut tries = 0;
    loop {
        let opening = api::call::<Channel>(attempt_id, &ChannelRequest {}).await?;
        let opened = relay(bridge, opening.relay).await?;
        let request = ScriptRequest {
            card_answers: answers(opened)?,
        };
        let sealed = api::call::<Script>(attempt_id, &request).await?;
        let ran = relay(bridge, sealed.relay.clone()).await?;
        let report = CompleteRequest {
            script_responses: answers(ran)?,
            pin_changed: false,
        };
        match api::call::<Complete>(attempt_id, &report).await {
            Ok(_) => return Ok(sealed),
            Err(problem) if problem.is(ErrorCode::CardUpdateFailed) && tries < 2 => tries += 1,
            Err(problem) => return Err(problem),
        }
    }
}

/// UNL-7 / CARD-3: the sealed card update, then the local change from the one-time PIN
/// to the user's passcode (under the server's grant), then the server is told.
async fn update_card(
    bridge: &Bridge,
    attempt_id: &AttemptId,
    passcode: &CardPasscode,
) -> Result<(), Problem> {
    let sealed = sealed_update(bridge, attempt_id).await?;
    // The server's one-time PIN is a card passcode; anything else is a malformed answer,
    // as a server answer that does not parse is.
    let one_time_pin = CardPasscode::parse(&sealed.one_time_pin).map_err(|_| Problem::network())?;
    bridge
        .post::<_, ChangePinResponse>(
            PATH_CHANGE_PIN,
            &ChangePinRequest {
                grant: Some(sealed.change_pin),
                current_pin: one_time_pin,
                new_pin: passcode.clone(),
                // Right after the reset the card has all its tries (BRG-6).
                confirm_last_try: false,
            },
        )
        .await?;
    let done = CompleteRequest {
        script_responses: BoundedVec::new(Vec::new()).map_err(|_| Problem::network())?,
        pin_changed: true,
    };
    api::call::<Complete>(attempt_id, &done).await?;
    Ok(())
}
