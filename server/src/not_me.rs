//! "This wasn't me" (issue 8; RA-4): every notice email carries a single-use link,
//! `{public_origin}/not-me#TOKEN` (the token in the fragment: in no server log, no
//! Referer; the page posts it, so a mail scanner fetching the link reports nothing).
//! Using it records the report in the audit trail for the RA's work queue and closes
//! self-service for the user (as UNL-4 does) until the RA has reviewed it. Only the
//! token's SHA-256 is kept.

use api_types::auth::{NotMeRequest, NotMeResponse};

use crate::flow::{Outcome, Subject, Write};
use crate::secrets::FlowSecret;
use crate::store::not_me::{self, NotMeLink};
use crate::store::users::{self, User};
use crate::unlock::limits::Scope;
use crate::unlock::Client;
use crate::{AppError, AppState};

const ACTION: &str = "user.not_me";
/// How long a notice's link can be used.
pub const LINK_TTL: i64 = 30 * 24 * 3600;

/// A new link for a notice to `user_uuid`: the write that keeps its hash, and the URL.
pub(crate) fn new_link(
    public_origin: &str,
    user_uuid: &str,
    notice: &str,
    now: i64,
) -> (Write, String) {
    let token = FlowSecret::generate();
    let link = NotMeLink {
        token_hash: token.hash(),
        user_uuid: user_uuid.to_owned(),
        notice: notice.to_owned(),
        created_at: now,
        expires_at: now + LINK_TTL,
        reported_at: None,
        reviewed_at: None,
    };
    let url = format!(
        "{}/not-me#{}",
        public_origin.trim_end_matches('/'),
        token.cookie_value()
    );
    (Write::NotMeLink(link), url)
}

impl AppState {
    pub async fn not_me(
        &self,
        request: NotMeRequest,
        client: &Client,
    ) -> Result<NotMeResponse, AppError> {
        self.limit(ACTION, Scope::Client(client), Subject::default(), client)
            .await?;
        let now = self.clock.now();
        let hash = FlowSecret::from_bytes(*request.token.as_bytes()).hash();
        let mut tx = self.store.begin().await?;
        let link = not_me::find_for_update(&mut tx, self.store.backend, &hash).await?;
        let user = match &link {
            Some(link) => {
                users::find_for_update(&mut tx, self.store.backend, &link.user_uuid).await?
            }
            None => None,
        };
        let outcome = decide(link, user, now);
        self.finish(tx, now, client, outcome).await
    }
}

fn decide(link: Option<NotMeLink>, user: Option<User>, now: i64) -> Outcome<NotMeResponse> {
    let (Some(link), Some(user)) = (link, user) else {
        return Outcome::new(ACTION, Subject::default()).refuse(AppError::NotFound);
    };
    let outcome = Outcome::new(
        ACTION,
        Subject {
            card_guid: None,
            user_uuid: Some(user.uuid.clone()),
        },
    );
    if link.reported_at.is_some() {
        return outcome.refuse(AppError::CodeAlreadyUsed);
    }
    if now >= link.expires_at {
        return outcome.refuse(AppError::NotFound);
    }
    let closed = users::UnlockCounters {
        self_service_closed: true,
        ..user.counters
    };
    outcome
        .write(Write::NotMeReported(link.token_hash))
        .write(Write::UnlockCounters {
            user_uuid: user.uuid.clone(),
            before: user.counters,
            after: closed,
        })
        .detail(format!("reported from the {} notice", link.notice))
        .ok("reported", NotMeResponse { reported: true })
}
