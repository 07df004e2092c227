//! The card bridge's HTTP/WebSocket API (BRG-1), spoken by the page.
//!
//! Every HTTP call carries `Content-Type: application/json` and the
//! [`BRIDGE_HEADER`] header, so no "simple" cross-origin request can reach the bridge.
//! Binary values are lowercase hex.

use serde::{Deserialize, Serialize};

/// Custom header required on every bridge call (value: [`BRIDGE_HEADER_VALUE`]).
pub const BRIDGE_HEADER: &str = "x-card-bridge";
pub const BRIDGE_HEADER_VALUE: &str = "1";
/// Default loopback port of the bridge.
pub const DEFAULT_BRIDGE_PORT: u16 = 9981;

pub const PATH_STATUS: &str = "/v1/status";
pub const PATH_EVENTS: &str = "/v1/events";
pub const PATH_SIGN_CHALLENGE: &str = "/v1/card/sign-challenge";
pub const PATH_RUN_SCRIPT: &str = "/v1/card/run-script";
pub const PATH_CHANGE_PIN: &str = "/v1/card/change-pin";

/// `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeStatus {
    pub version: String,
    /// `"pcsc"` or `"simulated"`.
    pub backend: String,
    pub readers: Vec<ReaderInfo>,
    /// The first card found, if any.
    pub card: Option<CardInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderInfo {
    pub name: String,
    pub card_present: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardInfo {
    pub reader: String,
    /// The card's GUID from its CHUID (16 bytes, hex).
    pub guid: String,
    /// PIN tries left, read with an empty VERIFY (costs no try); 0 when blocked.
    pub pin_tries_left: u8,
    pub pin_blocked: bool,
}

/// Pushed on the `/v1/events` WebSocket as JSON text frames.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub enum CardEvent {
    /// Sent once on connect, then after every change.
    Snapshot {
        status: BridgeStatus,
    },
    Inserted {
        reader: String,
    },
    Removed {
        reader: String,
    },
}

/// `POST /v1/card/sign-challenge`: sign a 32-byte server challenge with the card
/// authentication key (slot 9E, ECDSA P-256, no PIN needed) — CARD-6.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignChallengeRequest {
    /// 32 bytes, hex. Signed as a prehashed P-256 digest.
    pub challenge: String,
    /// If set, refuse (card_changed) unless the inserted card has this GUID.
    #[serde(default)]
    pub expected_guid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignChallengeResponse {
    pub guid: String,
    /// DER-encoded ECDSA signature, hex.
    pub signature: String,
}

/// `POST /v1/card/run-script`: run server-built admin APDUs in one card transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunScriptRequest {
    pub expected_guid: String,
    pub script: AdminScript,
}

/// A list of command APDUs (hex) built by the server. Run in order; the run stops at the
/// first response whose status word is not 9000.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminScript {
    pub apdus: Vec<String>,
}

/// The commands carry the PUK: only their number is printed.
impl std::fmt::Debug for AdminScript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AdminScript({} APDUs)", self.apdus.len())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunScriptResponse {
    /// One response APDU (data + SW, hex) per command that ran.
    pub responses: Vec<String>,
}

/// `POST /v1/card/change-pin`: CHANGE REFERENCE DATA for the PIN, done locally so the
/// server never learns the new passcode (CARD-3).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePinRequest {
    pub expected_guid: String,
    pub current_pin: String,
    pub new_pin: String,
}

/// Both PINs are secrets: never printed.
impl std::fmt::Debug for ChangePinRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangePinRequest")
            .field("expected_guid", &self.expected_guid)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePinResponse {
    pub pin_tries_left: u8,
}
