//! RA-4: the RA looked into a "this wasn't me" report — it leaves the queue, the review
//! is audited under the RA's name with the reason, and the user is told. Not for a
//! report about the RA's own account (RA-1).

use api_types::audit::AuditAction;
use api_types::ra::{Reason, ReportId};

use super::{tell, Gives, Needs, Notify, RaActor};
use crate::flow::{Client, Outcome, Subject, Write};
use crate::mail::templates::RaNotice;
use crate::secrets::FlowSecret;
use crate::store::not_me::{self, NotMeLink};
use crate::store::users::{self, User};
use crate::{AppError, AppState};

const REVIEW: AuditAction = AuditAction::RaReviewReport;

impl AppState {
    pub async fn ra_review(
        &self,
        secret: Option<&FlowSecret>,
        report_id: &ReportId,
        reason: &Reason,
        client: &Client,
    ) -> Result<(), AppError> {
        let ra = self.ra_actor(secret, client, Needs::Agent).await?;
        let token_hash = report_id.hash_bytes();
        let (now, mut tx) = self.open().await?;
        let link = not_me::find_for_update(&mut tx, self.store.backend, &token_hash).await?;
        let user = match &link {
            Some(link) => users::find(&mut tx, &link.user_uuid).await?,
            None => None,
        };
        let outcome = decide_review(&ra, (link, user), reason, self.notify(now));
        self.finish(tx, now, client, outcome).await
    }
}

fn decide_review(
    ra: &RaActor,
    (link, user): (Option<NotMeLink>, Option<User>),
    reason: &Reason,
    notify: Notify<'_>,
) -> Outcome<()> {
    let open = link.filter(|l| l.reported_at.is_some() && l.reviewed_at.is_none());
    let Some(link) = open else {
        return Outcome::new(REVIEW, Subject::anonymous())
            .by(ra.name())
            .refuse(AppError::NotFound);
    };
    let outcome = Outcome::new(REVIEW, Subject::user(&link.user_uuid))
        .by(ra.name())
        .detail(format!("{} notice: {}", link.notice, reason.as_str()));
    if let Err(refused) = ra.not_self(&link.user_uuid) {
        return outcome.refuse(refused);
    }
    let Some(user) = user else {
        return outcome.refuse(AppError::NotFound);
    };
    if let Err(refused) = ra.may_act_on(&user, Gives::NoAccess, notify.now) {
        return outcome.refuse(refused);
    }
    tell(outcome, &user, (RaNotice::ReportReviewed, None), notify)
        .write(Write::ReportReviewed {
            token_hash: link.token_hash,
            by: ra.uuid.clone(),
        })
        .ok("reviewed", ())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::{john, john_uuid, uuid, SENDER};
    use api_types::ra::Role;
    use api_types::CardGuid;

    fn ra(text: &str) -> RaActor {
        RaActor {
            uuid: uuid(text),
            role: Role::RaAgent,
            card_guid: CardGuid::from_bytes([4; 16]),
            card_proven_at: 0,
        }
    }

    fn link(reported: bool, reviewed: bool) -> NotMeLink {
        NotMeLink {
            token_hash: vec![1; 32],
            user_uuid: john_uuid(),
            notice: "unlock".into(),
            created_at: 1000,
            expires_at: 5000,
            reported_at: reported.then_some(1100),
            reviewed_at: reviewed.then_some(1200),
        }
    }

    fn review(ra_uuid: &str, link: NotMeLink) -> Outcome<()> {
        let reason = Reason::parse("called the user").unwrap();
        let notify = Notify {
            sender: SENDER,
            not_me: crate::flow::notice::NotMeDraw::for_tests(),
            now: 1000,
        };
        decide_review(&ra(ra_uuid), (Some(link), Some(john())), &reason, notify)
    }

    #[test]
    fn ra_4_an_open_report_leaves_the_queue_and_the_user_is_told() {
        let outcome = review("999999999901", link(true, false));
        assert!(outcome.reply.is_ok());
        let writes = outcome.writes();
        assert!(
            matches!(writes, [Write::NotMeLink(_), Write::Mail(m), Write::ReportReviewed { by, .. }]
            if by.as_str() == "999999999901" && m.to == "john.rigby@nhs.net" && m.text.contains("/not-me#"))
        );
        assert_eq!(outcome.audit_detail(), "unlock notice: called the user");
    }

    #[test]
    fn ra_4_only_open_reports_about_someone_else_can_be_reviewed() {
        for (ra_uuid, link, refused) in [
            ("999999999901", link(false, false), AppError::NotFound),
            ("999999999901", link(true, true), AppError::NotFound),
            ("555555555501", link(true, false), AppError::OwnAccount),
        ] {
            let outcome = review(ra_uuid, link);
            assert!(outcome.writes().is_empty());
            assert_eq!(
                outcome.reply.unwrap_err().code(),
                refused.code(),
                "{ra_uuid}"
            );
        }
    }
}
