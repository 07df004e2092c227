//! The card passcode, handled on this computer only (CARD-3: the server never learns it).
//!
//! - `POST /v1/card/change-pin`: CHANGE REFERENCE DATA from the current (e.g. one-time)
//!   PIN to the user's new one, with the server's `change_pin` grant for this card
//!   (BRG-5). The card refuses a new PIN equal to one of its last five (`pin_reused`,
//!   CARD-5), except right after an unlock reset (UNL-6).
//! - `POST /v1/card/verify-pin`: VERIFY, no grant (it changes nothing but the tries).
//!
//! Both follow BRG-6: the tries left are read first with the empty VERIFY (which costs
//! none); a blocked PIN is refused, and the last try is spent only with the user's
//! explicit `confirm_last_try`. The passcodes arrive as [`CardPasscode`]s (CARD-2: serde
//! refuses a malformed one, current or new, with `bad_request` before the grant or the
//! card is used); each is wiped as soon as it is in the card's form, the card's PINs and
//! the commands carrying them when dropped or sent, and the card is reset when the bridge
//! leaves it, so the PIN does not stay verified for another program.
//! Card login ([`super::login`]) verifies the PIN by the same rules.

use api_types::bridge::{ChangePinRequest, ChangePinResponse, VerifyPinRequest, VerifyPinResponse};
use api_types::passcode::CardPasscode;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use bridge_grant::Operation;
use card_protocol::client::{CardTransport, PivClient};
use card_protocol::pin::Pin;
use card_protocol::piv::PinStatus;
use zeroize::Zeroize;

use super::card::{open_card, pin_tries};
use super::{request_origin, ApiJson, AppState};
use crate::grants::Asked;
use crate::worker::Leave;
use crate::BridgeError;

/// BRG-6, as a pure rule: whether a PIN may be tried now, given what the empty VERIFY said.
pub fn may_spend_a_try(status: PinStatus, confirm_last_try: bool) -> Result<(), BridgeError> {
    match status {
        PinStatus::Blocked | PinStatus::TriesLeft(0) => Err(BridgeError::PinBlocked),
        PinStatus::TriesLeft(1) if !confirm_last_try => Err(BridgeError::LastTryNeedsConfirmation),
        // Verified: the right PIN that verified it restored the counter.
        PinStatus::Verified | PinStatus::TriesLeft(_) => Ok(()),
    }
}

/// The card's form of a passcode. [`CardPasscode`] has the card's own rule (CARD-2), so
/// this refuses nothing serde let through; should the rules ever part, it is a bad request.
pub(super) fn card_pin(field: &str, passcode: &CardPasscode) -> Result<Pin, BridgeError> {
    Pin::parse(passcode.expose()).map_err(|e| BridgeError::BadRequest(format!("{field}: {e}")))
}

/// After a right PIN: drop its verified state at once (VERIFY P1=FF; the reset on leaving
/// covers cards without it) and read the tries left, which the right PIN restored.
fn tries_after_success<T: CardTransport>(piv: &mut PivClient<T>) -> Result<u8, BridgeError> {
    piv.forget_pin()?;
    let (tries, _) = pin_tries(piv.pin_status()?);
    Ok(tries)
}

pub(super) async fn change_pin(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(mut request): ApiJson<ChangePinRequest>,
) -> Result<Json<ChangePinResponse>, BridgeError> {
    let parsed = card_pin("current_pin", &request.current_pin)
        .and_then(|current| Ok((current, card_pin("new_pin", &request.new_pin)?)));
    request.current_pin.zeroize();
    request.new_pin.zeroize();
    let (current, new) = parsed?;
    let claims = state.grants.admit(
        request.grant.as_ref(),
        &Asked {
            origin: request_origin(&headers)?,
            operations: &[Operation::ChangePin],
            apdus: None,
        },
    )?;
    let confirm_last_try = request.confirm_last_try;
    let pin_tries_left = state
        .worker
        .with_card(Leave::Reset, move |card| {
            let (mut piv, guid) = open_card(card.transport, None)?;
            claims.check_card(&guid)?;
            may_spend_a_try(piv.pin_status()?, confirm_last_try)?;
            piv.change_pin(&current, &new)?;
            tries_after_success(&mut piv)
        })
        .await?;
    Ok(Json(ChangePinResponse { pin_tries_left }))
}

pub(super) async fn verify_pin(
    State(state): State<AppState>,
    ApiJson(mut request): ApiJson<VerifyPinRequest>,
) -> Result<Json<VerifyPinResponse>, BridgeError> {
    let parsed = card_pin("pin", &request.pin);
    request.pin.zeroize();
    let pin = parsed?;
    let confirm_last_try = request.confirm_last_try;
    let pin_tries_left = state
        .worker
        .with_card(Leave::Reset, move |card| {
            let (mut piv, _) = open_card(card.transport, None)?;
            may_spend_a_try(piv.pin_status()?, confirm_last_try)?;
            piv.verify_pin(&pin)?;
            tries_after_success(&mut piv)
        })
        .await?;
    Ok(Json(VerifyPinResponse { pin_tries_left }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)]
    use super::*;

    #[test]
    fn brg_6_the_last_try_needs_confirmation_and_a_blocked_pin_none_at_all() {
        use PinStatus::{Blocked, TriesLeft, Verified};
        for confirm in [false, true] {
            assert!(may_spend_a_try(TriesLeft(3), confirm).is_ok());
            assert!(may_spend_a_try(TriesLeft(2), confirm).is_ok());
            assert!(may_spend_a_try(Verified, confirm).is_ok());
            for blocked in [Blocked, TriesLeft(0)] {
                assert!(matches!(
                    may_spend_a_try(blocked, confirm),
                    Err(BridgeError::PinBlocked)
                ));
            }
        }
        assert!(matches!(
            may_spend_a_try(TriesLeft(1), false),
            Err(BridgeError::LastTryNeedsConfirmation)
        ));
        assert!(may_spend_a_try(TriesLeft(1), true).is_ok());
    }

    proptest::proptest! {
        // CARD-2: the page's passcode rule and the card's PIN rule are one rule, so what
        // serde let through always reaches the card.
        #[test]
        fn card_2_every_card_passcode_is_a_card_pin(text in "\\PC{0,10}") {
            let passcode = CardPasscode::parse(&text);
            proptest::prop_assert_eq!(passcode.is_ok(), Pin::parse(&text).is_ok());
            if let Ok(passcode) = passcode {
                let pin = card_pin("pin", &passcode).unwrap();
                proptest::prop_assert_eq!(pin.len(), text.len());
            }
        }
    }
}
