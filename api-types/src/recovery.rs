//! The one-time-passcode unlocks, spoken by the page to the server: the Smartcard Service
//! Centre route of seed 000 (SCSC-1…SCSC-4) and the NHS's own since 2023 (POL-3). Both are
//! the unlock attempt of [`crate::unlock`] with another middle:
//!
//! 1. `POST /api/unlock/start` with `route` `scsc` or `nhs_2023`, then `card-proof` as
//!    ever: the card proves itself first (CARD-6), nothing typed identifies it.
//! 2. SCSC only: `POST /api/unlock/{id}/recovery` with the User's Unique Identifier, the
//!    Family Name and the Account Recovery Passcode → the ways a code can be sent. A wrong
//!    one of the three, or a card that is not that user's, gets one answer (SCSC-4).
//! 3. `POST /api/unlock/{id}/send-code` with Email or SMS → the code is sent.
//! 4. `POST /api/unlock/{id}/code` with the code; then the card update, as ever (CARD-3).

use serde::{Deserialize, Serialize};

use crate::endpoints;
use crate::passcodes::AccountPasscode;
use crate::ra::UserUuid;
use crate::values::{AttemptId, UnlockCode, ValueError};

endpoints! {
    /// SCSC-1 / SCSC-4: who the card's holder says they are; the ways a code may go.
    Recovery = POST "/api/unlock/{id}/recovery" AttemptId, RecoveryRequest => RecoveryAccepted,
        refuses [RecoveryClosed, AlreadyUnlocked, AttemptEnded, AttemptExpired, WrongStep,
            RecoveryNotRecognised, NoDeliveryChannel, RateLimited];
    /// SCSC-2 / POL-3: send the one-time code by email or text message.
    SendCode = POST "/api/unlock/{id}/send-code" AttemptId, SendCodeRequest => CodeSent,
        refuses [RecoveryClosed, SelfServiceClosed, AlreadyUnlocked, AttemptEnded, AttemptExpired,
            WrongStep, DeliveryNotOffered, RateLimited];
}

/// Which way an unlock goes once the card has proved itself (POL-1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnlockRoute {
    /// UNL-3…UNL-5 (`seed-2006`): the security questions, then an emailed code.
    #[default]
    Questions,
    /// SCSC-1…SCSC-4 (`seed-2006`): UUID, family name and Account Recovery Passcode, then
    /// a One Time Passcode by email or SMS.
    Scsc,
    /// POL-3 (`nhs-2023`): no questions; a code by email or SMS.
    #[serde(rename = "nhs_2023")]
    Nhs2023,
}

impl UnlockRoute {
    pub const ALL: [UnlockRoute; 3] = [
        UnlockRoute::Questions,
        UnlockRoute::Scsc,
        UnlockRoute::Nhs2023,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnlockRoute::Questions => "questions",
            UnlockRoute::Scsc => "scsc",
            UnlockRoute::Nhs2023 => "nhs_2023",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|route| route.as_str() == text)
    }

    /// POL-1 / POL-3: `seed-2006` offers the questions and the SCSC route; `nhs-2023`
    /// only its own.
    pub fn offered_under(self, policy: crate::policy::Policy) -> bool {
        use crate::policy::Policy;
        match policy {
            Policy::Seed2006 => matches!(self, UnlockRoute::Questions | UnlockRoute::Scsc),
            Policy::Nhs2023 => self == UnlockRoute::Nhs2023,
        }
    }
}

/// How a one-time code reaches the user (SCSC-2, POL-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// The registered address, on the approved domains (REG-3).
    Email,
    /// The mobile on the profile, through GOV.UK Notify (SMS-1).
    Sms,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Email => "email",
            Delivery::Sms => "sms",
        }
    }
}

/// One way a code may be sent, and where, masked (`j***@nhs.net`, `07*** ***123`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeliveryOption {
    pub delivery: Delivery,
    pub hint: String,
}

/// Family names are compared folded (case, accents, spacing); this only bounds them.
pub const FAMILY_NAME_MAX_CHARS: usize = 100;

/// SCSC-1: the Family Name as typed: 1–100 characters, not all blank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FamilyName(String);

impl FamilyName {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > FAMILY_NAME_MAX_CHARS {
            return Err(ValueError::FamilyName);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FamilyName {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, ValueError> {
        Self::parse(&text)
    }
}

impl From<FamilyName> for String {
    fn from(value: FamilyName) -> String {
        value.0
    }
}

/// SCSC-1: what the card's holder types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecoveryRequest {
    /// The User's Unique Identifier, 12 digits.
    pub uuid: UserUuid,
    pub family_name: FamilyName,
    pub recovery_passcode: AccountPasscode,
}

/// SCSC-2: recognised; the ways the One Time Passcode may be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecoveryAccepted {
    pub options: Vec<DeliveryOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SendCodeRequest {
    pub delivery: Delivery,
}

/// The code is on its way (queued: a text may take a few tries, SMS-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = OneTimeCodeSent))]
#[serde(deny_unknown_fields)]
pub struct CodeSent {
    pub delivery: Delivery,
    /// Where it went, masked.
    pub hint: String,
    /// Unix seconds when the code stops working.
    pub code_expires_at: i64,
}

pub const ONE_TIME_PASSCODE_CHARS: usize = 12;

/// The characters a One Time Passcode is drawn from: capitals and digits without the
/// look-alikes (0/O, 1/I/L), so a code read off a phone is typed right.
pub const ONE_TIME_PASSCODE_ALPHABET: &[u8; 31] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// SCSC-2: the 12-character alphanumeric One Time Passcode. Typed in any case, with
/// spaces or dashes between groups; kept in capitals.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OneTimePasscode(String);

impl OneTimePasscode {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let code: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\t'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if code.len() == ONE_TIME_PASSCODE_CHARS && code.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            Ok(Self(code))
        } else {
            Err(ValueError::OneTimePasscode)
        }
    }

    /// The code for 12 draws from `0..31` (each taken modulo 31).
    pub fn from_draws(draws: [u8; ONE_TIME_PASSCODE_CHARS]) -> Self {
        let alphabet = ONE_TIME_PASSCODE_ALPHABET;
        Self(
            draws
                .iter()
                .map(|d| char::from(alphabet[usize::from(*d) % alphabet.len()]))
                .collect(),
        )
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for OneTimePasscode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OneTimePasscode(************)")
    }
}

impl TryFrom<String> for OneTimePasscode {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, ValueError> {
        Self::parse(&text)
    }
}

impl From<OneTimePasscode> for String {
    fn from(value: OneTimePasscode) -> String {
        value.0
    }
}

/// Any one-time code a user types into an unlock: the 6-digit emailed code (UNL-5,
/// POL-3, an RA's phone code) or the SCSC's One Time Passcode. Which one an attempt
/// expects is the server's business; a code of the other kind is simply wrong.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum TypedCode {
    Digits(UnlockCode),
    Passcode(OneTimePasscode),
}

impl TypedCode {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        UnlockCode::parse(text)
            .map(TypedCode::Digits)
            .or_else(|_| OneTimePasscode::parse(text).map(TypedCode::Passcode))
            .map_err(|_| ValueError::TypedCode)
    }

    pub fn expose(&self) -> &str {
        match self {
            TypedCode::Digits(code) => code.expose(),
            TypedCode::Passcode(code) => code.expose(),
        }
    }
}

impl std::fmt::Debug for TypedCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TypedCode(****)")
    }
}

impl From<UnlockCode> for TypedCode {
    fn from(code: UnlockCode) -> Self {
        TypedCode::Digits(code)
    }
}

impl From<OneTimePasscode> for TypedCode {
    fn from(code: OneTimePasscode) -> Self {
        TypedCode::Passcode(code)
    }
}

impl TryFrom<String> for TypedCode {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, ValueError> {
        Self::parse(&text)
    }
}

impl From<TypedCode> for String {
    fn from(value: TypedCode) -> String {
        match value {
            TypedCode::Digits(code) => code.into(),
            TypedCode::Passcode(code) => code.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scsc_2_one_time_passcodes_are_12_alphanumerics_in_any_case_and_never_printed() {
        let code = OneTimePasscode::parse(" abcd-efgh 2345 ").unwrap();
        assert_eq!(code.expose(), "ABCDEFGH2345");
        assert!(!format!("{code:?}").contains("ABCD"));
        for bad in [
            "ABCDEFGH234",
            "ABCDEFGH23456",
            "ABCDEFGH234!",
            "ÄBCDEFGH2345",
        ] {
            assert!(OneTimePasscode::parse(bad).is_err(), "{bad}");
        }
        let drawn = OneTimePasscode::from_draws([0, 30, 31, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
        assert_eq!(drawn.expose(), "A9AJKMNPQRST");
    }

    #[test]
    fn scsc_2_a_typed_code_is_six_digits_or_a_one_time_passcode() {
        assert!(matches!(
            TypedCode::parse("024680"),
            Ok(TypedCode::Digits(_))
        ));
        assert!(matches!(
            TypedCode::parse("abcdefgh2345"),
            Ok(TypedCode::Passcode(_))
        ));
        assert!(TypedCode::parse("12345").is_err());
        let json = serde_json::to_string(&TypedCode::parse("abcdefgh2345").unwrap()).unwrap();
        assert_eq!(json, "\"ABCDEFGH2345\"");
    }

    #[test]
    fn pol_3_routes_are_offered_by_profile() {
        use crate::policy::Policy;
        assert!(UnlockRoute::Scsc.offered_under(Policy::Seed2006));
        assert!(UnlockRoute::Questions.offered_under(Policy::Seed2006));
        assert!(!UnlockRoute::Nhs2023.offered_under(Policy::Seed2006));
        assert!(UnlockRoute::Nhs2023.offered_under(Policy::Nhs2023));
        assert!(!UnlockRoute::Scsc.offered_under(Policy::Nhs2023));
        for route in UnlockRoute::ALL {
            assert_eq!(UnlockRoute::parse(route.as_str()), Some(route));
            let json = serde_json::to_string(&route).unwrap();
            assert_eq!(json, format!("\"{}\"", route.as_str()));
        }
    }

    #[test]
    fn scsc_1_requests_parse_at_the_boundary() {
        let ok =
            r#"{"uuid":"555555555501","family_name":"Rigby","recovery_passcode":"correct horse"}"#;
        assert!(serde_json::from_str::<RecoveryRequest>(ok).is_ok());
        for bad in [
            r#"{"uuid":"5555","family_name":"Rigby","recovery_passcode":"correct horse"}"#,
            r#"{"uuid":"555555555501","family_name":"  ","recovery_passcode":"correct horse"}"#,
            r#"{"uuid":"555555555501","family_name":"Rigby","recovery_passcode":"short"}"#,
            r#"{"uuid":"555555555501","family_name":"Rigby","recovery_passcode":"correct horse","x":1}"#,
        ] {
            assert!(
                serde_json::from_str::<RecoveryRequest>(bad).is_err(),
                "{bad}"
            );
        }
        assert!(serde_json::from_str::<SendCodeRequest>(r#"{"delivery":"sms"}"#).is_ok());
        assert!(serde_json::from_str::<SendCodeRequest>(r#"{"delivery":"fax"}"#).is_err());
    }

    proptest! {
        #[test]
        fn all_2_any_typed_code_text_is_judged(text in "\\PC{0,30}") {
            if let Ok(code) = TypedCode::parse(&text) {
                let len = code.expose().len();
                prop_assert!(len == 6 || len == ONE_TIME_PASSCODE_CHARS);
            }
        }
    }
}
