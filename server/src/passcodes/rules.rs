//! Manage Passcodes' own rules, pure (PASS-2, PASS-3): what an Update changes, what the
//! passcodes look like after it, the names it is told by, and how long it waits for
//! the card.

use api_types::passcodes::{PasscodeKind, PasscodesView};

use crate::store::passcodes::{HashedChange, HashedChanges, PasscodeUpdate};
use crate::AppError;

/// PASS-2: how long an Update waits for the card to take its new passcode (the page
/// asks the bridge at once; the user may have to confirm the last try).
pub(crate) const UPDATE_LIFETIME_SECS: i64 = 10 * 60;

/// The passcodes' names as seed 003 gives them.
pub(crate) fn name(kind: PasscodeKind) -> &'static str {
    match kind {
        PasscodeKind::AccountRecovery => "Account Recovery Passcode",
        PasscodeKind::Verification => "Verification Passcode",
    }
}

pub(crate) const CARD_PASSCODE: &str = "Smartcard Passcode";

/// What an Update changes, by name, in the page's order; empty: nothing.
pub(crate) fn changed(changes: &HashedChanges, card: bool) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = changes
        .each()
        .into_iter()
        .filter(|(_, change)| !matches!(change, HashedChange::Keep))
        .map(|(kind, _)| name(kind))
        .collect();
    if card {
        names.push(CARD_PASSCODE);
    }
    names
}

/// The passcodes as they are once `changes` are set at `now`.
pub(crate) fn after(before: &PasscodesView, changes: &HashedChanges, now: i64) -> PasscodesView {
    let set = |was: bool, change: &HashedChange| match change {
        HashedChange::Keep => was,
        HashedChange::Blank => false,
        HashedChange::Set(_) => true,
    };
    PasscodesView {
        account_recovery_set: set(before.account_recovery_set, &changes.account_recovery),
        verification_set: set(before.verification_set, &changes.verification),
        last_set_at: Some(now),
    }
}

/// An Update waiting for the card can finish once, within its lifetime.
pub(crate) fn check_waiting(update: &PasscodeUpdate, now: i64) -> Result<(), AppError> {
    match update.finished_at {
        Some(_) => Err(AppError::AttemptEnded),
        None if now >= update.expires_at => Err(AppError::AttemptExpired),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::attempts::HexBytes;
    use crate::store::passcodes::NewPasscode;

    fn set() -> HashedChange {
        HashedChange::Set(NewPasscode {
            hash: "h".into(),
            keyed: HexBytes(vec![1]),
        })
    }

    fn changes(account_recovery: HashedChange, verification: HashedChange) -> HashedChanges {
        HashedChanges {
            account_recovery,
            verification,
        }
    }

    #[test]
    fn pass_2_an_update_names_what_it_changes_in_the_pages_order() {
        let both = changes(set(), HashedChange::Blank);
        assert_eq!(
            changed(&both, true),
            [
                "Account Recovery Passcode",
                "Verification Passcode",
                "Smartcard Passcode"
            ]
        );
        let none = changes(HashedChange::Keep, HashedChange::Keep);
        assert!(changed(&none, false).is_empty());
        assert_eq!(changed(&none, true), ["Smartcard Passcode"]);
    }

    #[test]
    fn pass_2_set_blank_and_keep_as_the_passcodes_then_stand() {
        let before = PasscodesView {
            account_recovery_set: true,
            verification_set: false,
            last_set_at: Some(1),
        };
        let view = after(&before, &changes(HashedChange::Blank, set()), 50);
        assert_eq!(
            (
                view.account_recovery_set,
                view.verification_set,
                view.last_set_at
            ),
            (false, true, Some(50))
        );
        let kept = after(
            &before,
            &changes(HashedChange::Keep, HashedChange::Keep),
            60,
        );
        assert_eq!(
            (kept.account_recovery_set, kept.verification_set),
            (true, false)
        );
    }

    #[test]
    fn pass_2_an_update_waits_for_the_card_ten_minutes_and_finishes_once() {
        let update = PasscodeUpdate {
            id: api_types::values::PasscodeUpdateId::from_bytes([1; 16]),
            user_uuid: crate::fixtures::john_uuid(),
            card_guid: crate::fixtures::card().guid,
            changes: changes(HashedChange::Keep, HashedChange::Keep),
            created_at: 1000,
            expires_at: 1000 + UPDATE_LIFETIME_SECS,
            finished_at: None,
        };
        assert!(check_waiting(&update, 1000 + UPDATE_LIFETIME_SECS - 1).is_ok());
        assert!(matches!(
            check_waiting(&update, 1000 + UPDATE_LIFETIME_SECS),
            Err(AppError::AttemptExpired)
        ));
        let done = PasscodeUpdate {
            finished_at: Some(1001),
            ..update
        };
        assert!(matches!(
            check_waiting(&done, 1002),
            Err(AppError::AttemptEnded)
        ));
    }
}
