//! Binary values on the wire: lowercase hex strings (either case accepted), of a fixed
//! length ([`FixedHex`]) or between bounds ([`BoundedHex`]).

use serde::{Deserialize, Serialize};

use super::ValueError;

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

/// At most `MAX` bytes, and at least `MIN` (none unless said), as hex on the wire.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BoundedHex<const MAX: usize, const MIN: usize = 0>(Vec<u8>);

impl<const MAX: usize, const MIN: usize> BoundedHex<MAX, MIN> {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        if text.len() > MAX * 2 {
            return Err(ValueError::HexTooLong { max: MAX });
        }
        Self::from_bytes(decode_hex(text)?)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, ValueError> {
        if bytes.len() > MAX {
            return Err(ValueError::HexTooLong { max: MAX });
        }
        if bytes.len() < MIN {
            return Err(ValueError::HexTooShort { min: MIN });
        }
        Ok(Self(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl<const MAX: usize, const MIN: usize> std::fmt::Debug for BoundedHex<MAX, MIN> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&encode_hex(&self.0))
    }
}

impl<const MAX: usize, const MIN: usize> TryFrom<String> for BoundedHex<MAX, MIN> {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, ValueError> {
        Self::parse(&text)
    }
}

impl<const MAX: usize, const MIN: usize> From<BoundedHex<MAX, MIN>> for String {
    fn from(value: BoundedHex<MAX, MIN>) -> String {
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
/// One command APDU for the card: at least its 4-byte header; as much room as an answer.
pub type CommandHex = BoundedHex<512, 4>;
/// The secret of a "this wasn't me" link: 32 random bytes, hex.
pub type NotMeToken = FixedHex<32>;

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
        assert!(CardSignature::parse("").is_ok());
        assert!(CommandHex::parse("00a40400").is_ok());
        assert!(CommandHex::parse("00a404").is_err());
        assert!(CommandHex::parse("").is_err());
        assert!(CommandHex::parse(&"00".repeat(513)).is_err());
        assert!(CommandHex::from_bytes(vec![0; 3]).is_err());
        // Multi-byte characters must not panic the decoder.
        assert!(CardGuid::parse(&"é".repeat(16)).is_err());
    }

    #[test]
    fn all_2_serde_goes_through_parse() {
        let guid: Result<CardGuid, _> = serde_json::from_str("\"abcd\"");
        assert!(guid.is_err());
        let guid: CardGuid = serde_json::from_str(&format!("\"{}\"", "AB".repeat(16))).unwrap();
        assert_eq!(
            serde_json::to_string(&guid).unwrap(),
            format!("\"{}\"", "ab".repeat(16))
        );
        let command: Result<CommandHex, _> = serde_json::from_str("\"00a4040\"");
        assert!(command.is_err());
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
