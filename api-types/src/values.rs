//! Values parsed once at the wire boundary ("parse, don't validate"): each newtype checks
//! its shape in `parse`, and serde goes through the same `parse` (`try_from`), so a
//! handler, the SPA and the tests only ever hold valid values. Secret-bearing values
//! (answers, codes) never print their content in `Debug`.

mod hex;

pub use hex::{
    encode_hex, BoundedHex, CardGuid, CardSignature, Challenge, CommandHex, FixedHex, NotMeToken,
    ResponseHex,
};

pub(crate) use hex::decode_hex;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a wire value was refused. Diagnostic text for developers and logs; the page shows
/// the [`crate::ErrorCode`] instead.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValueError {
    #[error("must be {bytes} bytes as {} hex characters", bytes * 2)]
    HexLength { bytes: usize },
    #[error("must be at most {max} bytes as hex")]
    HexTooLong { max: usize },
    #[error("must be at least {min} bytes as hex")]
    HexTooShort { min: usize },
    #[error("must be hex")]
    NotHex,
    /// Any server-made id ([`AttemptId`], [`RegistrationId`], [`LoginId`] …).
    #[error("must be {chars} lowercase hex characters")]
    ServerId { chars: usize },
    #[error("must be {UNLOCK_CODE_DIGITS} digits")]
    UnlockCode,
    #[error("must be 12 letters and digits")]
    OneTimePasscode,
    #[error("must be a 6-digit code or a 12-character One Time Passcode")]
    TypedCode,
    #[error("must be 1 to 100 characters")]
    FamilyName,
    #[error("must be at most {SECURITY_ANSWER_MAX_CHARS} characters")]
    AnswerTooLong,
    #[error("must have at most {max} entries")]
    TooMany { max: usize },
    #[error("must have at least {min} entries")]
    TooFew { min: usize },
    #[error("must be 12 digits")]
    Uuid,
    #[error("must be 3 to 500 characters of text")]
    Reason,
    /// RA-4's search by action ([`crate::audit::ActionFilter`]).
    #[error("must be an audit action (like unlock.answers) or an area (like unlock.)")]
    AuditAction,
    /// RA-4's search by outcome ([`crate::audit::OutcomeWord`]).
    #[error("must be 1 to 40 lowercase letters and underscores")]
    OutcomeWord,
}

/// A server-made id: `$bytes` bytes as lowercase hex (16 random bytes naming a row, or a
/// sealed [`LoginId`]). It is never a credential (ALL-6: the flow or session cookie is).
/// One type per kind, so an attempt's id can never be passed where a registration's is.
macro_rules! row_id {
    ($($(#[$doc:meta])* $name:ident: $bytes:expr;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        #[cfg(feature = "openapi")]
        impl utoipa::__dev::ComposeSchema for $name {
            fn compose(
                _: Vec<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
            ) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::openapi_schemas::row_id_schema($bytes)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl $name {
            pub fn parse(text: &str) -> Result<Self, ValueError> {
                let ok = text.len() == $bytes * 2
                    && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                if ok {
                    Ok(Self(text.to_owned()))
                } else {
                    Err(ValueError::ServerId { chars: $bytes * 2 })
                }
            }

            pub fn from_bytes(bytes: [u8; $bytes]) -> Self {
                Self(encode_hex(&bytes))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl crate::endpoint::Segment for $name {
            fn segment(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(text: String) -> Result<Self, ValueError> {
                Self::parse(&text)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    )*};
}

row_id! {
    /// The server's id for one unlock attempt (UNL-1).
    AttemptId: 16;
    /// The server's id for one registration (REG-1).
    RegistrationId: 16;
    /// One login challenge (AUTH-1), sealed rather than stored: its nonce, card, end and
    /// the server's MAC over them.
    LoginId: LOGIN_ID_BYTES;
    /// The server's id for one certificate renewal (CERT-3).
    RenewalId: 16;
    /// The server's id for one Update of the passcodes waiting for the card (PASS-2).
    PasscodeUpdateId: 16;
}

/// A sealed [`LoginId`]'s length: nonce (16), card GUID (16), end (8), MAC (16).
pub const LOGIN_ID_BYTES: usize = 56;

pub const UNLOCK_CODE_DIGITS: usize = 6;

/// The emailed Smartcard Unlock Code (UNL-5): 6 digits; spaces around it are ignored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnlockCode(String);

impl UnlockCode {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let code = text.trim();
        if code.len() == UNLOCK_CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(code.to_owned()))
        } else {
            Err(ValueError::UnlockCode)
        }
    }

    /// The code for a draw from `0..1_000_000` (taken modulo 10^6), zero-padded.
    pub fn from_draw(draw: u32) -> Self {
        Self(format!("{:06}", draw % 1_000_000))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for UnlockCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnlockCode(******)")
    }
}

impl TryFrom<String> for UnlockCode {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, ValueError> {
        Self::parse(&text)
    }
}

impl From<UnlockCode> for String {
    fn from(value: UnlockCode) -> String {
        value.0
    }
}

pub const SECURITY_ANSWER_MAX_CHARS: usize = 200;

/// An answer to a security question as typed (REG-2 normalises it before hashing).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SecurityAnswer(String);

impl SecurityAnswer {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        if text.chars().count() > SECURITY_ANSWER_MAX_CHARS {
            return Err(ValueError::AnswerTooLong);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecurityAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecurityAnswer(****)")
    }
}

impl TryFrom<String> for SecurityAnswer {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, ValueError> {
        Self::parse(&text)
    }
}

impl From<SecurityAnswer> for String {
    fn from(value: SecurityAnswer) -> String {
        value.0
    }
}

/// A list with at most `MAX` entries, and at least `MIN` (none unless said).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<T>", into = "Vec<T>")]
#[serde(bound(
    serialize = "T: Serialize + Clone",
    deserialize = "T: Deserialize<'de>"
))]
pub struct BoundedVec<T, const MAX: usize, const MIN: usize = 0>(Vec<T>);

impl<T, const MAX: usize, const MIN: usize> BoundedVec<T, MAX, MIN> {
    pub fn new(items: Vec<T>) -> Result<Self, ValueError> {
        if items.len() > MAX {
            return Err(ValueError::TooMany { max: MAX });
        }
        if items.len() < MIN {
            return Err(ValueError::TooFew { min: MIN });
        }
        Ok(Self(items))
    }

    pub fn as_slice(&self) -> &[T] {
        &self.0
    }
}

impl<T, const MAX: usize, const MIN: usize> TryFrom<Vec<T>> for BoundedVec<T, MAX, MIN> {
    type Error = ValueError;
    fn try_from(items: Vec<T>) -> Result<Self, ValueError> {
        Self::new(items)
    }
}

impl<T, const MAX: usize, const MIN: usize> From<BoundedVec<T, MAX, MIN>> for Vec<T> {
    fn from(value: BoundedVec<T, MAX, MIN>) -> Vec<T> {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_2_attempt_ids_are_32_lowercase_hex() {
        assert!(AttemptId::parse(&"0f".repeat(16)).is_ok());
        assert!(AttemptId::parse(&"0F".repeat(16)).is_err());
        assert!(AttemptId::parse("../../etc/passwd").is_err());
        assert!(AttemptId::parse("").is_err());
    }

    #[test]
    fn unl_5_codes_are_six_digits_trimmed_and_never_printed() {
        assert_eq!(UnlockCode::parse(" 012345 ").unwrap().expose(), "012345");
        assert!(UnlockCode::parse("12a456").is_err());
        assert!(UnlockCode::parse("1234567").is_err());
        assert!(!format!("{:?}", UnlockCode::parse("012345").unwrap()).contains("012345"));
    }

    #[test]
    fn reg_2_answers_are_at_most_200_characters_and_never_printed() {
        assert!(SecurityAnswer::parse(&"é".repeat(200)).is_ok());
        assert!(SecurityAnswer::parse(&"é".repeat(201)).is_err());
        assert!(!format!("{:?}", SecurityAnswer::parse("Rex").unwrap()).contains("Rex"));
    }

    #[test]
    fn all_2_lists_keep_their_bounds_through_serde() {
        let list: Result<BoundedVec<u8, 2>, _> = serde_json::from_str("[1,2,3]");
        assert!(list.is_err());
        let none: Result<BoundedVec<u8, 2, 1>, _> = serde_json::from_str("[]");
        assert!(none.is_err());
        let some: BoundedVec<u8, 2, 1> = serde_json::from_str("[1,2]").unwrap();
        assert_eq!(serde_json::to_string(&some).unwrap(), "[1,2]");
        assert!(BoundedVec::<u8, 2>::new(Vec::new()).is_ok());
    }
}
