//! UNL-5 / POL-3 / SCSC-2 / ALL-1: the one-time code — the emailed 6-digit code (UNL-5,
//! and POL-3's by email or SMS: 15 minutes), or the SCSC's One Time Passcode (10 minutes);
//! single use, 5 tries per code. The 6-digit codes also count per user across attempts
//! (default 5 a day), closing self-service like UNL-4, so starting again never buys fresh
//! tries; a One Time Passcode needs the Account Recovery details again for each new one
//! (SCSC-4 counts those). A right code lets the card update begin (`channel`, CARD-3).

use api_types::audit::AuditAction;
use api_types::recovery::{TypedCode, UnlockRoute};
use api_types::unlock::{CodeAccepted, CodeRequest};
use api_types::AttemptId;

use super::rules::{check_step, AttemptState, CARD_UPDATE_TTL};
use super::{failed, refuse_closed, Client, Guard, Outcome, Subject, Write};
use crate::flow::codes::{judge_code, CodeKind, CodeVerdict, HeldCode};
use crate::flow::lockout::{count_code_failure, recovery_open};
use crate::secrets::CodePepper;
use crate::secrets::FlowSecret;
use crate::store::attempts::Attempt;
use crate::store::users::User;
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::UnlockCode;

impl AppState {
    pub async fn code(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        request: CodeRequest,
        client: &Client,
    ) -> Result<CodeAccepted, AppError> {
        let (now, mut tx, attempt) = self
            .attempt_step(ACTION, id, flow, Guard::UsersFailures)
            .await?;
        let outcome = match attempt {
            Ok(attempt) => {
                let user = self.lock_user(&mut tx, &attempt).await?;
                let limit = i64::from(self.settings.max_code_failures_per_day);
                let given = Given {
                    code: &request.code,
                    user: &user,
                    pepper: &self.code_pepper,
                };
                decide(attempt, given, limit, now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

/// What the step read, and the code the user typed.
struct Given<'a> {
    code: &'a TypedCode,
    user: &'a User,
    pepper: &'a CodePepper,
}

fn decide(
    attempt: Attempt,
    given: Given<'_>,
    limit_per_day: i64,
    now: i64,
) -> Outcome<CodeAccepted> {
    let Given { code, user, pepper } = given;
    let outcome = Outcome::new(ACTION, Subject::attempt(&attempt));
    let scsc = attempt.route == UnlockRoute::Scsc;
    // Closed by another attempt meanwhile (UNL-4, UNL-5, SCSC-4, RA-6): this code is dead.
    if scsc && !recovery_open(user.counters) {
        return refuse_closed(outcome, &attempt, AttemptState::CodeSent)
            .refuse(AppError::RecoveryClosed);
    }
    if !scsc && user.counters.self_service_closed {
        return refuse_closed(outcome, &attempt, AttemptState::CodeSent);
    }
    if let Err(error) = check_step(
        attempt.state,
        AttemptState::CodeSent,
        attempt.expires_at,
        now,
    ) {
        return outcome.refuse(error);
    }
    let Some(stored) = &attempt.code else {
        return outcome.refuse(AppError::Invariant("code sent without a code"));
    };
    let held = HeldCode::of(stored, attempt.code_failures);
    let kind = if scsc {
        CodeKind::Recovery
    } else {
        CodeKind::Unlock
    };
    let verdict = judge_code(kind, held, code, pepper, now);
    match verdict {
        CodeVerdict::Right => {}
        CodeVerdict::Wrong {
            failures,
            tries_left,
        } if scsc => {
            let counted = Attempt {
                code_failures: failures,
                state: if tries_left <= 0 {
                    AttemptState::Failed
                } else {
                    attempt.state
                },
                ..attempt
            };
            let error = verdict.refusal().unwrap_or(AppError::CodeTriesExhausted);
            return outcome.write(Write::Attempt(counted)).refuse(error);
        }
        CodeVerdict::Wrong {
            failures,
            tries_left,
        } => {
            let wrong = (failures, tries_left);
            return count_wrong_code(outcome, attempt, user, wrong, limit_per_day, now);
        }
        // A code is single use: once used the attempt has moved on, so only an expired
        // code (or one dead from earlier tries) can be met here; either ends the attempt.
        CodeVerdict::Used | CodeVerdict::Expired | CodeVerdict::Exhausted => {
            let error = verdict.refusal().unwrap_or(AppError::CodeExpired);
            return outcome
                .write(Write::Attempt(failed(&attempt)))
                .refuse(error);
        }
    }
    // Single use: the code is gone; the card update has its own 15 minutes.
    let verified = Attempt {
        state: AttemptState::CodeVerified,
        code: None,
        expires_at: now + CARD_UPDATE_TTL,
        ..attempt
    };
    let accepted = CodeAccepted {
        card_guid: verified.card_guid,
    };
    outcome.write(Write::Attempt(verified)).ok("ok", accepted)
}

/// UNL-5 / ALL-1: a wrong code counts against the code and against the user's day; either
/// running out ends the attempt, and the day's limit closes self-service (UNL-4).
fn count_wrong_code(
    outcome: Outcome<CodeAccepted>,
    attempt: Attempt,
    user: &User,
    (code_failures, code_tries_left): (i64, i64),
    limit_per_day: i64,
    now: i64,
) -> Outcome<CodeAccepted> {
    let before = user.counters;
    let after = count_code_failure(before, limit_per_day, now);
    let exhausted = code_tries_left <= 0;
    let counted = Attempt {
        code_failures,
        state: if exhausted || after.self_service_closed {
            AttemptState::Failed
        } else {
            attempt.state
        },
        ..attempt
    };
    let outcome = outcome
        .write(Write::Attempt(counted))
        .write(Write::UnlockCounters {
            user_uuid: user.uuid.clone(),
            before,
            after,
        })
        .detail(format!(
            "wrong code {} today, {code_failures} in this attempt",
            after.code_failures
        ));
    let left = code_tries_left.min(limit_per_day - after.code_failures);
    outcome.refuse(if after.self_service_closed {
        AppError::SelfServiceClosed
    } else if exhausted {
        AppError::CodeTriesExhausted
    } else {
        AppError::CodeInvalid {
            tries_left: u32::try_from(left).unwrap_or(0),
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::{attempt, john, pepper, written_attempt};
    use crate::flow::codes::FreshCode;
    use crate::store::users::UnlockCounters;

    /// An attempt whose code "975310" was sent at 1000, with `failures` wrong tries.
    fn sent(failures: i64) -> Attempt {
        let fresh = FreshCode {
            code: api_types::UnlockCode::parse("975310").unwrap(),
            salt: [2; 16],
        };
        Attempt {
            code: Some(fresh.stored(CodeKind::Unlock, &pepper(), 1000)),
            code_failures: failures,
            ..attempt(AttemptState::CodeSent)
        }
    }

    fn type_code(attempt: Attempt, user: &User, typed: &str, now: i64) -> Outcome<CodeAccepted> {
        let pepper = pepper();
        let code = TypedCode::parse(typed).unwrap();
        let given = Given {
            code: &code,
            user,
            pepper: &pepper,
        };
        decide(attempt, given, 5, now)
    }

    #[test]
    fn unl_5_the_right_code_in_time_is_used_up_and_the_card_update_gets_its_own_time() {
        let outcome = type_code(sent(0), &john(), "975310", 1000 + 15 * 60 - 1);
        assert!(outcome.reply.is_ok());
        let verified = written_attempt(&outcome);
        assert_eq!(verified.state, AttemptState::CodeVerified);
        assert!(verified.code.is_none());
        assert_eq!(verified.expires_at, 1000 + 15 * 60 - 1 + CARD_UPDATE_TTL);
    }

    #[test]
    fn unl_5_the_code_a_second_late_ends_the_attempt() {
        let outcome = type_code(sent(0), &john(), "975310", 1000 + 15 * 60);
        assert!(matches!(outcome.reply, Err(AppError::CodeExpired)));
        assert_eq!(written_attempt(&outcome).state, AttemptState::Failed);
    }

    #[test]
    fn unl_5_a_wrong_code_counts_for_the_code_and_for_the_users_day() {
        let outcome = type_code(sent(1), &john(), "000000", 1100);
        assert!(matches!(
            outcome.reply,
            Err(AppError::CodeInvalid { tries_left: 3 })
        ));
        assert_eq!(written_attempt(&outcome).code_failures, 2);
        assert!(outcome.writes().iter().any(|w| matches!(w,
            Write::UnlockCounters { after, .. } if after.code_failures == 1)));
        // The day's count can leave fewer tries than the code has.
        let mut tired = john();
        tired.counters = UnlockCounters {
            code_failures: 3,
            code_window_started_at: 900,
            ..UnlockCounters::default()
        };
        let outcome = type_code(sent(0), &tired, "000000", 1100);
        assert!(matches!(
            outcome.reply,
            Err(AppError::CodeInvalid { tries_left: 1 })
        ));
    }

    #[test]
    fn unl_5_the_fifth_wrong_code_ends_the_attempt() {
        let outcome = type_code(sent(4), &john(), "000000", 1100);
        assert!(matches!(outcome.reply, Err(AppError::CodeTriesExhausted)));
        assert_eq!(written_attempt(&outcome).state, AttemptState::Failed);
    }

    #[test]
    fn unl_4_the_days_last_wrong_code_closes_self_service() {
        let mut tired = john();
        tired.counters = UnlockCounters {
            code_failures: 4,
            code_window_started_at: 900,
            ..UnlockCounters::default()
        };
        let outcome = type_code(sent(0), &tired, "000000", 1100);
        assert!(matches!(outcome.reply, Err(AppError::SelfServiceClosed)));
        assert_eq!(written_attempt(&outcome).state, AttemptState::Failed);
        // Closed meanwhile by another attempt: even the right code is dead.
        let mut closed = john();
        closed.counters.self_service_closed = true;
        let outcome = type_code(sent(0), &closed, "975310", 1100);
        assert!(matches!(outcome.reply, Err(AppError::SelfServiceClosed)));
        assert_eq!(written_attempt(&outcome).state, AttemptState::Failed);
    }

    #[test]
    fn unl_5_a_code_at_another_step_is_refused_without_a_write() {
        let used = Attempt {
            state: AttemptState::CodeVerified,
            code: None,
            ..sent(0)
        };
        let outcome = type_code(used, &john(), "975310", 1100);
        assert!(matches!(outcome.reply, Err(AppError::CodeAlreadyUsed)));
        assert!(outcome.writes().is_empty());
    }

    /// An SCSC attempt whose One Time Passcode was sent at 1000.
    fn passcode_sent(failures: i64) -> Attempt {
        let fresh = FreshCode {
            code: api_types::recovery::OneTimePasscode::parse("ABCDEFGH2345").unwrap(),
            salt: [3; 16],
        };
        Attempt {
            route: UnlockRoute::Scsc,
            code: Some(fresh.stored(CodeKind::Recovery, &pepper(), 1000)),
            code_failures: failures,
            ..attempt(AttemptState::CodeSent)
        }
    }

    #[test]
    fn scsc_2_the_one_time_passcode_lasts_ten_minutes_in_any_case_and_once() {
        let right = type_code(passcode_sent(0), &john(), "abcd-efgh-2345", 1000 + 599);
        assert_eq!(written_attempt(&right).state, AttemptState::CodeVerified);
        let late = type_code(passcode_sent(0), &john(), "ABCDEFGH2345", 1000 + 600);
        assert!(matches!(late.reply, Err(AppError::CodeExpired)));
        // A 6-digit code is simply wrong here, and counts only against this code.
        let wrong = type_code(passcode_sent(3), &john(), "975310", 1100);
        assert!(matches!(
            wrong.reply,
            Err(AppError::CodeInvalid { tries_left: 1 })
        ));
        assert!(!wrong
            .writes()
            .iter()
            .any(|w| matches!(w, Write::UnlockCounters { .. })));
        let last = type_code(passcode_sent(4), &john(), "ZZZZZZZZZZZZ", 1100);
        assert!(matches!(last.reply, Err(AppError::CodeTriesExhausted)));
        assert_eq!(written_attempt(&last).state, AttemptState::Failed);
    }

    #[test]
    fn scsc_4_the_questions_strikes_leave_the_scsc_code_alive_but_a_stop_kills_it() {
        let mut struck = john();
        struck.counters.self_service_closed = true;
        struck.counters.answer_failures = 3;
        let outcome = type_code(passcode_sent(0), &struck, "ABCDEFGH2345", 1100);
        assert!(outcome.reply.is_ok());
        struck.counters.stopped = true;
        let outcome = type_code(passcode_sent(0), &struck, "ABCDEFGH2345", 1100);
        assert!(matches!(outcome.reply, Err(AppError::RecoveryClosed)));
        assert_eq!(written_attempt(&outcome).state, AttemptState::Failed);
    }
}
