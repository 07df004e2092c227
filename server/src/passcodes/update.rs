//! PASS-2 / PASS-3: one Update, the current Smartcard Passcode entered on the card. The
//! new server-side passcodes are hashed first (argon2 takes its time, and no transaction
//! waits on it), then checked against their history; without a new card passcode the
//! Update is set at once, with one, it waits for the card (`card_took`).

use std::ops::ControlFlow;

use api_types::audit::AuditAction;
use api_types::passcodes::{
    PasscodeChange, PasscodeKind, PasscodeUpdateRequest, PasscodeUpdateStarted, PasscodesView,
};
use api_types::ra::UserUuid;
use api_types::values::PasscodeUpdateId;
use bridge_grant::Operation;

use super::rules::{after, changed, UPDATE_LIFETIME_SECS};
use super::{passcodes_view, set_and_tell};
use crate::flow::card_again::CardProvenAgain;
use crate::flow::notice::NotMeDraw;
use crate::flow::{Client, Outcome, Subject, Write};
use crate::mail::templates::Sender;
use crate::secrets::{random_bytes, FlowSecret, SecretsError};
use crate::store::attempts::HexBytes;
use crate::store::passcodes::{self, HashedChange, HashedChanges, NewPasscode, PasscodeUpdate};
use crate::store::users::{self, User};
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::PasscodesUpdate;

impl AppState {
    pub async fn update_passcodes(
        &self,
        secret: Option<&FlowSecret>,
        request: PasscodeUpdateRequest,
        client: &Client,
    ) -> Result<PasscodeUpdateStarted, AppError> {
        let session = self.signed_in(ACTION, secret, client).await?;
        let info = &session.info;
        let changes = self.hash_changes(&info.uuid, &request).await?;
        let (now, mut tx) = self.open().await?;
        let proof = self
            .card_proven_again(
                &mut tx,
                info.card_guid,
                &request.login_id,
                &request.signature,
                now,
            )
            .await?;
        let mut reused = None;
        for (kind, change) in changes.each() {
            if let HashedChange::Set(new) = change {
                let history = passcodes::history(&mut tx, &info.uuid, kind).await?;
                if self.passcodes.in_history(&new.keyed.0, &history) && reused.is_none() {
                    reused = Some(kind);
                }
            }
        }
        let update = PasscodeUpdate {
            id: PasscodeUpdateId::from_bytes(random_bytes()),
            user_uuid: info.uuid.clone(),
            card_guid: info.card_guid,
            changes,
            created_at: now,
            expires_at: now + UPDATE_LIFETIME_SECS,
            finished_at: None,
        };
        let card = request.new_card_passcode.then(|| {
            let guid = *info.card_guid.as_bytes();
            self.grant(update.id.as_str(), guid, Operation::ChangePin, None, now)
        });
        let given = Given {
            subject: Subject::session(info),
            proof,
            holder: users::find(&mut tx, &info.uuid).await?,
            before: passcodes_view(&mut tx, &info.uuid).await?,
            reused,
            update,
            card,
            sender: &self.sender(),
            not_me: self.not_me_draw(),
        };
        self.finish(tx, now, client, decide(given, now)).await
    }

    /// Each server-side change, hashed for keeping and keyed for the history.
    async fn hash_changes(
        &self,
        user: &UserUuid,
        request: &PasscodeUpdateRequest,
    ) -> Result<HashedChanges, AppError> {
        let hasher = self.passcodes.clone();
        let user = user.as_str().to_owned();
        let chosen = [
            (
                PasscodeKind::AccountRecovery,
                request.account_recovery.clone(),
            ),
            (PasscodeKind::Verification, request.verification.clone()),
        ];
        let [account_recovery, verification] = crate::kdf::run(move || {
            chosen.map(|(kind, change)| -> Result<HashedChange, SecretsError> {
                Ok(match change {
                    PasscodeChange::Keep => HashedChange::Keep,
                    PasscodeChange::Blank => HashedChange::Blank,
                    PasscodeChange::Set(passcode) => {
                        let keyed = hasher.keyed(&user, kind.as_str(), passcode.expose())?;
                        HashedChange::Set(NewPasscode {
                            hash: hasher.hash(passcode.expose())?,
                            keyed: HexBytes(keyed),
                        })
                    }
                })
            })
        })
        .await?;
        Ok(HashedChanges {
            account_recovery: account_recovery?,
            verification: verification?,
        })
    }
}

/// What the step read and was given.
struct Given<'a> {
    subject: Subject,
    proof: CardProvenAgain,
    holder: Option<User>,
    before: PasscodesView,
    /// PASS-3: the first new passcode that is one of its last five.
    reused: Option<PasscodeKind>,
    /// The Update, to set now or to keep aside for the card.
    update: PasscodeUpdate,
    /// The bridge's grant to change the card's passcode, when a new one is chosen.
    card: Option<api_types::bridge::SignedGrant>,
    sender: &'a Sender<'a>,
    not_me: NotMeDraw<'a>,
}

fn decide(given: Given<'_>, now: i64) -> Outcome<PasscodeUpdateStarted> {
    let outcome = match given.proof.gate(Outcome::new(ACTION, given.subject)) {
        ControlFlow::Continue(outcome) => outcome,
        ControlFlow::Break(refused) => return refused,
    };
    let Some(holder) = given.holder else {
        return outcome.refuse(AppError::NotSignedIn);
    };
    // RA-6: while closed, nothing about the account changes by self-service.
    if holder.counters.self_service_closed {
        return outcome.refuse(AppError::SelfServiceClosed);
    }
    let update = given.update;
    let names = changed(&update.changes, given.card.is_some());
    if names.is_empty() {
        return outcome.refuse(AppError::NothingToUpdate);
    }
    if let Some(kind) = given.reused {
        return outcome
            .detail(format!("{} reused", super::rules::name(kind)))
            .refuse(AppError::PasscodeReused(kind));
    }
    let outcome = outcome.detail(names.join(", "));
    if let Some(grant) = given.card {
        let started = PasscodeUpdateStarted::CardNext {
            update_id: update.id.clone(),
            grant,
        };
        return outcome
            .write(Write::NewPasscodeUpdate(update))
            .ok("card_next", started);
    }
    let view = after(&given.before, &update.changes, now);
    let told = (given.sender, given.not_me);
    set_and_tell(outcome, &holder, (update.changes, &names), told, now)
        .ok("updated", PasscodeUpdateStarted::Updated(view))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::{card, john, mailed_to, SENDER};

    fn proven() -> CardProvenAgain {
        CardProvenAgain::proven()
    }

    fn set() -> HashedChange {
        HashedChange::Set(NewPasscode {
            hash: "h".into(),
            keyed: HexBytes(vec![1]),
        })
    }

    fn given(
        proof: CardProvenAgain,
        changes: HashedChanges,
        card: bool,
        reused: Option<PasscodeKind>,
    ) -> Outcome<PasscodeUpdateStarted> {
        let grant = card.then(|| api_types::bridge::SignedGrant {
            claims: "claims".into(),
            signature: "signature".into(),
        });
        let given = Given {
            subject: Subject::card_of(card_guid(), &john().uuid),
            proof,
            holder: Some(john()),
            before: PasscodesView {
                account_recovery_set: false,
                verification_set: true,
                last_set_at: None,
            },
            reused,
            update: PasscodeUpdate {
                id: PasscodeUpdateId::from_bytes([3; 16]),
                user_uuid: john().uuid,
                card_guid: card_guid(),
                changes,
                created_at: 1000,
                expires_at: 1000 + UPDATE_LIFETIME_SECS,
                finished_at: None,
            },
            card: grant,
            sender: &SENDER,
            not_me: NotMeDraw::for_tests(),
        };
        decide(given, 1000)
    }

    fn card_guid() -> api_types::CardGuid {
        card().guid
    }

    fn both(account_recovery: HashedChange, verification: HashedChange) -> HashedChanges {
        HashedChanges {
            account_recovery,
            verification,
        }
    }

    #[test]
    fn pass_2_server_side_passcodes_alone_are_set_at_once_and_the_user_told() {
        let outcome = given(proven(), both(set(), HashedChange::Blank), false, None);
        let Ok(PasscodeUpdateStarted::Updated(view)) = &outcome.reply else {
            panic!("{:?}", outcome.reply);
        };
        assert_eq!(
            (
                view.account_recovery_set,
                view.verification_set,
                view.last_set_at
            ),
            (true, false, Some(1000))
        );
        assert!(outcome
            .writes()
            .iter()
            .any(|w| matches!(w, Write::Passcodes { .. })));
        assert_eq!(mailed_to(&outcome), [john().email.as_str()]);
    }

    #[test]
    fn pass_2_with_a_new_card_passcode_nothing_is_set_until_the_card_takes_it() {
        let outcome = given(proven(), both(set(), HashedChange::Keep), true, None);
        assert!(matches!(
            outcome.reply,
            Ok(PasscodeUpdateStarted::CardNext { .. })
        ));
        assert!(matches!(
            outcome.writes(),
            [Write::UseLoginChallenge(_), Write::NewPasscodeUpdate(_)]
        ));
        assert!(mailed_to(&outcome).is_empty());
    }

    #[test]
    fn pass_3_a_reused_passcode_or_an_empty_update_changes_nothing() {
        let keep = || both(HashedChange::Keep, HashedChange::Keep);
        let empty = given(proven(), keep(), false, None);
        assert!(matches!(empty.reply, Err(AppError::NothingToUpdate)));
        assert!(matches!(empty.writes(), [Write::UseLoginChallenge(_)]));
        let reused = given(
            proven(),
            both(HashedChange::Keep, set()),
            true,
            Some(PasscodeKind::Verification),
        );
        assert!(matches!(
            reused.reply,
            Err(AppError::PasscodeReused(PasscodeKind::Verification))
        ));
        assert!(matches!(reused.writes(), [Write::UseLoginChallenge(_)]));
    }

    #[test]
    fn pass_2_the_current_passcode_must_be_proven_on_the_card() {
        let refused = CardProvenAgain::refused(AppError::CardNotGenuine);
        let outcome = given(refused, both(set(), set()), true, None);
        assert!(matches!(outcome.reply, Err(AppError::CardNotGenuine)));
        assert!(!outcome
            .writes()
            .iter()
            .any(|w| matches!(w, Write::NewPasscodeUpdate(_) | Write::Passcodes { .. })));
    }
}
