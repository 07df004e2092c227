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
    ViewPasscodes = GET "/api/passcodes", () => PasscodesView,
        refuses [NotSignedIn, PasscodesLocked, RateLimited];
    /// PASS-2: one Update: the current passcode on the card, and every change chosen.
    UpdatePasscodes = POST "/api/passcodes", PasscodeUpdateRequest => PasscodeUpdateStarted,
        refuses [NotSignedIn, PasscodesLocked, NotFound, LoginExpired, CertificateNotValid,
            CardNotGenuine, SelfServiceClosed, NothingToUpdate, AccountRecoveryPasscodeReused,
            VerificationPasscodeReused, RateLimited];
    /// PASS-2: the card took its new passcode; the server-side ones kept aside are set.
    FinishPasscodeUpdate = POST "/api/passcodes/{id}/finish" PasscodeUpdateId, PasscodeUpdateFinish => PasscodesView,
        refuses [NotSignedIn, PasscodesLocked, AttemptEnded, AttemptExpired, RateLimited];
}

/// The two passcodes the server keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasscodeUpdateFinish {}

/// PASS-1 / PASS-4: which server-side passcodes are set, and when the passcodes were
/// last set (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasscodesView {
    pub account_recovery_set: bool,
    pub verification_set: bool,
    pub last_set_at: Option<i64>,
}

const DAY: i64 = 24 * 60 * 60;

/// PASS-4: how the passcodes age — the same under both profiles, each period from the
/// configuration. `lifetime_days` 0 turns expiry off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasscodeExpiry {
    /// Days after the passcodes were last set that they expire (seeds: 365).
    pub lifetime_days: i64,
    /// Days before expiry that the daily reminder and the sign-in prompt start (14).
    pub reminder_days: i64,
    /// Days after expiry, unchanged, that the account locks for sign-in and
    /// self-service until the RA unlocks it (21).
    pub lock_after_days: i64,
}

impl Default for PasscodeExpiry {
    fn default() -> Self {
        Self {
            lifetime_days: 365,
            reminder_days: 14,
            lock_after_days: 21,
        }
    }
}

/// PASS-4: what is due for a user's passcodes, as the server decides it (sign-in, the
/// reminders) and the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "due", deny_unknown_fields)]
pub enum PasscodesDue {
    NotDue,
    /// In the days before expiry: a reminder a day, a prompt the user may decline.
    Reminder {
        expires_at: i64,
    },
    /// Expired: sign-in leads to Manage Passcodes before anything else.
    Expired {
        expires_at: i64,
        locks_at: i64,
    },
    /// Locked for sign-in and self-service; only the RA unlocks it (RA-3).
    Locked {
        expires_at: i64,
    },
}

/// PASS-4: the dates that matter for the passcodes (My card's timeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasscodeDates {
    pub reminders_from: i64,
    pub expires_at: i64,
    pub locks_at: i64,
}

impl PasscodeExpiry {
    /// The dates for passcodes last set at `set_at`; an RA unlock at `ra_unlocked_at`
    /// gives the user the lock period again from then. None: expiry is off, or the
    /// passcodes have no date.
    pub fn dates(&self, set_at: Option<i64>, ra_unlocked_at: Option<i64>) -> Option<PasscodeDates> {
        let set_at = set_at.filter(|_| self.lifetime_days > 0)?;
        let expires_at = set_at + self.lifetime_days * DAY;
        let grace_from = ra_unlocked_at.map_or(expires_at, |at| at.max(expires_at));
        Some(PasscodeDates {
            reminders_from: expires_at - self.reminder_days * DAY,
            expires_at,
            locks_at: grace_from + self.lock_after_days * DAY,
        })
    }

    pub fn due(&self, set_at: Option<i64>, ra_unlocked_at: Option<i64>, now: i64) -> PasscodesDue {
        let Some(dates) = self.dates(set_at, ra_unlocked_at) else {
            return PasscodesDue::NotDue;
        };
        let PasscodeDates {
            reminders_from,
            expires_at,
            locks_at,
        } = dates;
        if now >= locks_at {
            PasscodesDue::Locked { expires_at }
        } else if now >= expires_at {
            PasscodesDue::Expired {
                expires_at,
                locks_at,
            }
        } else if now >= reminders_from {
            PasscodesDue::Reminder { expires_at }
        } else {
            PasscodesDue::NotDue
        }
    }
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
            login_id: LoginId::from_bytes([1; 56]),
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

    const NOW: i64 = 1_900_000_000;

    #[test]
    fn pass_4_reminders_14_days_before_forced_at_365_locked_21_days_after() {
        let rule = PasscodeExpiry::default();
        let set = Some(NOW);
        let at = |days: i64, secs: i64| NOW + days * DAY + secs;
        let expires_at = at(365, 0);
        assert_eq!(rule.due(set, None, at(351, -1)), PasscodesDue::NotDue);
        assert_eq!(
            rule.due(set, None, at(351, 0)),
            PasscodesDue::Reminder { expires_at }
        );
        assert_eq!(
            rule.due(set, None, at(365, -1)),
            PasscodesDue::Reminder { expires_at }
        );
        let expired = PasscodesDue::Expired {
            expires_at,
            locks_at: at(386, 0),
        };
        assert_eq!(rule.due(set, None, at(365, 0)), expired);
        assert_eq!(rule.due(set, None, at(386, -1)), expired);
        assert_eq!(
            rule.due(set, None, at(386, 0)),
            PasscodesDue::Locked { expires_at }
        );
        // The same passcodes, the clock moved a day at a time.
        let days: Vec<PasscodesDue> = (349..=387).map(|d| rule.due(set, None, at(d, 0))).collect();
        let reminders = days
            .iter()
            .filter(|d| matches!(d, PasscodesDue::Reminder { .. }));
        assert_eq!(reminders.count(), 14);
        let expired_days = days
            .iter()
            .filter(|d| matches!(d, PasscodesDue::Expired { .. }));
        assert_eq!(expired_days.count(), 21);
    }

    #[test]
    fn pass_4_an_ra_unlock_gives_the_lock_period_again_and_off_means_never() {
        let rule = PasscodeExpiry::default();
        let unlocked = NOW + 400 * DAY;
        assert_eq!(
            rule.due(Some(NOW), Some(unlocked), unlocked),
            PasscodesDue::Expired {
                expires_at: NOW + 365 * DAY,
                locks_at: unlocked + 21 * DAY
            }
        );
        // An unlock before expiry changes nothing.
        let early = rule.dates(Some(NOW), Some(NOW + DAY)).unwrap();
        assert_eq!(early.locks_at, NOW + 386 * DAY);
        let off = PasscodeExpiry {
            lifetime_days: 0,
            ..rule
        };
        assert_eq!(
            off.due(Some(NOW), None, NOW + 1000 * DAY),
            PasscodesDue::NotDue
        );
        assert_eq!(rule.due(None, None, NOW), PasscodesDue::NotDue);
    }

    proptest! {
        #[test]
        fn all_2_any_text_parses_or_errs(text in ".{0,40}") {
            let _ = AccountPasscode::parse(&text);
        }
    }
}
