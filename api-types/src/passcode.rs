//! The Smartcard Passcode rule (CARD-2, UNL-6): 4–8 standard keyboard characters
//! (printable ASCII, space included). The card applies the same rule; this copy lets the
//! page and the bridge refuse a bad passcode before the card is touched — the bridge's
//! request bodies hold a [`CardPasscode`], so serde refuses a bad one at the boundary.

use thiserror::Error;

pub const CARD_PASSCODE_MIN: usize = 4;
pub const CARD_PASSCODE_MAX: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PasscodeError {
    #[error("The passcode must be between {min} and {max} characters long.")]
    WrongLength { min: usize, max: usize },
    #[error("The passcode can only use standard keyboard characters.")]
    NotKeyboardCharacters,
    #[error("The two passcodes do not match.")]
    Mismatch,
}

/// A passcode of `$min`–`$max` standard keyboard characters (printable ASCII, space
/// included). It must never end up in a log: `Debug` does not print it, and it is wiped
/// when dropped (BRG-6); the string it is read from is wiped once parsed.
macro_rules! keyboard_passcode {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
        pub struct $name(String);

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(****)"))
            }
        }

        impl $name {
            pub fn parse(candidate: &str) -> Result<Self, $crate::passcode::PasscodeError> {
                use $crate::passcode::PasscodeError;
                if !candidate.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
                    return Err(PasscodeError::NotKeyboardCharacters);
                }
                if !($min..=$max).contains(&candidate.len()) {
                    return Err(PasscodeError::WrongLength { min: $min, max: $max });
                }
                Ok(Self(candidate.to_owned()))
            }

            /// Typed twice, and both must match.
            pub fn parse_confirmed(
                first: &str,
                second: &str,
            ) -> Result<Self, $crate::passcode::PasscodeError> {
                let passcode = Self::parse(first)?;
                if first != second {
                    return Err($crate::passcode::PasscodeError::Mismatch);
                }
                Ok(passcode)
            }

            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        /// Through `parse`, as `try_from = "String"` would, but the string read is wiped
        /// whether or not it parses.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = zeroize::Zeroizing::new(String::deserialize(deserializer)?);
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use keyboard_passcode;

keyboard_passcode!(
    /// A syntactically valid card passcode. It travels only from the page to the card
    /// bridge on this computer (CARD-3), as a JSON string.
    CardPasscode,
    CARD_PASSCODE_MIN,
    CARD_PASSCODE_MAX
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn card_2_boundaries() {
        assert!(CardPasscode::parse("abc").is_err());
        assert!(CardPasscode::parse("abcd").is_ok());
        assert!(CardPasscode::parse("a b!~8*(").is_ok());
        assert_eq!(
            CardPasscode::parse("123456789"),
            Err(PasscodeError::WrongLength { min: 4, max: 8 })
        );
        assert_eq!(
            PasscodeError::WrongLength { min: 4, max: 8 }.to_string(),
            "The passcode must be between 4 and 8 characters long."
        );
        assert_eq!(
            CardPasscode::parse("12é4"),
            Err(PasscodeError::NotKeyboardCharacters)
        );
        assert_eq!(
            CardPasscode::parse("12\t45"),
            Err(PasscodeError::NotKeyboardCharacters)
        );
    }

    #[test]
    fn unl_6_both_copies_must_match() {
        assert_eq!(
            CardPasscode::parse_confirmed("1234", "1235"),
            Err(PasscodeError::Mismatch)
        );
        assert!(CardPasscode::parse_confirmed("1234", "1234").is_ok());
    }

    #[test]
    fn all_7_debug_never_shows_the_passcode() {
        let p = CardPasscode::parse("s3cret").unwrap();
        assert!(!format!("{p:?}").contains("s3cret"));
    }

    #[test]
    fn brg_6_a_passcode_can_be_wiped() {
        use zeroize::Zeroize;
        let mut p = CardPasscode::parse("s3cret").unwrap();
        p.zeroize();
        assert_eq!(p.expose(), "");
    }

    #[test]
    fn card_2_serde_goes_through_parse_and_keeps_the_plain_string() {
        let p: CardPasscode = serde_json::from_str("\"a b!~8*(\"").unwrap();
        assert_eq!(p.expose(), "a b!~8*(");
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"a b!~8*(\"");
        for bad in ["\"123\"", "\"123456789\"", "\"12\\t45\"", "1234", "null"] {
            assert!(serde_json::from_str::<CardPasscode>(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        // CARD-2: accepted exactly when 4..=8 printable ASCII characters.
        #[test]
        fn card_2_accepts_exactly_printable_ascii_4_to_8(s in "\\PC{0,12}") {
            let ok = (4..=8).contains(&s.len()) && s.bytes().all(|b| (0x20..=0x7e).contains(&b));
            prop_assert_eq!(CardPasscode::parse(&s).is_ok(), ok);
        }
    }
}
