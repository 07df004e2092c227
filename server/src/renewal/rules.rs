//! The renewal's own rules, pure with `now` (CERT-2, CERT-4): when self-service renewal
//! is offered, how many in a row it may do, and whether a renewal can take a step.

use card_protocol::KeySlot;

use crate::store::certificates::CardCertificate;
use crate::store::renewals::{Renewal, RenewalState};
use crate::AppError;

const DAY: i64 = 24 * 60 * 60;
/// CERT-2: self-service renewal is offered in the 30 days before the certificate ends.
pub(crate) const OFFERED_DAYS: i64 = 30;
/// CERT-4: self-service renewals in a row before the RA must renew.
pub(crate) const SELF_SERVICE_IN_A_ROW: i64 = 2;
/// How long a renewal may take, from its start to the card's last answer.
pub(crate) const LIFETIME_SECS: i64 = 15 * 60;

/// When the card's login (9A) certificate in force ends: the newest one not revoked.
pub(crate) fn login_not_after(certificates: &[CardCertificate]) -> Option<i64> {
    certificates
        .iter()
        .filter(|c| c.slot == KeySlot::PivAuth && c.revoked_at.is_none())
        .map(|c| c.not_after)
        .max()
}

/// CERT-2 / CERT-4: whether the cardholder may renew now. An expired certificate is no
/// certificate (and cannot sign in to ask); one with more than the window left is not
/// due; the third renewal in a row is the RA's.
pub(crate) fn may_renew(
    login_not_after: Option<i64>,
    in_a_row: i64,
    now: i64,
) -> Result<(), AppError> {
    let not_after = login_not_after.ok_or(AppError::CertificateNotValid)?;
    if now >= not_after {
        Err(AppError::CertificateNotValid)
    } else if not_after - now > OFFERED_DAYS * DAY {
        Err(AppError::RenewalNotDue)
    } else if in_a_row >= SELF_SERVICE_IN_A_ROW {
        Err(AppError::RenewalByRa)
    } else {
        Ok(())
    }
}

/// A renewal can take a step while it is open and within its lifetime.
pub(crate) fn check_open(renewal: &Renewal, now: i64) -> Result<(), AppError> {
    match renewal.state {
        RenewalState::Done => Err(AppError::AttemptEnded),
        RenewalState::Open if now >= renewal.expires_at => Err(AppError::AttemptExpired),
        RenewalState::Open => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_900_000_000;

    #[test]
    fn cert_2_renewal_is_offered_in_the_30_days_before_expiry_and_not_after() {
        let ends = |days: i64, secs: i64| Some(NOW + days * DAY + secs);
        assert!(matches!(
            may_renew(ends(31, 0), 0, NOW),
            Err(AppError::RenewalNotDue)
        ));
        assert!(matches!(
            may_renew(ends(30, 1), 0, NOW),
            Err(AppError::RenewalNotDue)
        ));
        assert!(may_renew(ends(30, 0), 0, NOW).is_ok());
        assert!(may_renew(ends(0, 1), 0, NOW).is_ok());
        assert!(matches!(
            may_renew(ends(0, 0), 0, NOW),
            Err(AppError::CertificateNotValid)
        ));
        assert!(matches!(
            may_renew(None, 0, NOW),
            Err(AppError::CertificateNotValid)
        ));
        // The same certificate, the clock moved on a day at a time.
        let not_after = NOW + 45 * DAY;
        let offered: Vec<i64> = (0..50)
            .filter(|day| may_renew(Some(not_after), 0, NOW + day * DAY).is_ok())
            .collect();
        assert_eq!(offered, (15..45).collect::<Vec<_>>());
    }

    #[test]
    fn cert_4_two_self_service_renewals_in_a_row_then_the_ra() {
        let due = Some(NOW + 10 * DAY);
        assert!(may_renew(due, 0, NOW).is_ok());
        assert!(may_renew(due, 1, NOW).is_ok());
        assert!(matches!(may_renew(due, 2, NOW), Err(AppError::RenewalByRa)));
        // Not due says more than whose turn it is.
        assert!(matches!(
            may_renew(Some(NOW + 60 * DAY), 2, NOW),
            Err(AppError::RenewalNotDue)
        ));
    }
}
