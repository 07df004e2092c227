//! "This wasn't me" (issue 8; RA-4): every notice email carries a single-use link,
//! `{public_origin}/not-me#TOKEN` (the token in the fragment: in no server log, no
//! Referer; the page posts it, so a mail scanner fetching the link reports nothing).
//! Using it records the report in the audit trail for the RA's work queue, closes
//! self-service for the user (as UNL-4 does) until the RA has reviewed it, and — the
//! incident stop, RA-6 — fails every unlock and registration in progress and ends every
//! session of theirs. Only the
//! token's SHA-256 is kept; links are made by the kernel ([`crate::flow::notice`]).

use api_types::audit::AuditAction;
use api_types::auth::{NotMeRequest, NotMeResponse};

use crate::flow::lockout::stop_everything;
use crate::flow::{Client, Outcome, Subject, Write};
use crate::secrets::FlowSecret;
use crate::store::not_me::{self, NotMeLink};
use crate::store::users::{self, User};
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::NotMe;
impl AppState {
    pub async fn not_me(
        &self,
        request: NotMeRequest,
        client: &Client,
    ) -> Result<NotMeResponse, AppError> {
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
        return Outcome::new(ACTION, Subject::anonymous()).refuse(AppError::NotFound);
    };
    let outcome = Outcome::new(ACTION, Subject::user(&user.uuid));
    if link.reported_at.is_some() {
        return outcome.refuse(AppError::CodeAlreadyUsed);
    }
    if now >= link.expires_at {
        return outcome.refuse(AppError::NotFound);
    }
    // RA-6: whatever is under way stops, wherever it had got to.
    stop_everything(outcome, &user)
        .write(Write::NotMeReported(link.token_hash))
        .detail(format!("reported from the {} notice", link.notice))
        .ok("reported", NotMeResponse { reported: true })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{john, john_uuid};

    fn link(reported_at: Option<i64>) -> NotMeLink {
        NotMeLink {
            token_hash: vec![1; 32],
            user_uuid: john_uuid(),
            notice: "unlock".into(),
            created_at: 1000,
            expires_at: 2000,
            reported_at,
            reviewed_at: None,
        }
    }

    #[test]
    fn ra_4_a_report_closes_self_service_and_is_recorded_once() {
        let outcome = decide(Some(link(None)), Some(john()), 1999);
        assert!(outcome.reply.is_ok());
        assert!(outcome.writes().iter().any(|w| matches!(w,
            Write::UnlockCounters { after, .. } if after.self_service_closed)));
        assert!(outcome
            .writes()
            .iter()
            .any(|w| matches!(w, Write::NotMeReported(_))));
        let again = decide(Some(link(Some(1500))), Some(john()), 1600);
        assert!(matches!(again.reply, Err(AppError::CodeAlreadyUsed)));
        assert!(again.writes().is_empty());
    }

    #[test]
    fn ra_4_an_old_or_unknown_link_reports_nothing() {
        let late = decide(Some(link(None)), Some(john()), 2000);
        assert!(matches!(late.reply, Err(AppError::NotFound)));
        assert!(late.writes().is_empty());
        let unknown = decide(None, None, 1500);
        assert!(matches!(unknown.reply, Err(AppError::NotFound)));
    }
}
