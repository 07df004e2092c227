//! RA-3 / CERT-4 / RA-5: the RA renews a cardholder's certificates at their desk — the
//! third renewal in a row, or (POL-4) a certificate that has ended — with their own card
//! proven again in the last 5 minutes, how they verified the cardholder's identity
//! audited as the reason, and the cardholder's card in the reader. This opens the
//! renewal's secure channel to that card; the steps after are the renewal's own, driven
//! by this RA's session, and the finished renewal starts the count again.

use api_types::audit::AuditAction;
use api_types::policy::{Policy, RenewalDue};
use api_types::ra::{DeskRenewalRequest, UserUuid};
use api_types::renewal::RenewalOpened;

use super::{Gives, Needs};
use crate::flow::{Client, Outcome, Write};
use crate::secrets::FlowSecret;
use crate::store::cards;
use crate::store::renewals::{self, LoginCertificate, Renewal};
use crate::{AppError, AppState};

const RENEW: AuditAction = AuditAction::RaRenew;

impl AppState {
    pub async fn ra_renewal_start(
        &self,
        secret: Option<&FlowSecret>,
        uuid: &UserUuid,
        request: &DeskRenewalRequest,
        client: &Client,
    ) -> Result<RenewalOpened, AppError> {
        let action = (RENEW, Needs::Agent, Gives::Access);
        let reason = request.reason.as_str();
        let (ra, now, mut tx, user) = self.ra_target(action, secret, uuid, reason, client).await?;
        let outcome = match user {
            Ok((outcome, user)) => {
                let backend = self.store.backend;
                let card = cards::find_for_update(&mut tx, backend, &request.card_guid).await?;
                match card.filter(|card| card.user_uuid == user.uuid) {
                    Some(card) => {
                        let login = renewals::login_certificate(&mut tx, &card.guid).await?;
                        let opened = self.renewal_begun(&card, Some(ra.uuid.clone()), now);
                        decide(outcome, (self.settings.policy, login), opened, now)
                    }
                    // Another's card in the reader, or none we know.
                    None => outcome
                        .detail(format!(
                            "{reason}; card {} is not theirs",
                            request.card_guid
                        ))
                        .refuse(AppError::NotFound),
                }
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

/// RA-3 / CERT-4 / POL-4: the RA renews what is due, the third in a row and an ended
/// certificate included; not one far from its end, nor a card with none in force (a
/// revoked card is replaced, not renewed).
fn decide(
    outcome: Outcome<RenewalOpened>,
    (policy, login): (Policy, LoginCertificate),
    opened: Result<(Renewal, RenewalOpened), AppError>,
    now: i64,
) -> Outcome<RenewalOpened> {
    let due = policy.renewal_due(login.not_after, login.renewals_in_a_row, now);
    let refused = match (due, login.not_after) {
        (_, None) => Some(AppError::CertificateNotValid),
        (RenewalDue::NotDue, Some(_)) => Some(AppError::RenewalNotDue),
        _ => None,
    };
    if let Some(refused) = refused {
        return outcome.refuse(refused);
    }
    match opened {
        Ok((renewal, opened)) => outcome
            .write(Write::NewRenewal(renewal))
            .ok("opened", opened),
        Err(failed) => outcome.refuse(failed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Subject;

    const NOW: i64 = 1_900_000_000;
    const DAY: i64 = 86_400;

    fn judged(policy: Policy, not_after: Option<i64>, in_a_row: i64) -> Option<String> {
        let login = LoginCertificate {
            not_after,
            renewals_in_a_row: in_a_row,
        };
        let outcome = Outcome::new(RENEW, Subject::anonymous());
        let opened = Err(AppError::ChannelFailed);
        match decide(outcome, (policy, login), opened, NOW).reply {
            Err(AppError::ChannelFailed) => None,
            Err(refused) => Some(refused.code().as_str().to_owned()),
            Ok(_) => None,
        }
    }

    #[test]
    fn ra_3_cert_4_the_ra_renews_the_third_in_a_row_and_an_ended_certificate() {
        for policy in Policy::ALL {
            assert_eq!(judged(policy, Some(NOW + 10 * DAY), 2), None);
            assert_eq!(judged(policy, Some(NOW - 3 * DAY), 0), None, "ended");
            assert_eq!(
                judged(policy, Some(NOW + 200 * DAY), 2).as_deref(),
                Some("renewal_not_due")
            );
            assert_eq!(
                judged(policy, None, 0).as_deref(),
                Some("certificate_not_valid")
            );
        }
    }
}
