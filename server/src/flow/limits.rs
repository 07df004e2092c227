//! ALL-5: rate limits on every step a stranger can call — per client address and per
//! card or user, counted in the database so all instances share them, answered with 429,
//! `Retry-After` and the `rate_limited` code. Only the first refusal of a window is
//! audited (the rest are counted in the window), so a flood cannot grow the audit trail
//! without bound, while every per-user event is still recorded by the steps themselves.

use super::{Client, Outcome, Subject};
use crate::store::rate_limits::{self, Hits};
use crate::{AppError, AppState};
use api_types::audit::AuditAction;

/// Whom a limit counts.
pub(crate) enum Scope<'a> {
    Client(&'a Client),
    Card(&'a api_types::CardGuid),
    User(&'a str),
}

impl Scope<'_> {
    fn key(&self, action: &str) -> String {
        match self {
            Scope::Client(client) => format!("{action}:client:{}", client.addr),
            Scope::Card(guid) => format!("{action}:card:{guid}"),
            Scope::User(uuid) => format!("{action}:user:{uuid}"),
        }
    }
}

/// What one more hit means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allowed,
    /// Over the limit; `first` is the window's first refusal (the one audited).
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
        retry_after: (hits.window_started_at + window - now).max(1),
        first: hits.hits == limit + 1,
    }
}

impl AppState {
    /// Counts one hit for `action` in `scope`, and refuses over the limit.
    pub(crate) async fn limit(
        &self,
        action: AuditAction,
        scope: Scope<'_>,
        subject: Subject,
        client: &Client,
    ) -> Result<(), AppError> {
        let settings = &self.settings;
        let window = i64::from(settings.rate_limit_window_secs);
        let limit = i64::from(match scope {
            Scope::Client(_) => settings.rate_limit_per_client,
            Scope::Card(_) | Scope::User(_) => settings.rate_limit_per_card,
        });
        let now = self.clock.now();
        let key = scope.key(action.as_str());
        let hits = rate_limits::hit(&self.store.pool, &key, now, now - window).await?;
        match verdict(hits, limit, window, now) {
            Verdict::Allowed => Ok(()),
            Verdict::Refused { retry_after, first } => {
                let error = AppError::RateLimited {
                    retry_after: u32::try_from(retry_after).unwrap_or(u32::MAX),
                };
                if !first {
                    return Err(error);
                }
                let outcome = Outcome::<()>::new(action, subject)
                    .detail(format!(
                        "{key}: over {limit} in {window}s; further refusals this window are counted, not recorded"
                    ))
                    .refuse(error);
                let tx = self.store.begin().await?;
                self.finish(tx, now, client, outcome).await
            }
        }
    }

    /// Forgets closed windows; run now and then by the background sweeper.
    pub async fn sweep_rate_limits(&self) -> Result<u64, AppError> {
        let window = i64::from(self.settings.rate_limit_window_secs);
        Ok(rate_limits::sweep(&self.store.pool, self.clock.now() - window).await?)
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
}
