//! Reading the card (BRG-1): status (readers, the card's GUID, PIN tries read with the
//! empty VERIFY, which costs none — BRG-6), insert/remove events pushed over a WebSocket,
//! and the CARD-6 proof of presence (a challenge signed with the 9E key, no PIN needed).
//! The helper every card job starts with ([`open_card`]) lives here too. Requests carry
//! their challenge and GUID as [`Challenge`] and [`CardGuid`]: serde has refused a
//! malformed one (`bad_request`) before a handler runs.

use api_types::bridge::{
    BridgeStatus, CardEvent, CardInfo, SignChallengeRequest, SignChallengeResponse,
};
use api_types::values::{CardGuid, CardSignature};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use card_protocol::client::{CardTransport, PivClient};
use card_protocol::piv::PinStatus;
use card_protocol::SignedFor;
use tokio::sync::broadcast;

use super::{request_origin, ApiJson, AppState};
use crate::worker::{DynTransport, Leave};
use crate::{BridgeError, CardAccess};

/// PIV's usual PIN retry limit: what a card that just accepted its PIN has left (it does
/// not say how many while the PIN is verified).
pub const DEFAULT_PIN_TRIES: u8 = 3;

/// Selects PIV and reads the GUID, refusing if it is not the card the flow started with.
pub(super) fn open_card(
    transport: &mut dyn CardTransport,
    expected_guid: Option<CardGuid>,
) -> Result<(PivClient<DynTransport<'_>>, [u8; 16]), BridgeError> {
    let mut piv = PivClient::new(DynTransport(transport));
    piv.select()?;
    let guid = piv.read_chuid()?.guid;
    match expected_guid {
        Some(expected) if *expected.as_bytes() != guid => Err(BridgeError::CardChanged),
        _ => Ok((piv, guid)),
    }
}

/// A DER signature from the card, as the wire carries it; one too long for any P-256
/// signature is the card's fault.
pub(super) fn card_signature(der: Vec<u8>) -> Result<CardSignature, BridgeError> {
    CardSignature::from_bytes(der)
        .map_err(|_| BridgeError::CardError("the card's signature is too long".into()))
}

/// Tries left and blocked, from the empty VERIFY.
pub(super) fn pin_tries(status: PinStatus) -> (u8, bool) {
    match status {
        // A verified PIN means the counter is full; the card reports no number then.
        PinStatus::Verified => (DEFAULT_PIN_TRIES, false),
        PinStatus::TriesLeft(n) => (n, n == 0),
        PinStatus::Blocked => (0, true),
    }
}

fn read_status(access: &mut dyn CardAccess) -> Result<BridgeStatus, BridgeError> {
    let readers = access.readers()?;
    let mut card = None;
    if readers.iter().any(|r| r.card_present) {
        let outcome = access.with_card(Leave::AsIs, &mut |inserted| {
            let (mut piv, guid) = open_card(inserted.transport, None)?;
            let (pin_tries_left, pin_blocked) = pin_tries(piv.pin_status()?);
            card = Some(CardInfo {
                reader: inserted.presence.reader.clone(),
                guid: CardGuid::from_bytes(guid),
                pin_tries_left,
                pin_blocked,
            });
            Ok(())
        });
        match outcome {
            // Pulled between listing and reading, or not a PIV card: report no card.
            Ok(()) | Err(BridgeError::NoCard | BridgeError::CardRemoved) => {}
            Err(BridgeError::CardError(detail)) => {
                tracing::info!(%detail, "inserted card is not a readable PIV card");
            }
            Err(other) => return Err(other),
        }
    }
    Ok(BridgeStatus {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        backend: access.backend_name().to_owned(),
        readers,
        card,
        certificate_expires_at: None,
    })
}

pub(super) async fn status(
    State(state): State<AppState>,
) -> Result<Json<BridgeStatus>, BridgeError> {
    let mut status = state.worker.run(read_status).await?;
    status.certificate_expires_at = state.certificate_expires_at;
    Ok(Json(status))
}

pub(super) async fn events(
    State(state): State<AppState>,
    upgrade: WebSocketUpgrade,
) -> axum::response::Response {
    upgrade
        .max_message_size(1024)
        .on_upgrade(move |socket| push_events(socket, state))
}

async fn send_event(socket: &mut WebSocket, event: &CardEvent) -> bool {
    match serde_json::to_string(event) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

async fn send_snapshot(socket: &mut WebSocket, state: &AppState) -> bool {
    match state.worker.run(read_status).await {
        Ok(status) => send_event(socket, &CardEvent::Snapshot { status }).await,
        Err(e) => {
            let text = serde_json::to_string(&e.to_api_error()).unwrap_or_default();
            socket.send(Message::Text(text.into())).await.is_ok()
        }
    }
}

async fn push_events(mut socket: WebSocket, state: AppState) {
    let mut changes = state.events.subscribe();
    if !send_snapshot(&mut socket, &state).await {
        return;
    }
    loop {
        tokio::select! {
            change = changes.recv() => match change {
                Ok(event) => {
                    if !send_event(&mut socket, &event).await || !send_snapshot(&mut socket, &state).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if !send_snapshot(&mut socket, &state).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                // The page has nothing to say; only notice when it goes.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// CARD-6: the 9E key signs — not the page's challenge itself, but its digest bound to
/// this purpose and the page's origin ([`SignedFor`]), so nothing else can be signed.
pub(super) async fn sign_challenge(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<SignChallengeRequest>,
) -> Result<Json<SignChallengeResponse>, BridgeError> {
    let SignChallengeRequest {
        challenge,
        expected_guid,
    } = request;
    let digest = SignedFor::CardProof.digest(request_origin(&headers)?, challenge.as_bytes());
    let response = state
        .worker
        .with_card(Leave::AsIs, move |card| {
            let (mut piv, guid) = open_card(card.transport, expected_guid)?;
            let signature = piv.sign_with_card_auth_key(&digest)?;
            Ok(SignChallengeResponse {
                guid: CardGuid::from_bytes(guid),
                signature: card_signature(signature)?,
            })
        })
        .await?;
    Ok(Json(response))
}
