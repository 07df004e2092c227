//! The self-service unlock API (UNL-1…UNL-8), spoken by the page to the server.
//!
//! Steps, each one call that moves one persisted attempt one step:
//! 1. `POST /api/unlock/start` with the card GUID (read by the bridge) → a challenge.
//! 2. `POST /api/unlock/{id}/card-proof` with the 9E signature → holder name + questions.
//! 3. `POST /api/unlock/{id}/answers` → unlock code emailed.
//! 4. `POST /api/unlock/{id}/code` → the admin script + one-time PIN for the bridge.
//! 5. `POST /api/unlock/{id}/complete` with the card's responses → unlocked.
//!
//! If the card update fails (card pulled, bridge error), `POST /api/unlock/{id}/script`
//! gives a fresh script for the same attempt; the page retries with it.

use serde::{Deserialize, Serialize};

pub const PATH_START: &str = "/api/unlock/start";

pub fn path_card_proof(attempt_id: &str) -> String {
    format!("/api/unlock/{attempt_id}/card-proof")
}
pub fn path_answers(attempt_id: &str) -> String {
    format!("/api/unlock/{attempt_id}/answers")
}
pub fn path_code(attempt_id: &str) -> String {
    format!("/api/unlock/{attempt_id}/code")
}
/// A fresh card script for an attempt whose code was verified, after a failed card try.
pub fn path_script(attempt_id: &str) -> String {
    format!("/api/unlock/{attempt_id}/script")
}
pub fn path_complete(attempt_id: &str) -> String {
    format!("/api/unlock/{attempt_id}/complete")
}

/// `GET /api/config`: public, organisation-specific settings for the page (ALL-4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicConfig {
    pub organisation_name: String,
    /// How to reach the RA team: phone, walk-in centres (ALL-4, UNL-4, UNL-8).
    pub ra_help: String,
    /// Where the page finds the card bridge, e.g. `http://127.0.0.1:9981`.
    pub bridge_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// 16-byte card GUID from the CHUID, hex.
    pub card_guid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartResponse {
    pub attempt_id: String,
    /// 32 random bytes, hex, for the card to sign with its 9E key.
    pub challenge: String,
    /// Unix seconds.
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardProofRequest {
    /// DER ECDSA signature over the challenge, hex.
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardProofResponse {
    /// e.g. "Mr John Rigby" (UNL-2).
    pub holder_name: String,
    /// 2–4 of the user's 4 questions, chosen at random (UNL-3).
    pub questions: Vec<Question>,
    /// Wrong-answer submissions left before self-service closes (UNL-4).
    pub attempts_left: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: u32,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswersRequest {
    pub answers: Vec<Answer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub question_id: u32,
    pub answer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswersResponse {
    /// Masked registered address the code went to, e.g. `j***@nhs.net`.
    pub email_hint: String,
    /// Unix seconds when the emailed code stops working.
    pub code_expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    pub code: String,
}

/// What the page hands the bridge: the admin script (reset retry counter with the PUK
/// to the one-time PIN, rotate the PUK), then a local PIN change from the one-time PIN to
/// the user's new passcode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeResponse {
    pub card_guid: String,
    pub script: crate::bridge::AdminScript,
    pub one_time_pin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    /// The bridge's `RunScriptResponse.responses`, as returned.
    pub script_responses: Vec<String>,
    /// Whether the local change from the one-time PIN to the new passcode succeeded.
    pub pin_changed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteResponse {
    pub unlocked: bool,
}
