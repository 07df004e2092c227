//! The RA console's values, each parsed once where it enters (ALL-2): roles, user UUIDs,
//! reasons and report ids.

use serde::{Deserialize, Serialize};

use crate::endpoint::Segment;
use crate::values::ValueError;

/// What a user may do, from the server's records (RA-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    Staff,
    RaAgent,
    RaManager,
    /// PASS-5: checks a caller's Verification Passcode, and nothing else.
    Helpdesk,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::RaAgent => "ra_agent",
            Role::RaManager => "ra_manager",
            Role::Helpdesk => "helpdesk",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "staff" => Role::Staff,
            "ra_agent" => Role::RaAgent,
            "ra_manager" => Role::RaManager,
            "helpdesk" => Role::Helpdesk,
            _ => return None,
        })
    }

    /// May use the RA console at all.
    pub fn is_ra(self) -> bool {
        matches!(self, Role::RaAgent | Role::RaManager)
    }
}

/// A User's Unique Identifier: exactly 12 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserUuid(String);

impl UserUuid {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let text = text.trim();
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(ValueError::Uuid)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserUuid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Segment for UserUuid {
    fn segment(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UserUuid {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, ValueError> {
        Self::parse(&text)
    }
}

impl From<UserUuid> for String {
    fn from(value: UserUuid) -> String {
        value.0
    }
}

pub const REASON_MAX_CHARS: usize = 500;

/// Why an RA acted (RA-3): 3–500 characters of text, no control characters but line
/// breaks; kept in the audit trail and the user's notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reason(String);

impl Reason {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let text = text.trim();
        let length = text.chars().count();
        let clean = text.chars().all(|c| !c.is_control() || c == '\n');
        if (3..=REASON_MAX_CHARS).contains(&length) && clean {
            Ok(Self(text.to_owned()))
        } else {
            Err(ValueError::Reason)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Reason {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, ValueError> {
        Self::parse(&text)
    }
}

impl From<Reason> for String {
    fn from(value: Reason) -> String {
        value.0
    }
}

/// A "this wasn't me" report's id, as the server listed it ([`Report::id`]): the SHA-256
/// of the link's token, 64 lowercase hex characters (the token itself is never shown).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReportId(String);

impl ReportId {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let ok = text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            // As the hex parsers say it (lowercase only: it is an id, not typed bytes).
            Err(ValueError::HexLength { bytes: 32 })
        }
    }

    /// The id of the report whose token hashes to `token_hash`.
    pub fn of_hash(token_hash: &[u8; 32]) -> Self {
        Self(crate::values::encode_hex(token_hash))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The token's hash, as the store keys it.
    pub fn hash_bytes(&self) -> Vec<u8> {
        // Parsed as 64 hex characters, so it always decodes.
        crate::values::decode_hex(&self.0).unwrap_or_default()
    }
}

impl TryFrom<String> for ReportId {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, ValueError> {
        Self::parse(&text)
    }
}

impl From<ReportId> for String {
    fn from(id: ReportId) -> String {
        id.0
    }
}

impl Segment for ReportId {
    fn segment(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_3_a_reason_is_real_text() {
        assert!(Reason::parse("Identity checked on the phone").is_ok());
        assert!(Reason::parse("  ").is_err());
        assert!(Reason::parse("ok").is_err());
        assert!(Reason::parse("bad\u{0}byte").is_err());
        assert!(Reason::parse(&"x".repeat(REASON_MAX_CHARS + 1)).is_err());
        assert!(Reason::parse("two\nlines").is_ok());
    }

    #[test]
    fn ra_2_a_uuid_is_twelve_digits() {
        assert!(UserUuid::parse("123456789012").is_ok());
        assert!(UserUuid::parse("12345678901").is_err());
        assert!(UserUuid::parse("12345678901a").is_err());
        assert!(UserUuid::parse("../../etc/pa").is_err());
    }

    #[test]
    fn ra_1_roles_round_trip() {
        for role in [Role::Staff, Role::RaAgent, Role::RaManager] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
