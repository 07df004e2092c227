//! The one way a step ends: [`AppState::finish`] applies an [`Outcome`]'s [`Write`]s, its
//! mail and its audit event in one transaction (RA-4), and only then gives its reply.

use super::limits::{rate_limited, Kept};
use super::{Client, Outcome, Write};
use crate::mail::templates::Sender;
use crate::store::audit::{self, ChainHead, Link};
use crate::store::sessions::{self, SignIn};
use crate::store::{Backend, Conn, Tx};
use crate::{AppError, AppState};

impl AppState {
    pub(crate) fn sender(&self) -> Sender<'_> {
        Sender {
            organisation: &self.settings.organisation_name,
            ra_help: &self.settings.ra_help,
        }
    }

    /// Applies a step's outcome — writes, mail, audit event — and commits; then the
    /// reply. The one way a request's step ends.
    pub(crate) async fn finish<T>(
        &self,
        tx: Tx,
        now: i64,
        client: &Client,
        outcome: Outcome<T>,
    ) -> Result<T, AppError> {
        self.apply(tx, now, Some(client), outcome).await
    }

    /// [`Self::finish`] for a step opened outside a transaction ([`Self::open_plain`]).
    /// A success that writes nothing and is no audit event (a known card's login
    /// challenge, issue 22) needs no transaction; anything more begins one and ends as
    /// [`Self::finish`].
    pub(crate) async fn finish_plain<T>(
        &self,
        conn: Conn,
        now: i64,
        client: &Client,
        outcome: Outcome<T>,
    ) -> Result<T, AppError> {
        match outcome.reply {
            Ok(reply) if !outcome.audited && outcome.writes.is_empty() => Ok(reply),
            _ => {
                let tx = self.store.begin_on(conn).await?;
                self.apply(tx, now, Some(client), outcome).await
            }
        }
    }

    /// [`Self::finish_plain`] for `login/finish`, whose load read its card's audit chain
    /// head (unlocked). A sign-in (its one write, [`Write::SignedIn`]) goes in with its
    /// audit link in one statement and no transaction (issue 22: round trips are most of
    /// its cost) if that head has not moved since; if it has, the challenge is spent
    /// already and the rest goes in under the head's lock. Anything else (a refusal)
    /// ends as any step.
    pub(crate) async fn finish_sign_in<T>(
        &self,
        mut conn: Conn,
        now: i64,
        client: &Client,
        outcome: Outcome<T>,
        head: ChainHead,
    ) -> Result<T, AppError> {
        let Outcome { reply, writes, .. } = &outcome;
        let (Ok(_), [Write::SignedIn { challenge, session }]) = (reply, writes.as_slice()) else {
            return self.finish_plain(conn, now, client, outcome).await;
        };
        let entry = outcome.audit_entry(Some(client), reply);
        let chain = head.chain();
        // The card is its sign-in's actor: its events stay in order in its own chain.
        if !outcome.audited || chain != audit::chain_of(&entry.actor) {
            return Err(AppError::Invariant(
                "a sign-in's link is in its card's chain",
            ));
        }
        let backend = self.store.backend;
        let mut spend = Some((challenge.nonce.as_str(), challenge.expires_at));
        if backend == Backend::Postgres {
            let link = Link::after(&self.audit_key, head, now, &entry);
            match sessions::sign_in(&mut conn, backend, spend, session, &link).await? {
                SignIn::Begun => return outcome.reply,
                SignIn::SpentBefore => return Err(AppError::LoginExpired),
                SignIn::ChainMoved => spend = None,
            }
        }
        let mut tx = self.store.begin_on(conn).await?;
        let head = audit::locked_head(&mut tx, backend, chain).await?;
        let link = Link::after(&self.audit_key, head, now, &entry);
        match sessions::sign_in(&mut tx, backend, spend, session, &link).await? {
            SignIn::Begun => {}
            SignIn::SpentBefore => return Err(AppError::LoginExpired),
            SignIn::ChainMoved => return Err(AppError::Invariant("a locked head moved")),
        }
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        outcome.reply
    }

    /// [`Self::finish`] for the operator's commands (issuing a card, rotating the KEK),
    /// which come from no client address.
    pub(crate) async fn finish_offline<T>(
        &self,
        tx: Tx,
        now: i64,
        outcome: Outcome<T>,
    ) -> Result<T, AppError> {
        self.apply(tx, now, None, outcome).await
    }

    async fn apply<T>(
        &self,
        mut tx: Tx,
        now: i64,
        client: Option<&Client>,
        mut outcome: Outcome<T>,
    ) -> Result<T, AppError> {
        let mut mailed = false;
        for write in &outcome.writes {
            mailed |= write.apply(&mut tx, now).await?;
        }
        let mut reply = std::mem::replace(&mut outcome.reply, Err(AppError::Invariant("taken")));
        let kept = match (&reply, client) {
            (Ok(_), _) => outcome.audited.then_some(Kept::Audited),
            // Already a limit's refusal: a user's is recorded, a stranger's only counted.
            (Err(AppError::RateLimited { .. }), _) => {
                outcome.subject.user_uuid.is_some().then_some(Kept::Audited)
            }
            (Err(_), None) => Some(Kept::Audited),
            (Err(error), Some(client)) => {
                let code = error.code().as_str();
                let kept = self
                    .charge_refusal(&mut tx, (now, client), &outcome, code)
                    .await?;
                if let Kept::OverLimit { retry_after } = kept {
                    reply = Err(rate_limited(retry_after));
                }
                Some(kept)
            }
        };
        if kept == Some(Kept::Audited) {
            let entry = outcome.audit_entry(client, &reply);
            audit::append(&mut tx, self.store.backend, &self.audit_key, now, &entry).await?;
        }
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        if mailed {
            self.mail_waker.notify_one();
        }
        reply
    }
}
