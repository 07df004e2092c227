//! How a step opens, written once (in the spirit of Kanidm's
//! `check_for_early_return_conditions`): ALL-5's rate limits, then the time and the
//! transaction, then the row the step moves — found only for the browser or session that
//! holds it (ALL-6), any other asker refused as "not found" and recorded. A step then
//! loads what else it needs, calls its pure `decide` and ends in
//! [`AppState::finish`](crate::AppState::finish).

use api_types::audit::AuditAction;
use api_types::auth::LoginId;
use api_types::recovery::UnlockRoute;
use api_types::values::CardSignature;
use api_types::AttemptId;

use super::card_again::CardProvenAgain;
use super::{Client, CurrentSession, Outcome, Scope, Subject};
use crate::secrets::FlowSecret;
use crate::store::attempts::{self, Attempt, AttemptState};
use crate::store::{Conn, StoreError, Tx};
use crate::{AppError, AppState};

/// A signed-in step, opened: who, when, and the transaction it ends in.
pub(crate) type SessionStep = (CurrentSession, i64, Tx);

/// A signed-in step whose card proved itself again, opened: [`SessionStep`] and the card's
/// verdict, to gate the step's outcome with.
pub(crate) type CardStep = (CurrentSession, i64, Tx, CardProvenAgain);

/// What a step on an attempt checks against ALL-5 before it opens; every step's
/// refusals are charged when it finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guard {
    /// Nothing more.
    Refusals,
    /// The user's budget of failures, once the attempt is known to be this browser's:
    /// for the steps that guess a code.
    UsersFailures,
}

/// A step on an unlock attempt, opened: the time, the transaction it ends in, and the
/// attempt locked for the step if this browser holds it — else the refusal to finish with.
pub(crate) type AttemptStep<T> = (i64, Tx, Result<Attempt, Outcome<T>>);

/// ALL-6: the attempt id names an attempt; only the flow cookie of the browser that
/// started it proves the right to move it.
fn flow_matches(attempt: &Attempt, flow: Option<&FlowSecret>) -> bool {
    match (flow, &attempt.flow_hash) {
        (Some(flow), Some(hash)) => flow.matches(hash),
        _ => false,
    }
}

impl AppState {
    /// The time and a transaction: every step's last opening move.
    pub(crate) async fn open(&self) -> Result<(i64, Tx), AppError> {
        let now = self.clock.now();
        Ok((now, self.store.begin().await?))
    }

    /// The time and a connection outside any transaction, for a step whose reads lock
    /// nothing (what it decides on could change under it even in a transaction, at READ
    /// COMMITTED). It ends in [`AppState::finish_plain`](crate::AppState::finish_plain).
    pub(crate) async fn open_plain(&self) -> Result<(i64, Conn), AppError> {
        let now = self.clock.now();
        Ok((now, self.store.acquire().await?))
    }

    /// A signed-in step: the session behind the cookie (AUTH-2), the user's own rate
    /// limit (ALL-5), the time and the transaction.
    pub(crate) async fn session_step(
        &self,
        action: AuditAction,
        secret: Option<&FlowSecret>,
        client: &Client,
    ) -> Result<SessionStep, AppError> {
        let session = self.signed_in(action, secret, client).await?;
        let (now, tx) = self.open().await?;
        Ok((session, now, tx))
    }

    /// The session behind the cookie (AUTH-2) and the user's own rate limit (ALL-5): a
    /// signed-in step's opening before its own checks and its transaction.
    pub(crate) async fn signed_in(
        &self,
        action: AuditAction,
        secret: Option<&FlowSecret>,
        client: &Client,
    ) -> Result<CurrentSession, AppError> {
        let session = self.current_session(secret, client).await?;
        let user = Scope::User(&session.info.uuid);
        self.count_request(action, user, Subject::session(&session.info), client)
            .await?;
        Ok(session)
    }

    /// A signed-in step that needs the passcode entered again on the session's own card
    /// (REG-1, REG-5): [`Self::session_step`], then [`Self::card_proven_again`] with the
    /// login challenge the card signed.
    pub(crate) async fn card_step(
        &self,
        action: AuditAction,
        secret: Option<&FlowSecret>,
        client: &Client,
        (login_id, signature): (&LoginId, &CardSignature),
    ) -> Result<CardStep, AppError> {
        let (session, now, mut tx) = self.session_step(action, secret, client).await?;
        let card = session.info.card_guid;
        let proof = self
            .card_proven_again(&mut tx, card, login_id, signature, now)
            .await?;
        Ok((session, now, tx, proof))
    }

    /// A step on an unlock attempt: its guard, then [`Self::open_attempt`].
    pub(crate) async fn attempt_step<T>(
        &self,
        action: AuditAction,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        guard: Guard,
    ) -> Result<AttemptStep<T>, AppError> {
        if guard == Guard::UsersFailures {
            if let Some(attempt) = self.held_attempt(id, flow).await? {
                self.gate(action, Scope::User(&attempt.user_uuid)).await?;
            }
        }
        self.open_attempt(action, id, flow).await
    }

    /// The time, the transaction, and the attempt this browser holds, locked. Unknown ids
    /// and a missing or wrong flow cookie are the same refusal (not found), recorded; the
    /// wrong cookie under the attempt's card, so the RA can see a leaked id being tried.
    pub(crate) async fn open_attempt<T>(
        &self,
        action: AuditAction,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
    ) -> Result<AttemptStep<T>, AppError> {
        let (now, mut tx) = self.open().await?;
        let attempt = match attempts::find_for_update(&mut tx, self.store.backend, id).await? {
            Some(attempt) if flow_matches(&attempt, flow) => Ok(attempt),
            Some(attempt) => Err(Outcome::new(action, Subject::attempt(&attempt))
                .detail("flow cookie missing or wrong".into())
                .by_stranger()
                .refuse(AppError::NotFound)),
            None => Err(Outcome::new(action, Subject::anonymous()).refuse(AppError::NotFound)),
        };
        Ok((now, tx, attempt))
    }

    /// The attempt a slow check (argon2id) may work for: this browser's, at `state` on
    /// `route`, with the user's budget of failures not yet spent (ALL-5) — none otherwise,
    /// so a request that can't move the attempt costs no hashing.
    pub(crate) async fn attempt_to_check(
        &self,
        action: AuditAction,
        (id, flow): (&AttemptId, Option<&FlowSecret>),
        (state, route): (AttemptState, UnlockRoute),
    ) -> Result<Option<Attempt>, AppError> {
        let Some(attempt) = self.held_attempt(id, flow).await? else {
            return Ok(None);
        };
        self.gate(action, Scope::User(&attempt.user_uuid)).await?;
        Ok(Some(attempt).filter(|a| a.state == state && a.route == route))
    }

    /// The attempt, read without a lock, if this browser holds it: for the checks made
    /// before a step's transaction (per-user limits, slow hashes).
    pub(crate) async fn held_attempt(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
    ) -> Result<Option<Attempt>, AppError> {
        let mut conn = self.store.pool.acquire().await.map_err(StoreError::from)?;
        let attempt = attempts::find(&mut conn, id).await?;
        Ok(attempt.filter(|attempt| flow_matches(attempt, flow)))
    }
}
