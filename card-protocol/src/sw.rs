//! ISO 7816-4 status words (SW1 SW2).

use std::fmt;

/// A two-byte status word. `Debug` and `Display` show it as four hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    pub const SUCCESS: Self = Self(0x9000);
    pub const WRONG_LENGTH: Self = Self(0x6700);
    pub const SECURITY_STATUS_NOT_SATISFIED: Self = Self(0x6982);
    pub const AUTH_METHOD_BLOCKED: Self = Self(0x6983);
    pub const CONDITIONS_NOT_SATISFIED: Self = Self(0x6985);
    pub const WRONG_DATA: Self = Self(0x6A80);
    pub const FUNCTION_NOT_SUPPORTED: Self = Self(0x6A81);
    pub const FILE_NOT_FOUND: Self = Self(0x6A82);
    pub const INCORRECT_P1P2: Self = Self(0x6A86);
    pub const REF_DATA_NOT_FOUND: Self = Self(0x6A88);
    /// `6A 89`, this product's choice (CARD-5): CHANGE REFERENCE DATA refused because the
    /// new PIN equals one of the card's last five. PIV has no status word for this; ISO
    /// 7816-4 gives `6A89` to "file already exists", which no PIV command answers, so a
    /// reused PIN is told apart from a malformed one (`6A80`) without overloading either.
    pub const PIN_REUSED: Self = Self(0x6A89);
    pub const INS_NOT_SUPPORTED: Self = Self(0x6D00);
    pub const CLA_NOT_SUPPORTED: Self = Self(0x6E00);

    pub fn from_bytes(sw1: u8, sw2: u8) -> Self {
        Self(u16::from_be_bytes([sw1, sw2]))
    }

    /// `63 Cx` with x tries left (x = 0..=15).
    pub fn tries(tries_left: u8) -> Self {
        Self(0x63C0 | u16::from(tries_left.min(0x0F)))
    }

    /// `61 xx`: xx more bytes wait for GET RESPONSE (0 means 256 or more).
    pub fn more_data(available: u8) -> Self {
        Self(0x6100 | u16::from(available))
    }

    pub fn sw1(self) -> u8 {
        let [sw1, _] = self.0.to_be_bytes();
        sw1
    }

    pub fn sw2(self) -> u8 {
        let [_, sw2] = self.0.to_be_bytes();
        sw2
    }

    pub fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }

    pub fn is_success(self) -> bool {
        self == Self::SUCCESS
    }

    /// Tries left from `63 Cx`.
    pub fn tries_left(self) -> Option<u8> {
        (self.0 & 0xFFF0 == 0x63C0).then_some(self.sw2() & 0x0F)
    }

    /// `69 83`: the PIN/PUK is blocked.
    pub fn is_blocked(self) -> bool {
        self == Self::AUTH_METHOD_BLOCKED
    }

    /// Bytes waiting from `61 xx` (0 means 256 or more).
    pub fn bytes_available(self) -> Option<u8> {
        (self.sw1() == 0x61).then_some(self.sw2())
    }

    /// `6C xx`: wrong Le, re-send with Le = xx (0 means 256).
    pub fn correct_le(self) -> Option<u8> {
        (self.sw1() == 0x6C).then_some(self.sw2())
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusWord({:04X})", self.0)
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn card_2_tries_and_blocked() {
        assert_eq!(StatusWord(0x63C2).tries_left(), Some(2));
        assert_eq!(StatusWord(0x63C0).tries_left(), Some(0));
        assert_eq!(StatusWord(0x6300).tries_left(), None);
        assert!(StatusWord(0x6983).is_blocked());
        assert!(!StatusWord(0x63C0).is_blocked());
        assert_eq!(StatusWord::tries(2), StatusWord(0x63C2));
        assert_eq!(StatusWord::tries(200), StatusWord(0x63CF));
    }

    #[test]
    fn chaining_words() {
        assert_eq!(StatusWord(0x6110).bytes_available(), Some(0x10));
        assert_eq!(StatusWord(0x9000).bytes_available(), None);
        assert_eq!(StatusWord(0x6C08).correct_le(), Some(8));
        assert!(StatusWord::SUCCESS.is_success());
    }

    #[test]
    fn debug_is_hex() {
        assert_eq!(format!("{:?}", StatusWord(0x6a82)), "StatusWord(6A82)");
        assert_eq!(StatusWord(0x6a82).to_string(), "6A82");
    }

    proptest! {
        #[test]
        fn bytes_round_trip(sw1: u8, sw2: u8) {
            let sw = StatusWord::from_bytes(sw1, sw2);
            prop_assert_eq!(sw.to_bytes(), [sw1, sw2]);
            prop_assert_eq!((sw.sw1(), sw.sw2()), (sw1, sw2));
        }
    }
}
