//! Values parsed once at the wire boundary ("parse, don't validate"): each newtype checks
//! its shape in `parse`, and serde goes through the same `parse` (`try_from`), so a
//! handler, the SPA and the tests only ever hold valid values. Secret-bearing values
//! (answers, codes) never print their content in `Debug`.

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
    #[error("must be hex")]
    NotHex,
    /// Any row id ([`AttemptId`], [`RegistrationId`], [`LoginId`]).
    #[error("must be 32 lowercase hex characters")]
    AttemptId,
    #[error("must be {UNLOCK_CODE_DIGITS} digits")]
    UnlockCode,
    #[error("must be at most {SECURITY_ANSWER_MAX_CHARS} characters")]
    AnswerTooLong,
    #[error("must have at most {max} entries")]
    TooMany { max: usize },
    #[error("must be 12 digits")]
    Uuid,
    #[error("must be 3 to 500 characters of text")]
    Reason,
}

pub(crate) fn decode_hex(text: &str) -> Result<Vec<u8>, ValueError> {
    if !text.len().is_multiple_of(2) {
        return Err(ValueError::NotHex);
    }
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Ok(b - b'0'),
        b'a'..=b'f' => Ok(b - b'a' + 10),
        b'A'..=b'F' => Ok(b - b'A' + 10),
        _ => Err(ValueError::NotHex),
    };
    text.as_bytes()
        .chunks(2)
        .map(|pair| Ok(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

/// Lowercase hex, the one encoding binary values have on the wire.
pub fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xF)]])
        .map(char::from)
        .collect()
}

/// Exactly `N` bytes, as hex on the wire (either case accepted, lowercase sent).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FixedHex<const N: usize>([u8; N]);

impl<const N: usize> FixedHex<N> {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        if text.len() != N * 2 {
            return Err(ValueError::HexLength { bytes: N });
        }
        let bytes = decode_hex(text)?;
        bytes
            .try_into()
            .map(Self)
            .map_err(|_| ValueError::HexLength { bytes: N })
    }

    pub fn from_bytes(bytes: [u8; N]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; N] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }
}

impl<const N: usize> std::fmt::Debug for FixedHex<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl<const N: usize> std::fmt::Display for FixedHex<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl<const N: usize> TryFrom<String> for FixedHex<N> {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, ValueError> {
        Self::parse(&text)
    }
}

impl<const N: usize> From<FixedHex<N>> for String {
    fn from(value: FixedHex<N>) -> String {
        value.to_hex()
    }
}

/// At most `MAX` bytes, as hex on the wire.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BoundedHex<const MAX: usize>(Vec<u8>);

impl<const MAX: usize> BoundedHex<MAX> {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        if text.len() > MAX * 2 {
            return Err(ValueError::HexTooLong { max: MAX });
        }
        decode_hex(text).map(Self)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, ValueError> {
        if bytes.len() > MAX {
            return Err(ValueError::HexTooLong { max: MAX });
        }
        Ok(Self(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl<const MAX: usize> std::fmt::Debug for BoundedHex<MAX> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&encode_hex(&self.0))
    }
}

impl<const MAX: usize> TryFrom<String> for BoundedHex<MAX> {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, ValueError> {
        Self::parse(&text)
    }
}

impl<const MAX: usize> From<BoundedHex<MAX>> for String {
    fn from(value: BoundedHex<MAX>) -> String {
        encode_hex(&value.0)
    }
}

/// The card's 16-byte GUID from its CHUID.
pub type CardGuid = FixedHex<16>;
/// 32 random bytes the card signs with its 9E key (CARD-6).
pub type Challenge = FixedHex<32>;
/// A DER ECDSA P-256 signature (at most 72 bytes; room left for other curves).
pub type CardSignature = BoundedHex<128>;
/// One response APDU from the card: data and status word.
pub type ResponseHex = BoundedHex<512>;
/// The secret of a "this wasn't me" link: 32 random bytes, hex.
pub type NotMeToken = FixedHex<32>;

/// A server-made id: 16 random bytes as 32 lowercase hex characters. It names a row; it
/// is never a credential (ALL-6: the flow or session cookie is). One type per kind of row,
/// so an attempt's id can never be passed where a registration's is expected.
macro_rules! row_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(text: &str) -> Result<Self, ValueError> {
                let ok = text.len() == 32
                    && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                if ok {
                    Ok(Self(text.to_owned()))
                } else {
                    Err(ValueError::AttemptId)
                }
            }

            pub fn from_bytes(bytes: [u8; 16]) -> Self {
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
    AttemptId;
    /// The server's id for one registration (REG-1).
    RegistrationId;
    /// The server's id for one login challenge (AUTH-1).
    LoginId;
}

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

/// A list with at most `MAX` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<T>", into = "Vec<T>")]
#[serde(bound(
    serialize = "T: Serialize + Clone",
    deserialize = "T: Deserialize<'de>"
))]
pub struct BoundedVec<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> BoundedVec<T, MAX> {
    pub fn new(items: Vec<T>) -> Result<Self, ValueError> {
        if items.len() > MAX {
            return Err(ValueError::TooMany { max: MAX });
        }
        Ok(Self(items))
    }

    pub fn as_slice(&self) -> &[T] {
        &self.0
    }
}

impl<T, const MAX: usize> TryFrom<Vec<T>> for BoundedVec<T, MAX> {
    type Error = ValueError;
    fn try_from(items: Vec<T>) -> Result<Self, ValueError> {
        Self::new(items)
    }
}

impl<T, const MAX: usize> From<BoundedVec<T, MAX>> for Vec<T> {
    fn from(value: BoundedVec<T, MAX>) -> Vec<T> {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn all_2_hex_values_have_exact_or_bounded_lengths() {
        assert!(CardGuid::parse(&"ab".repeat(16)).is_ok());
        assert_eq!(
            CardGuid::parse(&"AB".repeat(16)).unwrap().to_hex(),
            "ab".repeat(16)
        );
        assert!(CardGuid::parse("abcd").is_err());
        assert!(CardGuid::parse(&"zz".repeat(16)).is_err());
        assert!(CardSignature::parse(&"00".repeat(128)).is_ok());
        assert!(CardSignature::parse(&"00".repeat(129)).is_err());
        assert!(CardSignature::parse("abc").is_err());
        // Multi-byte characters must not panic the decoder.
        assert!(CardGuid::parse(&"é".repeat(16)).is_err());
    }

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
    fn all_2_serde_goes_through_parse() {
        let guid: Result<CardGuid, _> = serde_json::from_str("\"abcd\"");
        assert!(guid.is_err());
        let list: Result<BoundedVec<u8, 2>, _> = serde_json::from_str("[1,2,3]");
        assert!(list.is_err());
        let guid: CardGuid = serde_json::from_str(&format!("\"{}\"", "AB".repeat(16))).unwrap();
        assert_eq!(
            serde_json::to_string(&guid).unwrap(),
            format!("\"{}\"", "ab".repeat(16))
        );
    }

    proptest! {
        // ALL-2: any text either parses to bytes that encode back to it, or is refused;
        // never a panic.
        #[test]
        fn all_2_hex_round_trips_or_is_refused(s in "\\PC{0,80}") {
            if let Ok(value) = BoundedHex::<40>::parse(&s) {
                prop_assert_eq!(encode_hex(value.as_bytes()), s.to_lowercase());
            }
        }

        #[test]
        fn all_2_hex_encoding_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let text = encode_hex(&bytes);
            let parsed = BoundedHex::<40>::parse(&text).unwrap();
            prop_assert_eq!(parsed.as_bytes(), bytes.as_slice());
        }
    }
}
