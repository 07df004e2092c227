//! `POST /v1/card/login`: the card's half of "Log in with smartcard" (AUTH-1). In one card
//! job: check it is the expected card (`card_changed` otherwise), read the tries left with
//! the empty VERIFY and refuse a blocked PIN or an unconfirmed last try (BRG-6), VERIFY
//! the PIN (a wrong one is counted by the card, AUTH-2), sign with the PIV authentication
//! key (slot 9A, which signs only while the PIN is verified) the digest of the login
//! label, the page's origin and the server's challenge (`SignedFor::Login`: never bytes
//! of the page's choosing), then forget the PIN (VERIFY P1=FF) and reset the card on
//! leaving it.
//!
//! No server grant: nothing on the card changes but the PIN tries, which BRG-6 guards.
//! The server checks the signature against the certificate it issued for this card. As
//! in [`super::pin`], the passcode is wiped as soon as it is in the card's form, and that
//! PIN and the command carrying it when dropped or sent.

use api_types::bridge::{CardLoginRequest, CardLoginResponse};
use api_types::values::CardGuid;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use card_protocol::client::{CardTransport, PivClient};
use card_protocol::sw::StatusWord;
use card_protocol::SignedFor;
use zeroize::Zeroize;

use super::card::{card_signature, open_card};
use super::pin::{card_pin, may_spend_a_try};
use super::{request_origin, ApiJson, AppState};
use crate::worker::Leave;
use crate::BridgeError;

/// GENERAL AUTHENTICATE with 9A; a card with no key there (`6A88`) was never issued
/// for card login.
fn sign_login_challenge<T: CardTransport>(
    piv: &mut PivClient<T>,
    challenge: &[u8; 32],
) -> Result<Vec<u8>, BridgeError> {
    piv.sign_with_piv_auth_key(challenge)
        .map_err(|e| match e.status_word() {
            Some(StatusWord::REF_DATA_NOT_FOUND) => BridgeError::NoLoginKey,
            _ => e.into(),
        })
}

pub(super) async fn card_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(mut request): ApiJson<CardLoginRequest>,
) -> Result<Json<CardLoginResponse>, BridgeError> {
    let parsed = card_pin("pin", &request.pin);
    request.pin.zeroize();
    let pin = parsed?;
    // Issue 17, item 10: the digest of the purpose, the page's origin and the challenge.
    let digest = SignedFor::Login.digest(request_origin(&headers)?, request.challenge.as_bytes());
    let expected = request.expected_guid;
    let confirm_last_try = request.confirm_last_try;
    let response = state
        .worker
        .with_card(Leave::Reset, move |card| {
            let (mut piv, guid) = open_card(card.transport, expected)?;
            may_spend_a_try(piv.pin_status()?, confirm_last_try)?;
            piv.verify_pin(&pin)?;
            let signed = sign_login_challenge(&mut piv, &digest);
            // Whatever the signing gave, the PIN is verified no longer than needed.
            let forgot = piv.forget_pin();
            let signature = signed?;
            forgot?;
            Ok(CardLoginResponse {
                guid: CardGuid::from_bytes(guid),
                signature: card_signature(signature)?,
            })
        })
        .await?;
    Ok(Json(response))
}
