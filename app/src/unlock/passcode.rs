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
use crate::widgets::Field;

#[component]
pub(super) fn PasscodePage(flow: Flow, attempt_id: AttemptId) -> impl IntoView {
    let first = RwSignal::new(String::new());
    let second = RwSignal::new(String::new());
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
            // UNL-6 / CARD-2: checked here, before anything reaches the card.
            let passcode =
                CardPasscode::parse_confirmed(&first.get_untracked(), &second.get_untracked())
                    .map_err(|error| {
                        let field = if error == PasscodeError::Mismatch {
                            "confirm-passcode"
                        } else {
                            "new-passcode"
                        };
                        Problem::from_code(ErrorCode::InvalidPasscode)
                            .with_message(&error.to_string())
                            .on_field(field)
                    })?;
            // POL-2: under `nhs-2023`, 6–8 digits.
            if !flow.policy.allows_new_card_passcode(&passcode) {
                return Err(Problem::from_code(ErrorCode::InvalidPasscode)
                    .with_message(flow.policy.new_card_passcode_rule())
                    .on_field("new-passcode"));
            }
            Ok(passcode)
        });
    };
    view! {
        {update.progress_line()}
        <h1 tabindex="-1">"Reset Smartcard Passcode"</h1>
        <p>
            "Please enter the new passcode for your Smartcard in the two spaces below and then press \
             the Confirm button. You may use the passcode you had before."
        </p>
        <form on:submit=submit novalidate>
            {Field::new("new-passcode", "New passcode")
                .hint("new-passcode-hint", flow.policy.new_card_passcode_rule())
                .password("new-password")
                .view(flow.problem, first)}
            {Field::new("confirm-passcode", "Confirm passcode")
                .password("new-password")
                .view(flow.problem, second)}
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
    bridge
        .post::<_, ChangePinResponse>(
            PATH_CHANGE_PIN,
            &ChangePinRequest {
                grant: Some(sealed.change_pin),
                current_pin: sealed.one_time_pin,
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
