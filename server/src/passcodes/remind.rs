//! PASS-4 / JOB-1 / JOB-2: the daily reminder that the passcodes expire soon, in the days
//! before they do. Claimed per user and day in the transaction that queues its mail, as
//! the certificate reminders are: any number of instances, each user hears once a day.

use api_types::audit::AuditAction;
use api_types::time::utc_date;

use crate::flow::{Outcome, Subject, Write};
use crate::mail::passcodes::reminder;
use crate::mail::templates::Sender;
use crate::store::jobs::{self, ExpiringPasscodes};
use crate::store::StoreError;
use crate::{AppError, AppState};

/// The claim's kind: one a day per user.
pub(crate) const REMINDER_KIND: &str = "passcode_expiry";
const DAY: i64 = 24 * 60 * 60;
const BATCH: i64 = 100;

impl AppState {
    /// Queues today's passcode reminders not yet claimed; how many this call queued.
    pub(crate) async fn send_passcode_reminders(&self, now: i64) -> Result<i64, AppError> {
        let expiry = self.settings.passcode_expiry;
        if expiry.lifetime_days == 0 {
            return Ok(0);
        }
        let day = now.div_euclid(DAY);
        // Set in this window: expiring in (now, now + reminder days].
        let lifetime = expiry.lifetime_days * DAY;
        let window = (now - lifetime, now - lifetime + expiry.reminder_days * DAY);
        let link = format!("{}/passcodes", self.settings.public_origin);
        let mut queued = 0;
        loop {
            let mut conn = self.store.pool.acquire().await.map_err(StoreError::from)?;
            let due =
                jobs::passcodes_set_between(&mut conn, window, (REMINDER_KIND, day), BATCH).await?;
            drop(conn);
            if due.is_empty() {
                return Ok(queued);
            }
            for expiring in due {
                let mut tx = self.store.begin().await?;
                if !jobs::claim_reminder(&mut tx, &expiring.user_uuid, REMINDER_KIND, day, now)
                    .await?
                {
                    continue;
                }
                let Some(dates) = expiry.dates(Some(expiring.set_at), expiring.ra_unlocked_at)
                else {
                    continue;
                };
                let dated = (dates.expires_at, dates.locks_at);
                let outcome = decide_reminder(&self.sender(), &expiring, dated, &link);
                self.finish_offline(tx, now, outcome).await?;
                queued += 1;
            }
        }
    }
}

/// JOB-2: the reminder's mail and its audit event (the holder sees it on My card).
fn decide_reminder(
    sender: &Sender<'_>,
    expiring: &ExpiringPasscodes,
    (expires_at, locks_at): (i64, i64),
    link: &str,
) -> Outcome<()> {
    let to = (expiring.email.as_str(), expiring.display_name.as_str());
    let mail = reminder(sender, to, (expires_at, locks_at), link);
    Outcome::new(
        AuditAction::PasscodesReminder,
        Subject::user(&expiring.user_uuid),
    )
    .detail(format!("expire {}", utc_date(expires_at)))
    .write(Write::Mail(mail))
    .ok("ok", ())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::{john, mailed_to, SENDER};

    #[test]
    fn pass_4_the_reminder_names_the_expiry_the_lock_and_the_way_to_change_them() {
        let expiring = ExpiringPasscodes {
            user_uuid: john().uuid,
            display_name: john().display_name,
            email: john().email,
            set_at: 0,
            ra_unlocked_at: None,
        };
        let link = "https://selfservice.example.nhs.uk/passcodes";
        let (expires_at, locks_at) = (1_796_947_200, 1_796_947_200 + 21 * DAY);
        let outcome = decide_reminder(&SENDER, &expiring, (expires_at, locks_at), link);
        assert_eq!(mailed_to(&outcome), [john().email.as_str()]);
        let Some(Write::Mail(mail)) = outcome.writes().first() else {
            panic!("a mail");
        };
        for said in [utc_date(expires_at), utc_date(locks_at), link.to_owned()] {
            assert!(mail.text.contains(&said), "{said}: {}", mail.text);
        }
    }
}
