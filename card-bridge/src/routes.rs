//! The bridge's endpoints (BRG-1). Handlers validate input, then hand one job to the card
//! worker; none of them accepts a raw APDU from the page except the server-built admin
//! script, restricted to the commands an unlock needs.

use std::sync::Arc;

use api_types::bridge::{
    AdminScript, BridgeStatus, CardEvent, CardInfo, ChangePinRequest, ChangePinResponse,
    RunScriptRequest, RunScriptResponse, SignChallengeRequest, SignChallengeResponse,
    PATH_CHANGE_PIN, PATH_EVENTS, PATH_RUN_SCRIPT, PATH_SIGN_CHALLENGE, PATH_STATUS,
};
use api_types::passcode::CardPasscode;
use axum::extract::rejection::JsonRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use card_protocol::apdu::CommandApdu;
use card_protocol::client::{CardTransport, PivClient};
use card_protocol::pin::Pin;
use card_protocol::piv::PinStatus;
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;
use zeroize::Zeroize;

use crate::security::{guard, Security};
use crate::worker::DynTransport;
use crate::{BridgeError, CardAccess, CardWorker};

/// Request bodies are tiny; anything bigger is refused before parsing (BRG-2).
pub const BODY_LIMIT: usize = 16 * 1024;
/// An unlock script is three commands; leave room, but not for abuse.
pub const MAX_SCRIPT_COMMANDS: usize = 8;

#[derive(Clone)]
pub struct AppState {
    pub worker: CardWorker,
    pub events: broadcast::Sender<CardEvent>,
    pub security: Arc<Security>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(PATH_STATUS, get(status))
        .route(PATH_EVENTS, get(events))
        .route(PATH_SIGN_CHALLENGE, post(sign_challenge))
        .route(PATH_RUN_SCRIPT, post(run_script))
        .route(PATH_CHANGE_PIN, post(change_pin))
        .fallback(|| async { BridgeError::NotFound })
        .method_not_allowed_fallback(|| async { BridgeError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.security.clone(),
            guard,
        ))
        .with_state(state)
}

/// JSON body extractor whose refusals are [`BridgeError`]s, not axum's plain text.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = BridgeError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => BridgeError::UnsupportedMediaType,
                other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    BridgeError::PayloadTooLarge
                }
                other => BridgeError::BadRequest(other.body_text()),
            }),
        }
    }
}

fn decode_hex(field: &str, value: &str) -> Result<Vec<u8>, BridgeError> {
    hex::decode(value).map_err(|_| BridgeError::BadRequest(format!("{field} must be hex")))
}

fn decode_guid(value: &str) -> Result<[u8; 16], BridgeError> {
    decode_hex("expected_guid", value)?
        .try_into()
        .map_err(|_| BridgeError::BadRequest("expected_guid must be 16 bytes".into()))
}

/// Selects PIV and reads the GUID, refusing if it is not the card the flow started with.
fn open_card(
    transport: &mut dyn CardTransport,
    expected_guid: Option<[u8; 16]>,
) -> Result<(PivClient<DynTransport<'_>>, [u8; 16]), BridgeError> {
    let mut piv = PivClient::new(DynTransport(transport));
    piv.select()?;
    let guid = piv.read_chuid()?.guid;
    match expected_guid {
        Some(expected) if expected != guid => Err(BridgeError::CardChanged),
        _ => Ok((piv, guid)),
    }
}

fn pin_tries(status: PinStatus) -> (u8, bool) {
    match status {
        // A verified session means the counter is full; the card reports no number then.
        PinStatus::Verified => (3, false),
        PinStatus::TriesLeft(n) => (n, n == 0),
        PinStatus::Blocked => (0, true),
    }
}

fn read_status(access: &mut dyn CardAccess) -> Result<BridgeStatus, BridgeError> {
    let readers = access.readers()?;
    let mut card = None;
    if readers.iter().any(|r| r.card_present) {
        let outcome = access.with_card(&mut |reader, transport| {
            let (mut piv, guid) = open_card(transport, None)?;
            let (pin_tries_left, pin_blocked) = pin_tries(piv.pin_status()?);
            card = Some(CardInfo {
                reader: reader.to_owned(),
                guid: hex::encode(guid),
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
    })
}

async fn status(State(state): State<AppState>) -> Result<Json<BridgeStatus>, BridgeError> {
    Ok(Json(state.worker.run(read_status).await?))
}

async fn events(
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

async fn sign_challenge(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<SignChallengeRequest>,
) -> Result<Json<SignChallengeResponse>, BridgeError> {
    let challenge: [u8; 32] = decode_hex("challenge", &request.challenge)?
        .try_into()
        .map_err(|_| BridgeError::BadRequest("challenge must be 32 bytes".into()))?;
    let expected = request
        .expected_guid
        .as_deref()
        .map(decode_guid)
        .transpose()?;
    let response = state
        .worker
        .with_card(move |_reader, transport| {
            let (mut piv, guid) = open_card(transport, expected)?;
            let signature = piv.sign_with_card_auth_key(&challenge)?;
            Ok(SignChallengeResponse {
                guid: hex::encode(guid),
                signature: hex::encode(signature),
            })
        })
        .await?;
    Ok(Json(response))
}

/// Only what an unlock needs: SELECT, RESET RETRY COUNTER, CHANGE REFERENCE DATA.
fn parse_admin_script(script: &AdminScript) -> Result<Vec<Vec<u8>>, BridgeError> {
    if script.apdus.is_empty() || script.apdus.len() > MAX_SCRIPT_COMMANDS {
        return Err(BridgeError::BadRequest(format!(
            "a script has 1 to {MAX_SCRIPT_COMMANDS} commands"
        )));
    }
    script
        .apdus
        .iter()
        .map(|text| {
            let bytes = decode_hex("apdus", text)?;
            let command = CommandApdu::parse(&bytes)
                .map_err(|e| BridgeError::BadRequest(format!("bad APDU: {e}")))?;
            match (command.cla, command.ins) {
                (0x00, 0xA4 | 0x2C | 0x24) => Ok(bytes),
                (cla, ins) => Err(BridgeError::CommandNotAllowed(format!(
                    "CLA {cla:02X} INS {ins:02X}"
                ))),
            }
        })
        .collect()
}

async fn run_script(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RunScriptRequest>,
) -> Result<Json<RunScriptResponse>, BridgeError> {
    let expected = decode_guid(&request.expected_guid)?;
    let commands = parse_admin_script(&request.script)?;
    let responses = state
        .worker
        .with_card(move |_reader, transport| {
            let (mut piv, _) = open_card(transport, Some(expected))?;
            Ok(piv.run_script(&commands)?)
        })
        .await?;
    Ok(Json(RunScriptResponse {
        responses: responses.iter().map(hex::encode).collect(),
    }))
}

async fn change_pin(
    State(state): State<AppState>,
    ApiJson(mut request): ApiJson<ChangePinRequest>,
) -> Result<Json<ChangePinResponse>, BridgeError> {
    let parsed = (|| {
        let expected = decode_guid(&request.expected_guid)?;
        CardPasscode::parse(&request.new_pin)?;
        let current = Pin::parse(&request.current_pin)
            .map_err(|e| BridgeError::BadRequest(format!("current_pin: {e}")))?;
        let new = Pin::parse(&request.new_pin)
            .map_err(|e| BridgeError::BadRequest(format!("new_pin: {e}")))?;
        Ok::<_, BridgeError>((expected, current, new))
    })();
    request.current_pin.zeroize();
    request.new_pin.zeroize();
    let (expected, current, new) = parsed?;
    let pin_tries_left = state
        .worker
        .with_card(move |_reader, transport| {
            let (mut piv, _) = open_card(transport, Some(expected))?;
            piv.change_pin(&current, &new)?;
            let (tries, _) = pin_tries(piv.pin_status()?);
            Ok(tries)
        })
        .await?;
    Ok(Json(ChangePinResponse { pin_tries_left }))
}
