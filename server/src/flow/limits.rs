//! ALL-5: rate limits that fit a hospital behind one NAT address — counted in the
//! database so all instances share them, answered with 429, `Retry-After` and the
//! `rate_limited` code.
//!
//! - A refusal is charged to the client's address (IPv6 per /64) and, when it is the
//!   user's own (a wrong code, a bad signature from their card), to that user; a
//!   success is charged nothing, so thousands of card sign-ins from one address cost it
//!   nothing and a stranger who knows a card's GUID cannot lock its holder out.
//! - Over its budget, a refusal is answered 429 and recorded nowhere; under it, one tied
//!   to a user is a full audit event and one tied to nobody is tallied per window and
//!   rolled into one audit event per step and reason ([`AppState::roll_up_refusals`]),
//!   so a flood cannot grow the trail without bound.
//! - Steps that guess (codes, answers) are closed before they run once the user's budget
//!   of failures is spent ([`AppState::gate`]) — a read, not a write; steps that open
//!   something anonymous count every request ([`AppState::count_request`]). A known
//!   card's login challenge is sealed, not stored (`flow::login_challenge`): it writes
//!   nothing, so there is nothing of it to count or to grow.

use super::{Client, Outcome, Subject};
use crate::store::audit::{self, AuditEntry};
use crate::store::rate_limits::{self, Hits};
use crate::store::{spent_logins, StoreError};
use crate::{AppError, AppState};
use api_types::audit::AuditAction;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

/// Whom a limit counts.
pub(crate) enum Scope<'a> {
    Client(&'a Client),
    User(&'a api_types::ra::UserUuid),
    /// A console agent's own calls — an RA's (searches and reads included), or a
    /// helpdesk agent's checks.
    Ra(&'a api_types::ra::UserUuid),
    /// Codes a user has had mailed (counted apart from their requests).
    MailedFor(&'a api_types::ra::UserUuid),
    /// Where a code is mailed: counted under a hash, so the table holds no addresses.
    Recipient(&'a str),
}

impl Scope<'_> {
    /// The key of every request's counter.
    fn requests(&self, action: &str) -> String {
        match self {
            Scope::Client(client) => format!("{action}:client:{}", client.limit_key()),
            Scope::User(uuid) => format!("{action}:user:{uuid}"),
            Scope::Ra(uuid) => format!("{action}:ra:{uuid}"),
            Scope::MailedFor(uuid) => format!("{action}:mailed-for:{uuid}"),
            Scope::Recipient(address) => {
                let hashed = Sha256::digest(address.to_lowercase().as_bytes());
                format!("{action}:to:{}", hex::encode(hashed))
            }
        }
    }

    /// The key of the failures' counter: a budget of its own, so counting requests and
    /// charging refusals never count one request twice.
    fn failures(&self, action: &str) -> String {
        format!("failed:{}", self.requests(action))
    }
}

/// What one more hit means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allowed,
    /// Over the limit; `first` is the window's first refusal.
    Refused {
        retry_after: i64,
        first: bool,
    },
}

pub(crate) fn verdict(hits: Hits, limit: i64, window: i64, now: i64) -> Verdict {
    if hits.hits <= limit {
        return Verdict::Allowed;
    }
    Verdict::Refused {
        retry_after: retry_after(hits, window, now),
        first: hits.hits == limit + 1,
    }
}

fn retry_after(hits: Hits, window: i64, now: i64) -> i64 {
    (hits.window_started_at + window - now).max(1)
}

/// How a refusal is kept, once charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    /// Tied to a user: a full audit event.
    Audited,
    /// Tied to nobody: one more in the window's tally.
    Tallied,
    /// Over its budget: answered 429 and recorded nowhere.
    OverLimit { retry_after: i64 },
}

/// Which counter decides a refusal's fate: the user's, when the refusal is the user's
/// own doing; otherwise the address's.
pub(crate) fn kept(charged: Hits, limit: i64, window: i64, now: i64, tied_to_user: bool) -> Kept {
    match verdict(charged, limit, window, now) {
        Verdict::Refused { retry_after, .. } => Kept::OverLimit { retry_after },
        Verdict::Allowed if tied_to_user => Kept::Audited,
        Verdict::Allowed => Kept::Tallied,
    }
}

pub(super) fn rate_limited(retry_after: i64) -> AppError {
    AppError::RateLimited {
        retry_after: u32::try_from(retry_after).unwrap_or(u32::MAX),
    }
}

impl AppState {
    fn window(&self) -> i64 {
        i64::from(self.settings.rate_limit_window_secs)
    }

    fn budget(&self, scope: &Scope<'_>) -> i64 {
        i64::from(match scope {
            Scope::Client(_) => self.settings.rate_limit_per_client,
            Scope::User(_) => self.settings.rate_limit_per_card,
            Scope::Ra(_) => self.settings.rate_limit_per_ra,
            Scope::MailedFor(_) | Scope::Recipient(_) => self.settings.rate_limit_per_card,
        })
    }

    /// Counts every request for `action` in `scope`, refusing over the limit: for the
    /// steps that open something before anything is proven (an unlock attempt) and for a
    /// signed-in user's own requests. The first refusal of a window tied to a user is
    /// audited; the rest are counted, not recorded.
    pub(crate) async fn count_request(
        &self,
        action: AuditAction,
        scope: Scope<'_>,
        subject: Subject,
        client: &Client,
    ) -> Result<(), AppError> {
        let budget = (self.budget(&scope), self.window());
        self.count_within(action, (scope, budget), subject, client)
            .await
    }

    /// [`Self::count_request`] with a budget of its own: `limit` per `window` seconds
    /// (a day's cap on codes mailed, say).
    pub(crate) async fn count_within(
        &self,
        action: AuditAction,
        (scope, (limit, window)): (Scope<'_>, (i64, i64)),
        subject: Subject,
        client: &Client,
    ) -> Result<(), AppError> {
        let now = self.clock.now();
        let key = scope.requests(action.as_str());
        let mut conn = self.store.pool.acquire().await.map_err(StoreError::from)?;
        let hits = rate_limits::hit(&mut conn, &key, now, now - window).await?;
        drop(conn);
        match verdict(hits, limit, window, now) {
            Verdict::Allowed => Ok(()),
            Verdict::Refused { retry_after, first } => {
                let error = rate_limited(retry_after);
                if !first || subject.user_uuid.is_none() {
                    return Err(error);
                }
                let outcome = Outcome::<()>::new(action, subject)
                    .detail(format!(
                        "over {limit} requests in {window}s; further refusals this window are counted, not recorded"
                    ))
                    .refuse(error);
                let (now, tx) = self.open().await?;
                self.finish(tx, now, client, outcome).await
            }
        }
    }

    /// Refuses a step that guesses once `scope` has spent its budget of failures this
    /// window: a read, so a request that will succeed writes nothing here.
    pub(crate) async fn gate(&self, action: AuditAction, scope: Scope<'_>) -> Result<(), AppError> {
        let (window, limit, now) = (self.window(), self.budget(&scope), self.clock.now());
        let key = scope.failures(action.as_str());
        let mut conn = self.store.pool.acquire().await.map_err(StoreError::from)?;
        match rate_limits::read(&mut conn, &key, now - window).await? {
            Some(hits) if hits.hits >= limit => Err(rate_limited(retry_after(hits, window, now))),
            _ => Ok(()),
        }
    }

    /// Charges a refusal to the address and, when it is the user's own doing, to the
    /// user; tallies it when it is tied to nobody. In the step's own transaction, so the
    /// charge and the refusal's writes land together.
    pub(super) async fn charge_refusal<T>(
        &self,
        conn: &mut AnyConnection,
        (now, client): (i64, &Client),
        refusal: &Outcome<T>,
        code: &str,
    ) -> Result<Kept, AppError> {
        let window = self.window();
        let (subject, by_stranger) = (&refusal.subject, refusal.by_stranger);
        let action_name = refusal.action.as_str();
        let address = Scope::Client(client);
        let mut charged =
            rate_limits::hit(conn, &address.failures(action_name), now, now - window).await?;
        let mut limit = self.budget(&address);
        // The user's own doing: not a stranger's, nor an RA's acting on them.
        let users_own = subject
            .user_uuid
            .as_ref()
            .filter(|_| !by_stranger && refusal.actor.is_none());
        if let Some(uuid) = users_own {
            let user = Scope::User(uuid);
            charged =
                rate_limits::hit(conn, &user.failures(action_name), now, now - window).await?;
            limit = self.budget(&user);
        }
        let kept = kept(charged, limit, window, now, subject.user_uuid.is_some());
        if kept == Kept::Tallied {
            rate_limits::tally(conn, now - now.rem_euclid(window), action_name, code).await?;
        }
        Ok(kept)
    }

    /// RA-4: each closed window's tally of refusals tied to nobody becomes one audit event
    /// per step and reason, with its count.
    pub async fn roll_up_refusals(&self) -> Result<usize, AppError> {
        let (window, now) = (self.window(), self.clock.now());
        let mut tx = self.store.begin().await?;
        let tallies = rate_limits::take_tallies(&mut tx, now - window).await?;
        for tally in &tallies {
            let entry = AuditEntry {
                actor: "anonymous".into(),
                action: tally.action.clone(),
                outcome: tally.code.clone(),
                card_guid: None,
                user_uuid: None,
                client_addr: None,
                detail: format!(
                    "refused {} times, tied to no user, in the {window}s from {}",
                    tally.hits, tally.window_started_at
                ),
            };
            audit::append(&mut tx, self.store.backend, &self.audit_key, now, &entry).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(tallies.len())
    }

    /// Forgets closed windows and spent challenges, and rolls up closed tallies; run now
    /// and then by the background sweeper.
    pub async fn sweep_rate_limits(&self) -> Result<u64, AppError> {
        let now = self.clock.now();
        self.roll_up_refusals().await?;
        let pool = &self.store.pool;
        let counters = rate_limits::sweep(pool, now - self.window()).await?;
        Ok(counters + spent_logins::sweep(pool, now).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(hits: i64, window_started_at: i64) -> Hits {
        Hits {
            hits,
            window_started_at,
        }
    }

    #[test]
    fn all_5_allowed_up_to_the_limit_then_refused_until_the_window_ends() {
        assert_eq!(verdict(hits(10, 1000), 10, 600, 1100), Verdict::Allowed);
        assert_eq!(
            verdict(hits(11, 1000), 10, 600, 1100),
            Verdict::Refused {
                retry_after: 500,
                first: true
            }
        );
        assert_eq!(
            verdict(hits(12, 1000), 10, 600, 1599),
            Verdict::Refused {
                retry_after: 1,
                first: false
            }
        );
    }

    #[test]
    fn all_5_refusals_under_the_budget_are_audited_if_a_users_else_tallied() {
        assert_eq!(kept(hits(3, 1000), 10, 600, 1100, true), Kept::Audited);
        assert_eq!(kept(hits(3, 1000), 10, 600, 1100, false), Kept::Tallied);
        assert_eq!(kept(hits(10, 1000), 10, 600, 1100, false), Kept::Tallied);
    }

    #[test]
    fn all_5_refusals_over_the_budget_are_answered_429_and_recorded_nowhere() {
        for tied_to_user in [true, false] {
            assert_eq!(
                kept(hits(11, 1000), 10, 600, 1300, tied_to_user),
                Kept::OverLimit { retry_after: 300 }
            );
        }
    }

    #[test]
    fn all_5_requests_and_failures_are_counted_apart_and_per_64() {
        let client = Client {
            addr: "2001:db8:0:7::9"
                .parse()
                .unwrap_or(std::net::IpAddr::from([0; 4])),
        };
        let scope = Scope::Client(&client);
        assert_eq!(
            scope.requests("unlock.start"),
            "unlock.start:client:2001:db8:0:7::/64"
        );
        assert_eq!(
            scope.failures("unlock.start"),
            "failed:unlock.start:client:2001:db8:0:7::/64"
        );
        let john = crate::fixtures::john_uuid();
        assert_eq!(
            Scope::User(&john).failures("a"),
            "failed:a:user:555555555501"
        );
    }
}
