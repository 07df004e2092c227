//! SCSC-1 / SCSC-4: the Account Recovery details — User's Unique Identifier, Family Name
//! and Account Recovery Passcode — for the card that proved itself. All three must be the
//! card holder's; a wrong one of them, or a card that is not that user's, gets one and
//! the same answer in the same time: the argon2id check always runs (on a dummy hash when
//! no passcode is set), and only the card's own user is ever read. Five wrong close the
//! route (SCSC-4); right, the page is told where a code may go (SCSC-2).
//!
//! As with the answers, the slow check runs first, outside any transaction; the step then
//! locks the attempt and the user and re-checks both.

use api_types::audit::AuditAction;
use api_types::passcodes::PasscodeKind;
use api_types::recovery::{DeliveryOption, RecoveryAccepted, RecoveryRequest, UnlockRoute};
use api_types::AttemptId;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::rules::{check_step, AttemptState};
use super::{failed, Client, Outcome, Subject, Write};
use crate::flow::lockout::{
    count_recovery_failure, recovery_open, recovery_tries_left, MAX_RECOVERY_FAILURES,
};
use crate::secrets::FlowSecret;
use crate::store::attempts::Attempt;
use crate::store::users::{self, name_key, User};
use crate::store::{passcodes, StoreError};
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::UnlockRecovery;

/// What the slow check found, before the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checked {
    /// The attempt was not waiting for the details when checked.
    Skipped,
    Verified {
        all_right: bool,
    },
}

impl AppState {
    pub async fn recovery(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        request: RecoveryRequest,
        client: &Client,
    ) -> Result<RecoveryAccepted, AppError> {
        let checked = self.check_recovery(id, flow, &request).await?;
        let (now, mut tx, attempt) = self.open_attempt(ACTION, id, flow).await?;
        let outcome = match attempt {
            Ok(attempt) => {
                let user = self.lock_user(&mut tx, &attempt).await?;
                let options = self.delivery_options_of(&user);
                decide(attempt, checked, (&user, options), now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }

    /// The slow part: the three details against the card's own user, the passcode always
    /// through argon2id. Reads without a lock and holds no connection meanwhile.
    async fn check_recovery(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        request: &RecoveryRequest,
    ) -> Result<Checked, AppError> {
        let waiting = (AttemptState::CardProven, UnlockRoute::Scsc);
        let Some(attempt) = self.attempt_to_check(ACTION, (id, flow), waiting).await? else {
            return Ok(Checked::Skipped);
        };
        let mut conn = self.store.pool.acquire().await.map_err(StoreError::from)?;
        let holder = users::find(&mut conn, &attempt.user_uuid).await?;
        let stored = passcodes::hashes(&mut conn, &attempt.user_uuid).await?;
        drop(conn);
        let recovery_hash = stored
            .into_iter()
            .find(|(kind, _)| *kind == PasscodeKind::AccountRecovery)
            .map(|(_, hash)| hash);
        let same = |a: &str, b: &str| -> bool {
            Sha256::digest(a.as_bytes())
                .ct_eq(&Sha256::digest(b.as_bytes()))
                .into()
        };
        let uuid_right = same(request.uuid.as_str(), attempt.user_uuid.as_str());
        let name_right = holder.is_some_and(|holder| {
            same(
                &name_key(request.family_name.as_str()),
                &name_key(&holder.family_name),
            )
        });
        let hasher = self.passcodes.clone();
        let said = request.recovery_passcode.clone();
        let passcode_right = crate::kdf::run(move || {
            hasher.verify_or_dummy(said.expose(), recovery_hash.as_deref())
        })
        .await?;
        Ok(Checked::Verified {
            all_right: uuid_right & name_right & passcode_right,
        })
    }
}

fn decide(
    attempt: Attempt,
    checked: Checked,
    (user, options): (&User, Vec<DeliveryOption>),
    now: i64,
) -> Outcome<RecoveryAccepted> {
    let outcome = Outcome::new(ACTION, Subject::attempt(&attempt));
    // Closed meanwhile (SCSC-4, or an incident stop, RA-6): this attempt is dead too.
    if !recovery_open(user.counters) {
        let outcome = if attempt.state == AttemptState::CardProven {
            outcome.write(Write::Attempt(failed(&attempt)))
        } else {
            outcome
        };
        return outcome.refuse(AppError::RecoveryClosed);
    }
    if let Err(error) = check_step(
        attempt.state,
        AttemptState::CardProven,
        attempt.expires_at,
        now,
    ) {
        return outcome.refuse(error);
    }
    let all_right = match checked {
        Checked::Verified { all_right } if attempt.route == UnlockRoute::Scsc => all_right,
        _ => return outcome.refuse(AppError::WrongStep),
    };
    if !all_right {
        let before = user.counters;
        let after = count_recovery_failure(before);
        // The trail says a failure, never which detail: the RA needs the count, and a
        // reader of the trail must learn no more than the one who typed them.
        let outcome = outcome
            .write(Write::UnlockCounters {
                user_uuid: user.uuid.clone(),
                before,
                after,
            })
            .detail(format!(
                "failure {} of {MAX_RECOVERY_FAILURES}",
                after.recovery_failures
            ));
        return if recovery_open(after) {
            outcome.refuse(AppError::RecoveryNotRecognised {
                tries_left: recovery_tries_left(after),
            })
        } else {
            outcome
                .write(Write::Attempt(failed(&attempt)))
                .refuse(AppError::RecoveryClosed)
        };
    }
    if options.is_empty() {
        let ra_only = Attempt {
            state: AttemptState::RaOnly,
            ..attempt
        };
        return outcome
            .write(Write::Attempt(ra_only))
            .refuse(AppError::NoDeliveryChannel);
    }
    let identified = Attempt {
        state: AttemptState::Identified,
        ..attempt
    };
    outcome
        .write(Write::Attempt(identified))
        .ok("recognised", RecoveryAccepted { options })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::{self, john, written_attempt};
    use api_types::recovery::Delivery;

    fn proven() -> Attempt {
        Attempt {
            route: UnlockRoute::Scsc,
            ..fixtures::attempt(AttemptState::CardProven)
        }
    }

    fn email() -> Vec<DeliveryOption> {
        vec![DeliveryOption {
            delivery: Delivery::Email,
            hint: "j***@nhs.net".into(),
        }]
    }

    fn check(all_right: bool, user: &User, now: i64) -> Outcome<RecoveryAccepted> {
        decide(
            proven(),
            Checked::Verified { all_right },
            (user, email()),
            now,
        )
    }

    #[test]
    fn scsc_2_right_details_lead_to_the_choice_of_email_or_sms() {
        let outcome = check(true, &john(), 1100);
        assert_eq!(outcome.reply.as_ref().unwrap().options, email());
        assert_eq!(written_attempt(&outcome).state, AttemptState::Identified);
        let nowhere = decide(
            proven(),
            Checked::Verified { all_right: true },
            (&john(), Vec::new()),
            1100,
        );
        assert!(matches!(nowhere.reply, Err(AppError::NoDeliveryChannel)));
        assert_eq!(written_attempt(&nowhere).state, AttemptState::RaOnly);
    }

    #[test]
    fn scsc_4_wrong_details_count_and_the_fifth_closes_the_route() {
        let outcome = check(false, &john(), 1100);
        assert!(matches!(
            outcome.reply,
            Err(AppError::RecoveryNotRecognised { tries_left: 4 })
        ));
        assert!(outcome.writes().iter().any(|w| matches!(w,
            Write::UnlockCounters { after, .. } if after.recovery_failures == 1)));
        let mut tired = john();
        tired.counters.recovery_failures = MAX_RECOVERY_FAILURES - 1;
        let last = check(false, &tired, 1100);
        assert!(matches!(last.reply, Err(AppError::RecoveryClosed)));
        assert_eq!(written_attempt(&last).state, AttemptState::Failed);
        // Closed: even the right details are refused, and the attempt ends.
        tired.counters.recovery_failures = MAX_RECOVERY_FAILURES;
        let closed = check(true, &tired, 1100);
        assert!(matches!(closed.reply, Err(AppError::RecoveryClosed)));
        assert_eq!(written_attempt(&closed).state, AttemptState::Failed);
    }

    #[test]
    fn scsc_1_details_on_another_route_or_step_or_too_late_are_refused_unwritten() {
        let questions = Attempt {
            route: UnlockRoute::Questions,
            ..proven()
        };
        let outcome = decide(
            questions,
            Checked::Verified { all_right: true },
            (&john(), email()),
            1100,
        );
        assert!(matches!(outcome.reply, Err(AppError::WrongStep)));
        let skipped = decide(proven(), Checked::Skipped, (&john(), email()), 1100);
        assert!(matches!(skipped.reply, Err(AppError::WrongStep)));
        let late = check(true, &john(), proven().expires_at);
        assert!(matches!(late.reply, Err(AppError::AttemptExpired)));
        for outcome in [skipped, late] {
            assert!(outcome.writes().is_empty());
        }
    }
}
