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

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::values::{
    AttemptId, BoundedVec, CardGuid, CardSignature, Challenge, ResponseHex, SecurityAnswer,
    UnlockCode,
};

/// One server endpoint: its route, request and response, written once so the server's
/// router, the SPA and the tests cannot disagree. Every endpoint is a `POST` of JSON.
pub trait Endpoint {
    /// The axum route; `{id}` stands for the [`AttemptId`].
    const ROUTE: &'static str;
    type Request: Serialize + DeserializeOwned;
    type Response: Serialize + DeserializeOwned;

    /// The concrete path for one attempt (routes without `{id}` are returned as they are).
    fn path(id: &AttemptId) -> String {
        Self::ROUTE.replace("{id}", id.as_str())
    }
}

macro_rules! endpoint {
    ($(#[$doc:meta])* $name:ident, $route:literal, $request:ty => $response:ty) => {
        $(#[$doc])*
        pub struct $name;
        impl Endpoint for $name {
            const ROUTE: &'static str = $route;
            type Request = $request;
            type Response = $response;
        }
    };
}

endpoint!(
    /// UNL-1: the card names itself; the server answers with a challenge.
    Start, "/api/unlock/start", StartRequest => StartResponse
);
endpoint!(
    /// CARD-6 / UNL-2 / UNL-3: the signed challenge; whose card it is and the questions.
    CardProof, "/api/unlock/{id}/card-proof", CardProofRequest => CardProofResponse
);
endpoint!(
    /// UNL-3 / UNL-4 / UNL-5: the answers; a code is emailed.
    Answers, "/api/unlock/{id}/answers", AnswersRequest => AnswersResponse
);
endpoint!(
    /// UNL-5: the emailed code; the card script.
    Code, "/api/unlock/{id}/code", CodeRequest => CodeResponse
);
endpoint!(
    /// A fresh card script for an attempt whose code was verified, after a failed card try.
    Script, "/api/unlock/{id}/script", ScriptRequest => CodeResponse
);
endpoint!(
    /// UNL-7: what the card answered; unlocked.
    Complete, "/api/unlock/{id}/complete", CompleteRequest => CompleteResponse
);

/// `GET`: the organisation's public settings ([`PublicConfig`]).
pub const PATH_CONFIG: &str = "/api/config";
/// `GET`: liveness.
pub const PATH_HEALTH: &str = "/api/health";

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
    /// The card's GUID from its CHUID.
    pub card_guid: CardGuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartResponse {
    pub attempt_id: AttemptId,
    /// For the card to sign with its 9E key.
    pub challenge: Challenge,
    /// Unix seconds.
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardProofRequest {
    /// DER ECDSA signature over the challenge.
    pub signature: CardSignature,
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
    /// One per question asked (at most 4, UNL-3).
    pub answers: BoundedVec<Answer, 4>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub question_id: u32,
    pub answer: SecurityAnswer,
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
    pub code: UnlockCode,
}

/// Asks again for the card script of an attempt whose code was verified.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptRequest {}

/// What the page hands the bridge: the admin script (reset retry counter with the PUK
/// to the one-time PIN, rotate the PUK), then a local PIN change from the one-time PIN to
/// the user's new passcode.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeResponse {
    pub card_guid: CardGuid,
    pub script: crate::bridge::AdminScript,
    pub one_time_pin: String,
}

/// The script holds the PUK and the one-time PIN: never printed.
impl std::fmt::Debug for CodeResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeResponse")
            .field("card_guid", &self.card_guid)
            .field("script", &self.script)
            .field("one_time_pin", &"****")
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    /// The bridge's `RunScriptResponse.responses`, as returned (at most one per command).
    pub script_responses: BoundedVec<ResponseHex, 8>,
    /// Whether the local change from the one-time PIN to the new passcode succeeded.
    pub pin_changed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteResponse {
    pub unlocked: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_7_card_secrets_never_print() {
        let response = CodeResponse {
            card_guid: CardGuid::from_bytes([1; 16]),
            script: crate::bridge::AdminScript {
                apdus: vec!["002c0081103132333435363738".into()],
            },
            one_time_pin: "73914205".into(),
        };
        let printed = format!("{response:?}");
        assert!(!printed.contains("73914205") && !printed.contains("3132333435363738"));
    }

    #[test]
    fn routes_and_paths_come_from_one_place() {
        let id = AttemptId::parse(&"0a".repeat(16)).unwrap();
        assert_eq!(Start::path(&id), "/api/unlock/start");
        assert_eq!(
            CardProof::path(&id),
            format!("/api/unlock/{}/card-proof", "0a".repeat(16))
        );
        assert_eq!(Complete::ROUTE, "/api/unlock/{id}/complete");
    }

    #[test]
    fn all_2_requests_parse_their_values_at_the_boundary() {
        assert!(serde_json::from_str::<StartRequest>(r#"{"card_guid":"zz"}"#).is_err());
        let too_many = format!(
            r#"{{"answers":[{}]}}"#,
            [r#"{"question_id":1,"answer":"a"}"#; 5].join(",")
        );
        assert!(serde_json::from_str::<AnswersRequest>(&too_many).is_err());
        let long = format!(
            r#"{{"answers":[{{"question_id":1,"answer":"{}"}}]}}"#,
            "a".repeat(201)
        );
        assert!(serde_json::from_str::<AnswersRequest>(&long).is_err());
        assert!(serde_json::from_str::<CodeRequest>(r#"{"code":"12a456"}"#).is_err());
        assert!(serde_json::from_str::<ScriptRequest>(r#"{"x":1}"#).is_err());
        assert!(serde_json::from_str::<ScriptRequest>("{}").is_ok());
    }
}
