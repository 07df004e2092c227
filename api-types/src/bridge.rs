//! The card bridge's HTTP/WebSocket API (BRG-1), spoken by the page.
//!
//! Every HTTP call carries `Content-Type: application/json` and the
//! [`BRIDGE_HEADER`] header, so no "simple" cross-origin request can reach the bridge.
//! Binary values are lowercase hex.
//!
//! Parse, don't validate (ALL-2, BRG-2): GUIDs, challenges, signatures, relayed commands,
//! card answers and passcodes are the newtypes of [`crate::values`] and
//! [`crate::passcode`], so serde itself refuses a malformed one — the bridge answers
//! `bad_request` before any handler runs, and the page cannot build a request the bridge
//! would refuse. On the wire they are the same JSON strings as ever.

use serde::{Deserialize, Serialize};

use crate::passcode::CardPasscode;
use crate::values::{BoundedVec, CardGuid, CardSignature, Challenge, CommandHex, ResponseHex};

/// Custom header required on every bridge call (value: [`BRIDGE_HEADER_VALUE`]).
pub const BRIDGE_HEADER: &str = "x-card-bridge";
pub const BRIDGE_HEADER_VALUE: &str = "1";
/// Default loopback port of the bridge.
pub const DEFAULT_BRIDGE_PORT: u16 = 9981;

pub const PATH_STATUS: &str = "/v1/status";
pub const PATH_EVENTS: &str = "/v1/events";
pub const PATH_SIGN_CHALLENGE: &str = "/v1/card/sign-challenge";
pub const PATH_RELAY: &str = "/v1/card/relay";
pub const PATH_CHANGE_PIN: &str = "/v1/card/change-pin";
pub const PATH_VERIFY_PIN: &str = "/v1/card/verify-pin";
pub const PATH_CARD_LOGIN: &str = "/v1/card/login";

/// BRG-7: the bridge's certificate is due for renewal (`card-bridge install` again) this
/// long before it ends: the bridge warns, and "Check my setup" says so.
pub const CERTIFICATE_RENEW_DAYS: i64 = 30;

/// Whether a bridge certificate ending at `not_after` is due for renewal at `now` (unix
/// seconds).
pub fn certificate_due_for_renewal(not_after: i64, now: i64) -> bool {
    not_after - now < CERTIFICATE_RENEW_DAYS * 86_400
}

/// `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BridgeStatus {
    pub version: String,
    /// `"pcsc"` or `"simulated"`.
    pub backend: String,
    pub readers: Vec<ReaderInfo>,
    /// The first card found, if any.
    pub card: Option<CardInfo>,
    /// BRG-7: when the bridge's HTTPS certificate ends (unix seconds); none on plain HTTP.
    #[serde(default)]
    pub certificate_expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReaderInfo {
    pub name: String,
    pub card_present: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CardInfo {
    pub reader: String,
    /// The card's GUID from its CHUID (16 bytes, hex).
    pub guid: CardGuid,
    /// PIN tries left, read with an empty VERIFY (costs no try); 0 when blocked.
    pub pin_tries_left: u8,
    pub pin_blocked: bool,
}

/// Pushed on the `/v1/events` WebSocket as JSON text frames.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignChallengeRequest {
    /// 32 bytes, hex. Signed as a prehashed P-256 digest.
    pub challenge: Challenge,
    /// If set, refuse (card_changed) unless the inserted card has this GUID.
    #[serde(default)]
    pub expected_guid: Option<CardGuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignChallengeResponse {
    pub guid: CardGuid,
    /// DER-encoded ECDSA signature, hex.
    pub signature: CardSignature,
}

/// A grant the server signed for one card-changing bridge operation (BRG-5): `claims` is
/// base64url (no padding) of the JSON claims, `signature` base64url of the 64-byte P-256
/// ECDSA signature (r ‖ s). The page passes it on untouched; the bridge checks it against
/// the server key pinned in its configuration. The claims and their checks live in the
/// `bridge-grant` crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignedGrant {
    pub claims: String,
    pub signature: String,
}

/// A script is a handful of commands; leave room, but not for abuse.
pub const MAX_RELAY_COMMANDS: usize = 8;

/// The commands of one relay: 1 to [`MAX_RELAY_COMMANDS`] APDUs, hex.
pub type RelayCommands = BoundedVec<CommandHex, MAX_RELAY_COMMANDS, 1>;

/// APDUs (hex) built by the server for the card, with the grant that lets the bridge
/// relay exactly these bytes (the grant carries their SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignedRelay {
    pub apdus: RelayCommands,
    pub grant: SignedGrant,
}

/// `POST /v1/card/relay`: relay server-built APDUs to the card in one card transaction,
/// stopping at the first error status word. With an `open_channel` grant the bridge first
/// selects PIV and checks the card's GUID; with a `sealed_script` grant it sends nothing of
/// its own (a plain command would end the secure channel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RelayRequest {
    pub apdus: RelayCommands,
    /// Missing is refused with `grant_missing` (not a parse error).
    #[serde(default)]
    pub grant: Option<SignedGrant>,
}

impl From<SignedRelay> for RelayRequest {
    fn from(relay: SignedRelay) -> Self {
        Self {
            apdus: relay.apdus,
            grant: Some(relay.grant),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RelayResponse {
    /// One response APDU (data + SW, hex) per command that ran.
    pub responses: Vec<ResponseHex>,
}

/// `POST /v1/card/change-pin`: CHANGE REFERENCE DATA for the PIN, done locally so the
/// server never learns the new passcode (CARD-3). Needs a `change_pin` grant (BRG-5);
/// the bridge reads the tries left first and will not spend the last one unless
/// `confirm_last_try` (BRG-6).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangePinRequest {
    #[serde(default)]
    pub grant: Option<SignedGrant>,
    pub current_pin: CardPasscode,
    pub new_pin: CardPasscode,
    #[serde(default)]
    pub confirm_last_try: bool,
}

/// Both PINs are secrets: never printed.
impl std::fmt::Debug for ChangePinRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangePinRequest")
            .field("confirm_last_try", &self.confirm_last_try)
            .finish_non_exhaustive()
    }
}

/// `POST /v1/card/verify-pin`: VERIFY the PIN (BRG-6: tries read first, the last one only
/// with `confirm_last_try`). The bridge resets the card when it leaves it, so the PIN
/// does not stay verified for another program.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyPinRequest {
    pub pin: CardPasscode,
    #[serde(default)]
    pub confirm_last_try: bool,
}

impl std::fmt::Debug for VerifyPinRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyPinRequest")
            .field("confirm_last_try", &self.confirm_last_try)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyPinResponse {
    pub pin_tries_left: u8,
}

/// `POST /v1/card/login` (AUTH-1): in one card transaction, VERIFY the PIN (BRG-6: tries
/// read first, the last one only with `confirm_last_try`), then sign the server's 32-byte
/// login challenge with the PIV authentication key (slot 9A, ECDSA P-256). The bridge
/// resets the card when it leaves it, so the PIN does not stay verified.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CardLoginRequest {
    /// 32 bytes, hex. Signed as a prehashed P-256 digest.
    pub challenge: Challenge,
    pub pin: CardPasscode,
    #[serde(default)]
    pub confirm_last_try: bool,
    /// If set, refuse (card_changed) unless the inserted card has this GUID.
    #[serde(default)]
    pub expected_guid: Option<CardGuid>,
}

impl std::fmt::Debug for CardLoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardLoginRequest")
            .field("confirm_last_try", &self.confirm_last_try)
            .field("expected_guid", &self.expected_guid)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CardLoginResponse {
    pub guid: CardGuid,
    /// DER-encoded ECDSA signature by the 9A key, hex.
    pub signature: CardSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangePinResponse {
    pub pin_tries_left: u8,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn guid() -> String {
        "ab".repeat(16)
    }

    #[test]
    fn brg_2_malformed_values_are_refused_by_serde() {
        let challenge = "cd".repeat(32);
        let bad_requests = [
            json!({"challenge": "cd".repeat(31)}),
            json!({"challenge": "zz".repeat(32)}),
            json!({"challenge": challenge, "expected_guid": "abcd"}),
            json!({"challenge": 7}),
        ];
        for bad in bad_requests {
            assert!(
                serde_json::from_value::<SignChallengeRequest>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        for pin in ["123", "123456789", "12\u{e9}4", "12\t4"] {
            let verify = json!({"pin": pin});
            assert!(
                serde_json::from_value::<VerifyPinRequest>(verify).is_err(),
                "{pin:?}"
            );
            let login = json!({"challenge": challenge, "pin": pin});
            assert!(
                serde_json::from_value::<CardLoginRequest>(login).is_err(),
                "{pin:?}"
            );
            for (current, new) in [(pin, "1234"), ("1234", pin)] {
                let change = json!({"current_pin": current, "new_pin": new});
                assert!(serde_json::from_value::<ChangePinRequest>(change).is_err());
            }
        }
        let bad_answers = [
            json!({"guid": "ab", "signature": "3000"}),
            json!({"guid": guid(), "signature": "30 00"}),
            json!({"guid": guid(), "signature": "00".repeat(129)}),
        ];
        for bad in bad_answers {
            assert!(
                serde_json::from_value::<CardLoginResponse>(bad.clone()).is_err(),
                "{bad}"
            );
            assert!(serde_json::from_value::<SignChallengeResponse>(bad).is_err());
        }
        let card = json!({"reader": "R", "guid": "xy", "pin_tries_left": 3, "pin_blocked": false});
        assert!(serde_json::from_value::<CardInfo>(card).is_err());
        let relayed = json!({"responses": ["9000", "9g00"]});
        assert!(serde_json::from_value::<RelayResponse>(relayed).is_err());
        let select = "00a4040009a00000030800001000";
        let bad_relays = [
            json!([]),
            json!(vec![select; MAX_RELAY_COMMANDS + 1]),
            json!(["zz000000"]),
            json!(["00a4040"]),
            json!([""]),
            json!(["00a404"]),
            json!(["00".repeat(513)]),
            json!([7]),
        ];
        for apdus in bad_relays {
            let request = json!({"apdus": apdus});
            assert!(
                serde_json::from_value::<RelayRequest>(request).is_err(),
                "{apdus}"
            );
        }
    }

    #[test]
    fn brg_1_the_wire_json_is_the_same_strings_as_before() {
        let login: CardLoginRequest = serde_json::from_value(json!({
            "challenge": "CD".repeat(32),
            "pin": "a b!~8*(",
            "expected_guid": guid(),
        }))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&login).unwrap(),
            json!({
                "challenge": "cd".repeat(32),
                "pin": "a b!~8*(",
                "confirm_last_try": false,
                "expected_guid": guid(),
            })
        );
        let change: ChangePinRequest =
            serde_json::from_value(json!({"current_pin": "1234", "new_pin": "5678"})).unwrap();
        let sent: Value = serde_json::to_value(&change).unwrap();
        assert_eq!(
            (sent["current_pin"].as_str(), sent["new_pin"].as_str()),
            (Some("1234"), Some("5678"))
        );
        let signed = json!({"guid": guid(), "signature": "3006020101020102"});
        let answer: SignChallengeResponse = serde_json::from_value(signed.clone()).unwrap();
        assert_eq!(serde_json::to_value(&answer).unwrap(), signed);
        let relayed = json!({"responses": ["9000", "0102639c"]});
        let answer: RelayResponse = serde_json::from_value(relayed.clone()).unwrap();
        assert_eq!(serde_json::to_value(&answer).unwrap(), relayed);
        let grant = json!({"claims": "e30", "signature": "AA"});
        let relay = json!({"apdus": ["8050000008", "84820000"], "grant": grant});
        let request: RelayRequest = serde_json::from_value(relay.clone()).unwrap();
        assert_eq!(serde_json::to_value(&request).unwrap(), relay);
        let signed: SignedRelay = serde_json::from_value(relay.clone()).unwrap();
        assert_eq!(serde_json::to_string(&signed).unwrap(), relay.to_string());
    }

    #[test]
    fn all_7_requests_never_print_a_passcode() {
        let login: CardLoginRequest = serde_json::from_value(json!({
            "challenge": "cd".repeat(32),
            "pin": "s3cret",
        }))
        .unwrap();
        let verify: VerifyPinRequest = serde_json::from_value(json!({"pin": "s3cret"})).unwrap();
        let change: ChangePinRequest =
            serde_json::from_value(json!({"current_pin": "s3cret", "new_pin": "n3wone"})).unwrap();
        let shown = format!("{login:?} {verify:?} {change:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("n3wone"),
            "{shown}"
        );
    }
}
