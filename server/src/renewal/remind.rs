//! CERT-2 / JOB-1 / JOB-2: the daily reminder that a card's certificates end soon. Each
//! user's reminder is claimed for the day in the transaction that queues its mail, so
//! every instance may run this at once, as often as it likes, and each user hears once a
//! day; a run that dies leaves the unclaimed rest for the next.

use api_types::audit::AuditAction;
use api_types::policy::Policy;
use api_types::time::utc_date;

use crate::flow::{Outcome, Subject, Write};
use crate::mail::renewal::reminder;
use crate::mail::templates::Sender;
use crate::store::jobs::{self, EndingCertificate};
use crate::store::StoreError;
use crate::{AppError, AppState};

/// The claim's kind: one a day per user, whichever card it is for.
pub(crate) const REMINDER_KIND: &str = "certificate_expiry";
/// CERT-2: reminders in the 30 days before the login certificate ends (both profiles:
/// `nhs-2023` offers renewal earlier, at sign-in, but mails only in the last 30 days).
const REMINDER_DAYS: i64 = 30;
const DAY: i64 = 24 * 60 * 60;
const BATCH: i64 = 100;

impl AppState {
    /// Queues today's certificate reminders not yet claimed; how many this call queued.
    pub(crate) async fn send_certificate_reminders(&self, now: i64) -> Result<i64, AppError> {
        let day = now.div_euclid(DAY);
        let window = (now, now + REMINDER_DAYS * DAY);
        let link = format!("{}/renew", self.settings.public_origin);
        let mut queued = 0;
        loop {
            let mut conn = self.store.pool.acquire().await.map_err(StoreError::from)?;
            let due =
                jobs::certificates_ending(&mut conn, window, (REMINDER_KIND, day), BATCH).await?;
            drop(conn);
            if due.is_empty() {
                return Ok(queued);
            }
            for ending in due {
                let mut tx = self.store.begin().await?;
                // Another card of the same user, or another instance, got there first:
                // dropping the transaction leaves nothing behind.
                if !jobs::claim_reminder(&mut tx, &ending.user_uuid, REMINDER_KIND, day, now)
                    .await?
                {
                    continue;
                }
                let reminder = (self.settings.policy, link.as_str(), now);
                let outcome = decide_reminder(&self.sender(), &ending, reminder);
                self.finish_offline(tx, now, outcome).await?;
                queued += 1;
            }
        }
    }
}

/// JOB-2: the reminder's mail and its audit event (the holder sees it on My card).
fn decide_reminder(
    sender: &Sender<'_>,
    ending: &EndingCertificate,
    (policy, link, now): (Policy, &str, i64),
) -> Outcome<()> {
    let mail = reminder(
        sender,
        (&ending.email, &ending.display_name),
        (policy, ending.not_after, now),
        link,
    );
    Outcome::new(
        AuditAction::RenewReminder,
        Subject::card_of(ending.card_guid, &ending.user_uuid),
    )
    .detail(format!("ends {}", utc_date(ending.not_after)))
    .write(Write::Mail(mail))
    .ok("ok", ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::ra::UserUuid;
    use api_types::CardGuid;

    #[test]
    fn job_2_reminder_is_one_mail_to_the_holder_and_one_event_on_their_card() {
        let ending = EndingCertificate {
            user_uuid: UserUuid::parse("555000000001").unwrap(),
            display_name: "Dr Amira Khan".into(),
            email: "amira.khan@nhs.net".into(),
            card_guid: CardGuid::parse(&"ab".repeat(16)).unwrap(),
            not_after: 1_795_392_000 + 25 * DAY,
            renewals_in_a_row: 0,
        };
        let sender = Sender {
            organisation: "Smartcard Service Centre",
            ra_help: "Call 0121",
        };
        let given = (Policy::Seed2006, "https://x.nhs.uk/renew", 1_795_392_000);
        let outcome = decide_reminder(&sender, &ending, given);
        assert_eq!(outcome.audit_detail(), "ends 2026-12-18");
        let [Write::Mail(mail)] = outcome.writes() else {
            panic!("{:?}", outcome.writes());
        };
        assert_eq!(mail.to, "amira.khan@nhs.net");
        assert!(mail.text.contains("https://x.nhs.uk/renew"));
        assert!(outcome.reply.is_ok());
    }
}
