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
mod limits;
mod resume;
pub mod rules;
mod script;
mod start;

pub use start::Started;

use api_types::{AttemptId, CardGuid};

use crate::mail::templates::{Mail, Sender};
use crate::secrets::FlowSecret;
use crate::store::attempts::{self, Attempt};
use crate::store::audit::{self, AuditEntry};
use crate::store::cards::Card;
use crate::store::users::{self, UnlockCounters, User};
use crate::store::{cards, outbox, Tx};
use crate::{AppError, AppState};
use rules::AttemptState;

pub use crate::client::Client;

/// What an event is about. Unknown until the attempt is found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Subject {
    card_guid: Option<CardGuid>,
    user_uuid: Option<String>,
}

impl Subject {
    fn of(attempt: &Attempt) -> Self {
        Self {
            card_guid: Some(attempt.card_guid),
            user_uuid: Some(attempt.user_uuid.clone()),
        }
    }
}

/// One state change a step decided on, applied by [`AppState::finish`].
#[derive(Debug)]
pub(crate) enum Write {
    NewAttempt(Attempt),
    Attempt(Attempt),
    /// UNL-4 counters, compare-and-set from `before`.
    UnlockCounters {
        user_uuid: String,
        before: UnlockCounters,
        after: UnlockCounters,
    },
    /// UNL-3: the questions this user's attempts ask until an unlock succeeds (none:
    /// choose afresh next time).
    UnlockQuestions {
        user_uuid: String,
        question_ids: Vec<i64>,
    },
    /// CARD-3: a PUK about to be sent to the card, sealed.
    PendingPuk {
        card: CardGuid,
        sealed: Vec<u8>,
    },
    /// The card took the pending PUK; `sealed` is it sealed for the current-PUK column.
    AdoptPendingPuk {
        card: CardGuid,
        sealed: Vec<u8>,
    },
    /// The card kept its PUK.
    DropPendingPuk(CardGuid),
    Mail(Mail),
}

/// Everything one step decided: the writes, the audit event and the reply.
#[derive(Debug)]
pub(crate) struct Outcome<T> {
    action: &'static str,
    subject: Subject,
    /// The audit outcome on success; a refusal is recorded under its error code.
    ok_outcome: &'static str,
    detail: String,
    writes: Vec<Write>,
    reply: Result<T, AppError>,
}

impl<T> Outcome<T> {
    fn new(action: &'static str, subject: Subject) -> Self {
        Self {
            action,
            subject,
            ok_outcome: "ok",
            detail: String::new(),
            writes: Vec::new(),
            reply: Err(AppError::Invariant("outcome without a reply")),
        }
    }

    fn write(mut self, write: Write) -> Self {
        self.writes.push(write);
        self
    }

    fn detail(mut self, detail: String) -> Self {
        self.detail = detail;
        self
    }

    fn ok(mut self, outcome: &'static str, reply: T) -> Self {
        self.ok_outcome = outcome;
        self.reply = Ok(reply);
        self
    }

    fn refuse(mut self, error: AppError) -> Self {
        self.reply = Err(error);
        self
    }

    fn audit_entry(&self, client: &Client) -> AuditEntry {
        let card_guid = self.subject.card_guid.map(|g| g.to_hex());
        AuditEntry {
            actor: card_guid.clone().unwrap_or_else(|| "anonymous".into()),
            action: self.action.into(),
            outcome: match &self.reply {
                Ok(_) => self.ok_outcome.into(),
                Err(error) => error.code().as_str().into(),
            },
            card_guid,
            user_uuid: self.subject.user_uuid.clone(),
            client_addr: Some(client.addr.to_string()),
            detail: self.detail.clone(),
        }
    }

    #[cfg(test)]
    fn writes(&self) -> &[Write] {
        &self.writes
    }
}

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

    fn sender(&self) -> Sender<'_> {
        Sender {
            organisation: &self.settings.organisation_name,
            ra_help: &self.settings.ra_help,
        }
    }

    /// Applies a step's outcome — writes, mail, audit event — and commits; then the
    /// reply. The one way a step ends.
    async fn finish<T>(
        &self,
        mut tx: Tx,
        now: i64,
        client: &Client,
        outcome: Outcome<T>,
    ) -> Result<T, AppError> {
        let mut mailed = false;
        for write in &outcome.writes {
            match write {
                Write::NewAttempt(attempt) => attempts::insert(&mut tx, attempt).await?,
                Write::Attempt(attempt) => attempts::save(&mut tx, attempt).await?,
                Write::UnlockCounters {
                    user_uuid,
                    before,
                    after,
                } => users::swap_unlock_counters(&mut tx, user_uuid, *before, *after).await?,
                Write::UnlockQuestions {
                    user_uuid,
                    question_ids,
                } => users::set_unlock_questions(&mut tx, user_uuid, question_ids).await?,
                Write::PendingPuk { card, sealed } => {
                    cards::set_pending_puk(&mut tx, card, sealed).await?
                }
                Write::AdoptPendingPuk { card, sealed } => {
                    cards::adopt_pending_puk(&mut tx, card, sealed).await?;
                }
                Write::DropPendingPuk(card) => cards::drop_pending_puk(&mut tx, card).await?,
                Write::Mail(mail) => {
                    outbox::queue(&mut tx, now, mail).await?;
                    mailed = true;
                }
            }
        }
        audit::append(
            &mut tx,
            self.store.backend,
            &self.audit_key,
            now,
            &outcome.audit_entry(client),
        )
        .await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        if mailed {
            self.mail_waker.notify_one();
        }
        outcome.reply
    }
}
