//! UNL-5 / ALL-1: the emailed code — 15 minutes, single use, limited tries: 5 per code,
//! and a per-user count across attempts (default 5 a day) that closes self-service like
//! UNL-4, so starting again never buys fresh tries. A right code lets the card update
//! begin (`channel`, CARD-3).

use api_types::unlock::{CodeAccepted, CodeRequest};
use api_types::{AttemptId, UnlockCode};

use super::rules::{check_step, count_code_failure, AttemptState, CODE_TTL, MAX_CODE_FAILURES};
use super::{failed, refuse_closed, Client, Outcome, Subject, Write};
use crate::secrets::CodePepper;
use crate::secrets::FlowSecret;
use crate::store::attempts::Attempt;
use crate::store::users::User;
use crate::{AppError, AppState};

const ACTION: &str = "unlock.code";

impl AppState {
    pub async fn code(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        request: CodeRequest,
        client: &Client,
    ) -> Result<CodeAccepted, AppError> {
        self.limit_client_and_user(ACTION, id, flow, client).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let outcome = match self.find_attempt(&mut tx, id, flow, ACTION).await? {
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
    code: &'a UnlockCode,
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
    let outcome = Outcome::new(ACTION, Subject::of(&attempt));
    // Closed by another attempt meanwhile (UNL-4, UNL-5): this code is dead too.
    if user.counters.self_service_closed {
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
    if now >= stored.expires_at {
        return outcome
            .write(Write::Attempt(failed(&attempt)))
            .refuse(AppError::CodeExpired);
    }
    if !pepper.matches(&stored.salt, code, &stored.hash) {
        let before = user.counters;
        let after = count_code_failure(before, limit_per_day, now);
        let code_failures = attempt.code_failures + 1;
        let exhausted = code_failures >= MAX_CODE_FAILURES;
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
        let left = (MAX_CODE_FAILURES - code_failures).min(limit_per_day - after.code_failures);
        return outcome.refuse(if after.self_service_closed {
            AppError::SelfServiceClosed
        } else if exhausted {
            AppError::CodeTriesExhausted
        } else {
            AppError::CodeInvalid {
                tries_left: u32::try_from(left).unwrap_or(0),
            }
        });
    }
    // Single use: the code is gone; the card update has its own 15 minutes.
    let verified = Attempt {
        state: AttemptState::CodeVerified,
        code: None,
        expires_at: now + CODE_TTL,
        ..attempt
    };
    let accepted = CodeAccepted {
        card_guid: verified.card_guid,
    };
    outcome.write(Write::Attempt(verified)).ok("ok", accepted)
}
