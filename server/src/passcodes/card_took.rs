//! PASS-2: the card took its new passcode (the bridge changed it under the Update's
//! grant); the server-side part of the Update, kept aside until now, is set, and the
//! user told. Only the session that began the Update, on its card, within its lifetime,
//! and once. The page calls this only when the card took it: a card that refused (a
//! passcode of its last five, CARD-5) leaves the Update to lapse, and nothing changed.

use api_types::audit::AuditAction;
use api_types::passcodes::{PasscodeUpdateFinish, PasscodesView};
use api_types::values::PasscodeUpdateId;

use super::rules::{after, changed, check_waiting};
use super::{passcodes_view, set_and_tell};
use crate::flow::notice::NotMeDraw;
use crate::flow::{Client, Outcome, Subject, Write};
use crate::mail::templates::Sender;
use crate::secrets::FlowSecret;
use crate::store::passcodes::{self, PasscodeUpdate};
use crate::store::users::{self, User};
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::PasscodesFinish;

impl AppState {
    pub async fn finish_passcode_update(
        &self,
        id: &PasscodeUpdateId,
        secret: Option<&FlowSecret>,
        _request: PasscodeUpdateFinish,
        client: &Client,
    ) -> Result<PasscodesView, AppError> {
        let (session, now, mut tx) = self.session_step(ACTION, secret, client).await?;
        let info = &session.info;
        let update = passcodes::find_update_for_update(&mut tx, self.store.backend, id)
            .await?
            .filter(|u| u.user_uuid == info.uuid && u.card_guid == info.card_guid);
        let given = Given {
            subject: Subject::session(info),
            update,
            holder: users::find(&mut tx, &info.uuid).await?,
            before: passcodes_view(&mut tx, &info.uuid).await?,
            sender: &self.sender(),
            not_me: self.not_me_draw(),
        };
        self.finish(tx, now, client, decide(given, now)).await
    }
}

struct Given<'a> {
    subject: Subject,
    /// The session's own Update with that id, if any.
    update: Option<PasscodeUpdate>,
    holder: Option<User>,
    before: PasscodesView,
    sender: &'a Sender<'a>,
    not_me: NotMeDraw<'a>,
}

fn decide(given: Given<'_>, now: i64) -> Outcome<PasscodesView> {
    let outcome = Outcome::new(ACTION, given.subject);
    let (Some(update), Some(holder)) = (given.update, given.holder) else {
        return outcome.refuse(AppError::NotFound);
    };
    if let Err(refused) = check_waiting(&update, now) {
        return outcome.refuse(refused);
    }
    let names = changed(&update.changes, true);
    let view = after(&given.before, &update.changes, now);
    let outcome = outcome
        .detail(names.join(", "))
        .write(Write::PasscodeUpdateFinished(update.id));
    let told = (given.sender, given.not_me);
    set_and_tell(outcome, &holder, (update.changes, &names), told, now).ok("updated", view)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::{card, john, mailed_to, SENDER};
    use crate::passcodes::rules::UPDATE_LIFETIME_SECS;
    use crate::store::passcodes::{HashedChange, HashedChanges};

    fn waiting() -> PasscodeUpdate {
        PasscodeUpdate {
            id: PasscodeUpdateId::from_bytes([3; 16]),
            user_uuid: john().uuid,
            card_guid: card().guid,
            changes: HashedChanges {
                account_recovery: HashedChange::Blank,
                verification: HashedChange::Keep,
            },
            created_at: 1000,
            expires_at: 1000 + UPDATE_LIFETIME_SECS,
            finished_at: None,
        }
    }

    fn finish(update: Option<PasscodeUpdate>, now: i64) -> Outcome<PasscodesView> {
        let given = Given {
            subject: Subject::card_of(card().guid, &john().uuid),
            update,
            holder: Some(john()),
            before: PasscodesView {
                account_recovery_set: true,
                verification_set: true,
                last_set_at: None,
            },
            sender: &SENDER,
            not_me: NotMeDraw::for_tests(),
        };
        decide(given, now)
    }

    #[test]
    fn pass_2_the_card_took_it_so_the_rest_of_the_update_is_set_once() {
        let outcome = finish(Some(waiting()), 1100);
        let view = outcome.reply.as_ref().unwrap();
        assert_eq!(
            (
                view.account_recovery_set,
                view.verification_set,
                view.last_set_at
            ),
            (false, true, Some(1100))
        );
        assert_eq!(mailed_to(&outcome), [john().email.as_str()]);
        let done = PasscodeUpdate {
            finished_at: Some(1100),
            ..waiting()
        };
        let again = finish(Some(done), 1101);
        assert!(matches!(again.reply, Err(AppError::AttemptEnded)));
        assert!(again.writes().is_empty());
    }

    #[test]
    fn pass_2_another_sessions_update_or_a_late_one_changes_nothing() {
        assert!(matches!(finish(None, 1100).reply, Err(AppError::NotFound)));
        let late = finish(Some(waiting()), 1000 + UPDATE_LIFETIME_SECS);
        assert!(matches!(late.reply, Err(AppError::AttemptExpired)));
        assert!(late.writes().is_empty());
    }
}
