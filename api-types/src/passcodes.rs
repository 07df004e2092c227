//! Manage Passcodes (PASS-1…PASS-3, seed 003): the Account Recovery and Verification
//! Passcodes the server keeps (as argon2id hashes under a pepper), and one Update that
//! sets every passcode chosen together, the card's own included. Steps:
//! 1. `POST /api/passcodes` with the current Smartcard Passcode entered on the card (a
//!    fresh login challenge signed by its 9A key) and the changes. The server checks the
//!    new server-side passcodes against their history (PASS-3). Without a new card
//!    passcode it sets them at once; with one, it keeps them aside and answers a
//!    `change_pin` grant for the bridge, which changes the passcode on the card (the card
//!    refuses one of its last five, CARD-5) — the server never learns it (CARD-3).
//! 2. `POST /api/passcodes/{id}/finish` once the card took its new passcode: the
//!    server-side ones kept aside are set. If the card refused it, the page does not call
//!    this, and nothing changes (all or nothing, as the user sees it).

use serde::{Deserialize, Serialize};

use crate::bridge::SignedGrant;
use crate::endpoints;
use crate::passcode::keyboard_passcode;
use crate::values::{CardSignature, LoginId, PasscodeUpdateId};

pub const ACCOUNT_PASSCODE_MIN: usize = 8;
pub const ACCOUNT_PASSCODE_MAX: usize = 20;

endpoints! {
    /// PASS-1: which server-side passcodes are set, and when the passcodes were last set.
    ViewPasscodes = GET "/api/passcodes", () => PasscodesView;
    /// PASS-2: one Update: the current passcode on the card, and every change chosen.
    UpdatePasscodes = POST "/api/passcodes", PasscodeUpdateRequest => PasscodeUpdateStarted;
    /// PASS-2: the card took its new passcode; the server-side ones kept aside are set.
    FinishPasscodeUpdate = POST "/api/passcodes/{id}/finish" PasscodeUpdateId, PasscodeUpdateFinish => PasscodesView;
}

/// The two passcodes the server keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasscodeKind {
    /// The RA checks it, and the Smartcard Service Centre unlock asks for it (SCSC).
    AccountRecovery,
    /// Telephone services check it (PASS-5).
    Verification,
}

impl PasscodeKind {
    pub const ALL: [PasscodeKind; 2] = [PasscodeKind::AccountRecovery, PasscodeKind::Verification];

    /// The name the database keeps.
    pub fn as_str(self) -> &'static str {
        match self {
            PasscodeKind::AccountRecovery => "account_recovery",
            PasscodeKind::Verification => "verification",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

keyboard_passcode!(
    /// An Account Recovery or Verification Passcode (PASS-1): 8–20 standard keyboard
    /// characters.
    AccountPasscode,
    ACCOUNT_PASSCODE_MIN,
    ACCOUNT_PASSCODE_MAX
);

/// What one Update does to a server-side passcode.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PasscodeChange {
    /// Left as it is (the fields were left empty).
    #[default]
    Keep,
    /// "Blank passcode": removed.
    Blank,
    /// Set to this (typed twice on the page).
    Set(AccountPasscode),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasscodeUpdateRequest {
    /// The current Smartcard Passcode, entered on the card: its signature over a fresh
    /// login challenge.
    pub login_id: LoginId,
    pub signature: CardSignature,
    #[serde(default)]
    pub account_recovery: PasscodeChange,
    #[serde(default)]
    pub verification: PasscodeChange,
    /// A new Smartcard Passcode is chosen: the page changes it on the card with the
    /// grant the answer carries.
    #[serde(default)]
    pub new_card_passcode: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PasscodeUpdateStarted {
    /// Nothing for the card: everything chosen is set.
    Updated(PasscodesView),
    /// The card's turn: change its passcode with this grant, then finish the update.
    CardNext {
        update_id: PasscodeUpdateId,
        grant: SignedGrant,
    },
}

/// The card took its new passcode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasscodeUpdateFinish {}

/// PASS-1 / PASS-4: which server-side passcodes are set, and when the passcodes were
/// last set (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasscodesView {
    pub account_recovery_set: bool,
    pub verification_set: bool,
    pub last_set_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passcode::PasscodeError;
    use proptest::prelude::*;

    #[test]
    fn pass_1_account_passcodes_are_8_to_20_keyboard_characters() {
        assert_eq!(
            AccountPasscode::parse("1234567"),
            Err(PasscodeError::WrongLength { min: 8, max: 20 })
        );
        assert!(AccountPasscode::parse("12345678").is_ok());
        assert!(AccountPasscode::parse("a b c d e f g h i j ").is_ok());
        assert_eq!(
            AccountPasscode::parse("123456789012345678901"),
            Err(PasscodeError::WrongLength { min: 8, max: 20 })
        );
        assert_eq!(
            AccountPasscode::parse("pässcode1"),
            Err(PasscodeError::NotKeyboardCharacters)
        );
        assert_eq!(
            AccountPasscode::parse_confirmed("correct horse", "correct house"),
            Err(PasscodeError::Mismatch)
        );
    }

    #[test]
    fn all_7_an_account_passcode_is_never_printed() {
        let request = PasscodeUpdateRequest {
            login_id: LoginId::from_bytes([1; 16]),
            signature: CardSignature::from_bytes(vec![0x30, 0x00]).unwrap(),
            account_recovery: PasscodeChange::Set(
                AccountPasscode::parse("s3cret-recovery").unwrap(),
            ),
            verification: PasscodeChange::Blank,
            new_card_passcode: false,
        };
        assert!(!format!("{request:?}").contains("s3cret"));
    }

    #[test]
    fn pass_2_the_wire_says_keep_blank_or_set() {
        let json = serde_json::json!({"set": "twelve chars"});
        let change: PasscodeChange = serde_json::from_value(json).unwrap();
        assert!(matches!(change, PasscodeChange::Set(_)));
        let blank: PasscodeChange = serde_json::from_value(serde_json::json!("blank")).unwrap();
        assert_eq!(blank, PasscodeChange::Blank);
        assert!(
            serde_json::from_value::<PasscodeChange>(serde_json::json!({"set": "short"})).is_err()
        );
    }

    proptest! {
        #[test]
        fn all_2_any_text_parses_or_errs(text in ".{0,40}") {
            let _ = AccountPasscode::parse(&text);
        }
    }
}
