//! The renewal's own rules, pure with `now` (CERT-2, CERT-4): when self-service renewal
//! is offered, how many in a row it may do, and whether a renewal can take a step.

use api_types::auth::LoginId;
use api_types::policy::{Policy, RenewalDue};
use subtle::ConstantTimeEq;

use crate::store::renewals::{LoginCertificate, Renewal, RenewalState};
use crate::AppError;

/// CERT-3: how long a sign-in kept to finish a renewal may drive it (the page does so at
/// once; the card answers in seconds).
pub(crate) const RECOVERY_WINDOW_SECS: i64 = 10 * 60;

/// CERT-2 / CERT-4 / POL-4: whether the cardholder may renew now. An expired certificate
/// cannot sign in to ask; one with more than the offered window left is not due; the
/// third renewal in a row (seed-2006) is the RA's.
pub(crate) fn may_renew(policy: Policy, login: LoginCertificate, now: i64) -> Result<(), AppError> {
    let login_not_after = login.not_after;
    match policy.renewal_due(login_not_after, login.renewals_in_a_row, now) {
        RenewalDue::Offered { .. } | RenewalDue::Forced { .. } => Ok(()),
        RenewalDue::NotDue if login_not_after.is_none() => Err(AppError::CertificateNotValid),
        RenewalDue::NotDue => Err(AppError::RenewalNotDue),
        RenewalDue::ByRa { not_after } if now >= not_after => Err(AppError::CertificateNotValid),
        RenewalDue::ByRa { .. } => Err(AppError::RenewalByRa),
    }
}

/// A renewal can take a step while it is open and within its lifetime, or a sign-in
/// kept to finish it is recent: a card cut off half-way is finished however late.
pub(crate) fn check_open(renewal: &Renewal, now: i64) -> Result<(), AppError> {
    match renewal.state {
        RenewalState::Done | RenewalState::Ended => Err(AppError::AttemptEnded),
        RenewalState::Open if now < renewal.expires_at || recovery_recent(renewal, now) => Ok(()),
        RenewalState::Open => Err(AppError::AttemptExpired),
    }
}

fn recovery_recent(renewal: &Renewal, now: i64) -> bool {
    renewal
        .recovery
        .as_ref()
        .is_some_and(|claim| now < claim.claimed_at + RECOVERY_WINDOW_SECS)
}

/// CERT-3: whether the page presenting `login_id` may drive the renewal without a
/// session: the cardholder's own, open, and its kept sign-in is that one and recent.
pub(crate) fn recovery_by(renewal: &Renewal, login_id: &LoginId, now: i64) -> bool {
    renewal.by_ra.is_none()
        && renewal.state == RenewalState::Open
        && recovery_recent(renewal, now)
        && renewal.recovery.as_ref().is_some_and(|claim| {
            let kept = claim.login_id.as_str().as_bytes();
            bool::from(kept.ct_eq(login_id.as_str().as_bytes()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_900_000_000;
    const DAY: i64 = 24 * 60 * 60;
    const SEED: Policy = Policy::Seed2006;
    const NHS: Policy = Policy::Nhs2023;

    fn may(
        policy: Policy,
        not_after: Option<i64>,
        renewals_in_a_row: i64,
        now: i64,
    ) -> Result<(), AppError> {
        let login = LoginCertificate {
            not_after,
            renewals_in_a_row,
        };
        may_renew(policy, login, now)
    }

    #[test]
    fn cert_2_seed_renewal_is_offered_in_the_30_days_before_expiry_and_not_after() {
        let ends = |days: i64, secs: i64| Some(NOW + days * DAY + secs);
        let refused = |r: Result<(), AppError>| r.err().map(|e| e.code());
        assert_eq!(
            refused(may(SEED, ends(30, 1), 0, NOW)),
            Some(AppError::RenewalNotDue.code())
        );
        assert!(may(SEED, ends(30, 0), 0, NOW).is_ok());
        assert!(may(SEED, ends(0, 1), 0, NOW).is_ok());
        for expired in [ends(0, 0), ends(-3, 0), None] {
            assert_eq!(
                refused(may(SEED, expired, 0, NOW)),
                Some(AppError::CertificateNotValid.code())
            );
        }
        // The same certificate, the clock moved on a day at a time.
        let not_after = NOW + 45 * DAY;
        let offered: Vec<i64> = (0..50)
            .filter(|day| may(SEED, Some(not_after), 0, NOW + day * DAY).is_ok())
            .collect();
        assert_eq!(offered, (15..45).collect::<Vec<_>>());
    }

    #[test]
    fn cert_4_seed_two_self_service_renewals_in_a_row_then_the_ra() {
        let due = Some(NOW + 10 * DAY);
        assert!(may(SEED, due, 0, NOW).is_ok());
        assert!(may(SEED, due, 1, NOW).is_ok());
        assert!(matches!(may(SEED, due, 2, NOW), Err(AppError::RenewalByRa)));
        // Not due says more than whose turn it is.
        assert!(matches!(
            may(SEED, Some(NOW + 60 * DAY), 2, NOW),
            Err(AppError::RenewalNotDue)
        ));
    }

    #[test]
    fn pol_4_nhs_renewal_from_90_days_with_no_count_and_expired_refused() {
        assert!(may(NHS, Some(NOW + 90 * DAY), 7, NOW).is_ok());
        assert!(matches!(
            may(NHS, Some(NOW + 90 * DAY + 1), 0, NOW),
            Err(AppError::RenewalNotDue)
        ));
        assert!(matches!(
            may(NHS, Some(NOW), 0, NOW),
            Err(AppError::CertificateNotValid)
        ));
    }
}
