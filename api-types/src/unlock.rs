//! The self-service unlock API (UNL-1…UNL-8), spoken by the page to the server.
//!
//! Steps, each one call that moves one persisted attempt one step:
//! 1. `POST /api/unlock/start` with the card GUID (read by the bridge) → a challenge.
//! 2. `POST /api/unlock/{id}/card-proof` with the 9E signature → holder name + questions.
//! 3. `POST /api/unlock/{id}/answers` → unlock code emailed.
//! 4. `POST /api/unlock/{id}/code` → accepted; the page asks for the new passcode.
//! 5. `POST /api/unlock/{id}/channel` → the opening of a secure channel to the card (SCP03
//!    INITIALIZE UPDATE), with a grant for the bridge to relay it.
//! 6. `POST /api/unlock/{id}/script` with the card's answers → EXTERNAL AUTHENTICATE and
//!    the sealed unlock script (reset the PIN to a one-time PIN, rotate the PUK), the
//!    one-time PIN, and a grant for the bridge's local PIN change.
//! 7. `POST /api/unlock/{id}/complete` with the card's sealed answers → card updated. The
//!    server judges only answers that carry the card's R-MAC for this channel (CARD-3).
//!    The bridge then changes the one-time PIN to the new passcode, and the page says so
//!    with `POST /api/unlock/{id}/complete` again (`pin_changed`) → unlocked.
//!
//! [`crate::recovery`] has the routes that send a one-time code without the questions.
//!
//! If anything fails after the code was accepted (card pulled, bridge stopped, page
//! reloaded), the page starts again at step 5 for the same attempt: no second emailed
//! code.

use serde::{Deserialize, Serialize};

use crate::endpoint::NotJson;
use crate::endpoints;
use crate::passcode::CardPasscode;
use crate::recovery::{DeliveryOption, TypedCode, UnlockRoute};
use crate::values::{
    AttemptId, BoundedVec, CardGuid, CardSignature, Challenge, ResponseHex, SecurityAnswer,
};

endpoints! {
    /// UNL-1: the card names itself; the server answers with a challenge.
    @201 Start = POST "/api/unlock/start", StartRequest => StartResponse,
        refuses [RouteNotOffered, UnknownCard, RateLimited];
    /// CARD-3: after a reload, the attempt this browser's flow cookie holds for this card,
    /// if its code was accepted and the card update is not finished: the page goes on
    /// with it, and no second code is emailed.
    Resume = POST "/api/unlock/resume", ResumeRequest => ResumeResponse,
        refuses [NotFound, RateLimited];
    /// CARD-6 / UNL-2 / UNL-3: the signed challenge; whose card it is and the questions.
    CardProof = POST "/api/unlock/{id}/card-proof" AttemptId, CardProofRequest => CardProofResponse,
        refuses [AlreadyUnlocked, AttemptEnded, AttemptExpired, WrongStep, CertificateNotValid,
            CardNotGenuine, NotRegistered, SelfServiceClosed, PasscodesLocked, RecoveryClosed,
            NoDeliveryChannel, RateLimited];
    /// UNL-3 / UNL-4 / UNL-5: the answers; a code is emailed.
    Answers = POST "/api/unlock/{id}/answers" AttemptId, AnswersRequest => AnswersResponse,
        refuses [SelfServiceClosed, AlreadyUnlocked, AttemptEnded, AttemptExpired, WrongStep,
            WrongAnswers, RateLimited];
    /// UNL-5: the emailed code; the opening of the secure channel to the card.
    Code = POST "/api/unlock/{id}/code" AttemptId, CodeRequest => CodeAccepted,
        refuses [RecoveryClosed, SelfServiceClosed, AlreadyUnlocked, AttemptEnded, AttemptExpired,
            CodeAlreadyUsed, WrongStep, CodeInvalid, CodeTriesExhausted, CodeExpired, RateLimited];
    /// RA-3: instead of the questions and the emailed code, a code the RA team read out on
    /// the phone — accepted after the card proved itself, also when self-service is closed
    /// or the user never registered (UNL-4, UNL-8), and only for this card's own user.
    RaCode = POST "/api/unlock/{id}/ra-code" AttemptId, CodeRequest => CodeAccepted,
        refuses [AlreadyUnlocked, AttemptEnded, AttemptExpired, WrongStep, NoRaCode, CodeInvalid,
            CodeTriesExhausted, CodeExpired, RateLimited];
    /// CARD-3: the opening of a secure channel to the card, for an attempt whose code was
    /// verified (again after any failure).
    Channel = POST "/api/unlock/{id}/channel" AttemptId, ChannelRequest => ChannelOpen,
        refuses [AlreadyUnlocked, AttemptEnded, AttemptExpired, WrongStep, RateLimited];
    /// CARD-3: the card's answers to the opening; the sealed unlock script.
    Script = POST "/api/unlock/{id}/script" AttemptId, ScriptRequest => SealedScript,
        refuses [AlreadyUnlocked, AttemptEnded, AttemptExpired, WrongStep, ChannelFailed,
            RateLimited];
    /// UNL-7: what the card answered; unlocked.
    Complete = POST "/api/unlock/{id}/complete" AttemptId, CompleteRequest => CompleteResponse,
        refuses [AlreadyUnlocked, AttemptEnded, AttemptExpired, WrongStep, CardUpdateFailed,
            CardRefusedUpdate, RateLimited];
    /// ALL-4: the organisation's public settings.
    Config = GET "/api/config", () => PublicConfig, refuses [];
    /// CERT-1: the certificate authority's certificate, PEM — what relying parties and
    /// `openssl verify` check card certificates against. Not JSON: a file to download.
    CaCertificate = GET "/api/ca-certificate", () => NotJson, refuses [];
    /// CERT-5: the CA's signed certificate revocation list, DER, with its next-update
    /// time — what relying parties and `openssl verify -crl_check` read. Not JSON.
    Crl = GET "/api/crl", () => NotJson, refuses [];
    /// Liveness, for load balancers and `cargo xtask`: the text `ok`, not JSON.
    Health = GET "/api/health", () => NotJson, refuses [];
}

/// `GET /api/config`: public, organisation-specific settings for the page (ALL-4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PublicConfig {
    pub organisation_name: String,
    /// How to reach the RA team: phone, walk-in centres (ALL-4, UNL-4, UNL-8).
    pub ra_help: String,
    /// Where the page finds the card bridge, e.g. `http://127.0.0.1:9981`.
    pub bridge_url: String,
    /// REG-3: the domains an email address may be on, so the page judges an address the
    /// way the server will before it asks the card for anything.
    pub approved_email_domains: Vec<String>,
    /// POL-1: whose rules apply; the page uses this profile's words.
    pub policy: crate::policy::Policy,
    /// PASS-4: how the passcodes age, for the page's timeline.
    pub passcode_expiry: crate::passcodes::PasscodeExpiry,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// The card's GUID from its CHUID.
    pub card_guid: CardGuid,
    /// Which way the unlock goes (POL-1): the questions unless the page asks otherwise.
    #[serde(default)]
    pub route: UnlockRoute,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartResponse {
    pub attempt_id: AttemptId,
    /// For the card to sign with its 9E key.
    pub challenge: Challenge,
    /// Unix seconds.
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResumeRequest {
    /// The card in the reader: only its own attempt is resumed.
    pub card_guid: CardGuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResumeResponse {
    /// The attempt, at the card update (its code was accepted).
    pub attempt_id: AttemptId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CardProofRequest {
    /// DER ECDSA signature over the challenge.
    pub signature: CardSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CardProofResponse {
    /// e.g. "Mr John Rigby" (UNL-2).
    pub holder_name: String,
    /// 2–4 of the user's 4 questions, chosen at random (UNL-3).
    pub questions: Vec<Question>,
    /// Wrong-answer submissions left before self-service closes (UNL-4); on the SCSC
    /// route, wrong Account Recovery details left (SCSC-4).
    pub attempts_left: u32,
    /// POL-3: the ways the code may be sent (the `nhs_2023` route only; the SCSC route
    /// lists them once the holder is recognised).
    #[serde(default)]
    pub options: Vec<DeliveryOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: u32,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnswersRequest {
    /// One per question asked (at most 4, UNL-3).
    pub answers: BoundedVec<Answer, 4>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub question_id: u32,
    pub answer: SecurityAnswer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnswersResponse {
    /// Masked registered address the code went to, e.g. `j***@nhs.net`.
    pub email_hint: String,
    /// Unix seconds when the emailed code stops working.
    pub code_expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    pub code: TypedCode,
}

/// The code was right: the card update may begin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CodeAccepted {
    pub card_guid: CardGuid,
}

/// Asks for a fresh channel opening for an attempt whose code was verified.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelRequest {}

/// What the page hands the bridge to open the secure channel: SCP03 INITIALIZE UPDATE
/// with a fresh host challenge, under an `open_channel` grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelOpen {
    pub card_guid: CardGuid,
    pub relay: crate::bridge::SignedRelay,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScriptRequest {
    /// The bridge's `RelayResponse.responses` for the opening, as returned.
    pub card_answers: BoundedVec<ResponseHex, 4>,
}

/// The sealed unlock script for the bridge to relay (EXTERNAL AUTHENTICATE, then RESET
/// RETRY COUNTER and the PUK change, encrypted and MACed for the card), then the local
/// PIN change from the one-time PIN to the user's new passcode, under its own grant.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SealedScript {
    pub card_guid: CardGuid,
    pub relay: crate::bridge::SignedRelay,
    /// The only secret that leaves the channel (CARD-3): it goes to the bridge, as the
    /// current PIN of the local change, so it is a card passcode like any other.
    pub one_time_pin: CardPasscode,
    pub change_pin: crate::bridge::SignedGrant,
}

/// The one-time PIN is a secret: never printed.
impl std::fmt::Debug for SealedScript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedScript")
            .field("card_guid", &self.card_guid)
            .field("relay", &self.relay)
            .field("one_time_pin", &"****")
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    /// The bridge's `RelayResponse.responses` for the sealed script, as returned.
    pub script_responses: BoundedVec<ResponseHex, 8>,
    /// Whether the local change from the one-time PIN to the new passcode succeeded.
    pub pin_changed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CompleteResponse {
    /// The card's own (MACed) answers say its PIN was reset to the one-time PIN.
    pub card_updated: bool,
    /// The new passcode is set: the unlock is finished.
    pub unlocked: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_7_card_secrets_never_print() {
        let grant = crate::bridge::SignedGrant {
            claims: "e30".into(),
            signature: "AA".into(),
        };
        let response = SealedScript {
            card_guid: CardGuid::from_bytes([1; 16]),
            relay: crate::bridge::SignedRelay {
                apdus: BoundedVec::new(vec![crate::values::CommandHex::parse("84820000").unwrap()])
                    .unwrap(),
                grant: grant.clone(),
            },
            one_time_pin: CardPasscode::parse("73914205").unwrap(),
            change_pin: grant,
        };
        let printed = format!("{response:?}");
        assert!(!printed.contains("73914205"));
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
        assert!(serde_json::from_str::<ChannelRequest>(r#"{"x":1}"#).is_err());
        assert!(serde_json::from_str::<ChannelRequest>("{}").is_ok());
        let five = format!(r#"{{"card_answers":[{}]}}"#, [r#""9000""#; 5].join(","));
        assert!(serde_json::from_str::<ScriptRequest>(&five).is_err());
    }

    #[test]
    fn card_3_the_one_time_pin_is_a_card_passcode_sent_as_the_same_string() {
        let sealed = |pin: &str| {
            let grant = r#"{"claims":"e30","signature":"AA"}"#;
            format!(
                r#"{{"card_guid":"{}","relay":{{"apdus":["84820000"],"grant":{grant}}},"#,
                "01".repeat(16)
            ) + &format!(r#""one_time_pin":"{pin}","change_pin":{grant}}}"#)
        };
        let text = sealed("Ab3dE6g8");
        let parsed: SealedScript = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed.one_time_pin.expose(), "Ab3dE6g8");
        assert_eq!(serde_json::to_string(&parsed).unwrap(), text);
        for bad in ["123", "123456789", "12\\t45678"] {
            assert!(
                serde_json::from_str::<SealedScript>(&sealed(bad)).is_err(),
                "{bad}"
            );
        }
    }
}
