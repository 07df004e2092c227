//! The self-service unlock (UNL-1…UNL-8) as a persisted state machine: each call moves
//! one `unlock_attempts` row one step, so any instance can serve any step and a crash
//! loses nothing. Every step reads the same way — load → a pure `decide` with `now`
//! ([`rules`] holds the shared rules) → [`AppState::finish`], which applies the
//! [`Outcome`]: its writes, its mail and its audit event, in one transaction. So every
//! exit, refusals included, leaves its audit row (RA-4).
//!
//! This is the model every later flow copies: one file per step, no SQL here (that is
//! [`crate::store`]), no words here (mail is [`crate::mail::templates`], the page owns
//! the sentences for each [`api_types::ErrorCode`]).

mod answers;
mod card_proof;
mod channel;
mod code;
mod complete;
pub(crate) mod limits;
mod ra_code;
mod resume;
pub mod rules;
mod script;
mod start;

pub use ra_code::{MAX_PHONE_CODE_FAILURES, PHONE_CODE_TTL};
pub use start::Started;

use api_types::AttemptId;

pub(crate) use crate::flow::{Outcome, Subject, Write};
use crate::secrets::FlowSecret;
use crate::store::attempts::{self, Attempt};
use crate::store::cards::Card;
use crate::store::users::{self, User};
use crate::store::{cards, Tx};
use crate::{AppError, AppState};
use rules::AttemptState;

pub use crate::client::Client;

/// An attempt whose card or user row is gone.
fn missing(column: &'static str) -> AppError {
    AppError::from(crate::store::StoreError::Corrupt {
        table: "unlock_attempts",
        column,
    })
}

/// A step on an attempt that does not exist: refused, and recorded.
fn not_found<T>(action: &'static str) -> Outcome<T> {
    Outcome::new(action, Subject::default()).refuse(AppError::NotFound)
}

/// ALL-6: the attempt id names an attempt; only the flow cookie of the browser that
/// started it proves the right to move it.
fn flow_matches(attempt: &Attempt, flow: Option<&FlowSecret>) -> bool {
    match (flow, &attempt.flow_hash) {
        (Some(flow), Some(hash)) => flow.matches(hash),
        _ => false,
    }
}

/// UNL-4: a step on an attempt whose user's self-service is closed (by this attempt or
/// another) is refused, and the attempt dies if it was waiting for this step.
fn refuse_closed<T>(outcome: Outcome<T>, attempt: &Attempt, waiting: AttemptState) -> Outcome<T> {
    let outcome = if attempt.state == waiting {
        outcome.write(Write::Attempt(failed(attempt)))
    } else {
        outcome
    };
    outcome.refuse(AppError::SelfServiceClosed)
}

/// The attempt as saved when a step ends it.
fn failed(attempt: &Attempt) -> Attempt {
    Attempt {
        state: rules::AttemptState::Failed,
        ..attempt.clone()
    }
}

impl AppState {
    /// Finds and locks the attempt this browser holds. Unknown ids and a missing or wrong
    /// flow cookie are the same refusal (not found), recorded; the wrong cookie under the
    /// attempt's card, so the RA can see a leaked id being tried.
    async fn find_attempt<T>(
        &self,
        tx: &mut Tx,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        action: &'static str,
    ) -> Result<Result<Attempt, Outcome<T>>, AppError> {
        Ok(
            match attempts::find_for_update(tx, self.store.backend, id).await? {
                Some(attempt) if flow_matches(&attempt, flow) => Ok(attempt),
                Some(attempt) => Err(Outcome::new(action, Subject::of(&attempt))
                    .detail("flow cookie missing or wrong".into())
                    .refuse(AppError::NotFound)),
                None => Err(not_found(action)),
            },
        )
    }

    /// The attempt, read without a lock, if this browser holds it: for the checks made
    /// before a step's transaction (per-user limits, slow hashes).
    async fn held_attempt(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
    ) -> Result<Option<Attempt>, AppError> {
        let mut conn = self
            .store
            .pool
            .acquire()
            .await
            .map_err(crate::store::StoreError::from)?;
        let attempt = attempts::find(&mut conn, id).await?;
        Ok(attempt.filter(|attempt| flow_matches(attempt, flow)))
    }

    /// ALL-5 for a step that guesses a code: per client, and per user once the attempt
    /// is known to be this browser's.
    async fn limit_client_and_user(
        &self,
        action: &'static str,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        client: &Client,
    ) -> Result<(), AppError> {
        use limits::Scope;
        self.limit(action, Scope::Client(client), Subject::default(), client)
            .await?;
        if let Some(attempt) = self.held_attempt(id, flow).await? {
            let user = Scope::User(&attempt.user_uuid);
            self.limit(action, user, Subject::of(&attempt), client)
                .await?;
        }
        Ok(())
    }

    /// The attempt's card, locked for the rest of the step.
    async fn lock_card(&self, tx: &mut Tx, attempt: &Attempt) -> Result<Card, AppError> {
        cards::find_for_update(tx, self.store.backend, &attempt.card_guid)
            .await?
            .ok_or_else(|| missing("card_guid"))
    }

    /// The attempt's user, locked for the rest of the step (their UNL-4 counters).
    async fn lock_user(&self, tx: &mut Tx, attempt: &Attempt) -> Result<User, AppError> {
        users::find_for_update(tx, self.store.backend, &attempt.user_uuid)
            .await?
            .ok_or_else(|| missing("user_uuid"))
    }
}
