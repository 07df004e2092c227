//! UNL-5 / ALL-1: the emailed code — 15 minutes, single use, limited tries. A right code
//! is answered with the card script (CARD-3).

use api_types::unlock::{CodeRequest, CodeResponse};
use api_types::{AttemptId, UnlockCode};

use super::rules::{check_step, AttemptState, CODE_TTL, MAX_CODE_FAILURES};
use super::script::{build, load_card, FreshSecrets};
use super::{failed, Client, Outcome, Subject, Write};
use crate::secrets::FlowSecret;
use crate::secrets::{code_matches, Kek};
use crate::store::attempts::Attempt;
use crate::store::cards::Card;
use crate::{AppError, AppState};

const ACTION: &str = "unlock.code";

impl AppState {
    pub async fn code(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        request: CodeRequest,
        client: &Client,
    ) -> Result<CodeResponse, AppError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let outcome = match self.find_attempt(&mut tx, id, flow, ACTION).await? {
            Ok(attempt) => {
                let card = load_card(self, &mut tx, &attempt).await?;
                let fresh = FreshSecrets::draw(&self.kek, &card)?;
                decide(attempt, &request.code, &card, &self.kek, fresh, now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

fn decide(
    attempt: Attempt,
    code: &UnlockCode,
    card: &Card,
    kek: &Kek,
    fresh: FreshSecrets,
    now: i64,
) -> Outcome<CodeResponse> {
    let outcome = Outcome::new(ACTION, Subject::of(&attempt));
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
    if !code_matches(&stored.salt, code, &stored.hash) {
        let code_failures = attempt.code_failures + 1;
        let exhausted = code_failures >= MAX_CODE_FAILURES;
        let counted = Attempt {
            code_failures,
            state: if exhausted {
                AttemptState::Failed
            } else {
                attempt.state
            },
            ..attempt
        };
        let outcome = outcome.write(Write::Attempt(counted));
        return outcome.refuse(if exhausted {
            AppError::CodeTriesExhausted
        } else {
            AppError::CodeInvalid {
                tries_left: u32::try_from(MAX_CODE_FAILURES - code_failures).unwrap_or(0),
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
    match build(card, kek, fresh) {
        Ok((response, pending)) => {
            let outcome = outcome.write(Write::Attempt(verified));
            match pending {
                Some(write) => outcome.write(write),
                None => outcome,
            }
            .ok("ok", response)
        }
        Err(error) => outcome.refuse(error),
    }
}
