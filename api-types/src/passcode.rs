//! The Smartcard Passcode rule (CARD-2, UNL-6): 4–8 standard keyboard characters
//! (printable ASCII, space included). The card applies the same rule; this copy lets the
//! page and the bridge refuse a bad passcode before the card is touched.

use thiserror::Error;

pub const CARD_PASSCODE_MIN: usize = 4;
pub const CARD_PASSCODE_MAX: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PasscodeError {
    #[error("The passcode must be between 4 and 8 characters long.")]
    WrongLength,
    #[error("The passcode can only use standard keyboard characters.")]
    NotKeyboardCharacters,
    #[error("The two passcodes do not match.")]
    Mismatch,
}

/// A syntactically valid card passcode. Deliberately not `Serialize`/`Debug`-printing its
/// content: it must never end up in a log.
#[derive(Clone, PartialEq, Eq)]
pub struct CardPasscode(String);

impl std::fmt::Debug for CardPasscode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardPasscode(****)")
    }
}

impl CardPasscode {
    pub fn parse(candidate: &str) -> Result<Self, PasscodeError> {
        if !candidate.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
            return Err(PasscodeError::NotKeyboardCharacters);
        }
        if !(CARD_PASSCODE_MIN..=CARD_PASSCODE_MAX).contains(&candidate.len()) {
            return Err(PasscodeError::WrongLength);
        }
        Ok(Self(candidate.to_owned()))
    }

    /// UNL-6: typed twice, and both must match.
    pub fn parse_confirmed(first: &str, second: &str) -> Result<Self, PasscodeError> {
        let passcode = Self::parse(first)?;
        if first != second {
            return Err(PasscodeError::Mismatch);
        }
        Ok(passcode)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

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
            Err(PasscodeError::WrongLength)
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

    proptest! {
        // CARD-2: accepted exactly when 4..=8 printable ASCII characters.
        #[test]
        fn card_2_accepts_exactly_printable_ascii_4_to_8(s in "\\PC{0,12}") {
            let ok = (4..=8).contains(&s.len()) && s.bytes().all(|b| (0x20..=0x7e).contains(&b));
            prop_assert_eq!(CardPasscode::parse(&s).is_ok(), ok);
        }
    }
}
