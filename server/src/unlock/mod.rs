//! The self-service unlock (UNL-1…UNL-8; and its routes without the questions, SCSC-1…
//! SCSC-4 and POL-3: [`recovery`], [`send_code`]) as a persisted state machine: each call moves
//! one `unlock_attempts` row one step, so any instance can serve any step and a crash
//! loses nothing. Every step reads the same way — opened by the kernel's
//! [`AppState::attempt_step`] (rate limits, the attempt this browser holds) → load → a
//! pure `decide` with `now` ([`rules`] holds the unlock's own rules) →
//! [`AppState::finish`], which applies the [`Outcome`]: its writes, its mail and its audit
//! event, in one transaction. So every exit, refusals included, leaves its audit row
//! (RA-4).
//!
//! One file per step, no SQL here (that is [`crate::store`]), no words here (mail is
//! [`crate::mail::templates`], the page owns the sentences for each
//! [`api_types::ErrorCode`]).

mod answers;
mod card_proof;
mod channel;
mod code;
mod complete;
mod proven;
mod ra_code;
mod recovery;
mod resume;
pub mod rules;
mod script;
mod send_code;
mod start;

pub use start::Started;

pub(crate) use crate::flow::{Client, Guard, Outcome, Subject, Write};
use crate::store::attempts::Attempt;
use crate::store::cards::Card;
use crate::store::users::{self, User};
use crate::store::{cards, Tx};
use crate::{AppError, AppState};
use rules::AttemptState;

/// An attempt whose card or user row is gone.
fn missing(column: &'static str) -> AppError {
    AppError::from(crate::store::StoreError::Corrupt {
        table: "unlock_attempts",
        column,
    })
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
