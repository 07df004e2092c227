//! CARD-6, then SCSC-1 / POL-3: where a genuine card leads on the routes without the
//! questions. The SCSC route goes on to the Account Recovery details (`recovery`), open
//! past the questions' three strikes but not after an incident stop or its own five
//! (SCSC-4). The NHS's 2023 route needs nothing typed: the holder is known by the card,
//! and may go on only with current certificates, an open account and somewhere to send
//! the code; anyone else is told why and sent to the RA (POL-3). Refused holders keep the
//! attempt for a phone code from the RA (RA-3).

use api_types::recovery::DeliveryOption;
use api_types::unlock::CardProofResponse;

use super::rules::AttemptState;
use super::{Outcome, Write};
use crate::flow::lockout::{recovery_open, recovery_tries_left};
use crate::store::attempts::Attempt;
use crate::store::users::User;
use crate::AppError;

/// What the NHS's 2023 route asks of a holder besides their card (POL-3).
pub(super) struct Standing {
    /// The card's login (9A) certificate is current and unrevoked.
    pub login_certificate_current: bool,
    /// PASS-4: locked for expired passcodes.
    pub passcodes_locked: bool,
    /// Where a code may go (SCSC-2 / POL-3).
    pub options: Vec<DeliveryOption>,
}

/// Kept only for the RA's phone code, refused with why.
fn ra_only(
    outcome: Outcome<CardProofResponse>,
    attempt: Attempt,
    error: AppError,
) -> Outcome<CardProofResponse> {
    let ra_only = Attempt {
        state: AttemptState::RaOnly,
        ..attempt
    };
    outcome.write(Write::Attempt(ra_only)).refuse(error)
}

/// SCSC-1: the holder is named (UNL-2) and asked for their Account Recovery details.
pub(super) fn scsc(
    outcome: Outcome<CardProofResponse>,
    attempt: Attempt,
    user: &User,
    passcodes_locked: bool,
) -> Outcome<CardProofResponse> {
    if !recovery_open(user.counters) {
        return ra_only(outcome, attempt, AppError::RecoveryClosed);
    }
    if passcodes_locked {
        return ra_only(outcome, attempt, AppError::PasscodesLocked);
    }
    let proven = Attempt {
        state: AttemptState::CardProven,
        ..attempt
    };
    let response = CardProofResponse {
        holder_name: user.display_name.clone(),
        questions: Vec::new(),
        attempts_left: recovery_tries_left(user.counters),
        options: Vec::new(),
    };
    outcome.write(Write::Attempt(proven)).ok("ok", response)
}

/// POL-3: the holder, known by the card, chooses where the code goes — if they may.
pub(super) fn nhs_2023(
    outcome: Outcome<CardProofResponse>,
    attempt: Attempt,
    user: &User,
    standing: Standing,
) -> Outcome<CardProofResponse> {
    let refusal = if user.counters.self_service_closed {
        Some(AppError::SelfServiceClosed)
    } else if !standing.login_certificate_current {
        Some(AppError::CertificateNotValid)
    } else if standing.passcodes_locked {
        Some(AppError::PasscodesLocked)
    } else if standing.options.is_empty() {
        Some(AppError::NoDeliveryChannel)
    } else {
        None
    };
    if let Some(error) = refusal {
        return ra_only(outcome, attempt, error);
    }
    let identified = Attempt {
        state: AttemptState::Identified,
        ..attempt
    };
    let response = CardProofResponse {
        holder_name: user.display_name.clone(),
        questions: Vec::new(),
        attempts_left: 0,
        options: standing.options,
    };
    outcome.write(Write::Attempt(identified)).ok("ok", response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::{attempt, john, written_attempt};
    use crate::flow::lockout::MAX_RECOVERY_FAILURES;
    use crate::flow::Subject;
    use api_types::audit::AuditAction;
    use api_types::recovery::Delivery;

    fn outcome() -> Outcome<CardProofResponse> {
        Outcome::new(
            AuditAction::UnlockCardProof,
            Subject::attempt(&attempt(AttemptState::Started)),
        )
    }

    fn standing() -> Standing {
        Standing {
            login_certificate_current: true,
            passcodes_locked: false,
            options: vec![DeliveryOption {
                delivery: Delivery::Email,
                hint: "j***@nhs.net".into(),
            }],
        }
    }

    #[test]
    fn scsc_1_a_genuine_card_asks_for_the_details_even_past_the_questions_strikes() {
        let mut struck = john();
        struck.counters.self_service_closed = true;
        let proven = scsc(outcome(), attempt(AttemptState::Started), &struck, false);
        let response = proven.reply.as_ref().unwrap();
        assert!(response.questions.is_empty());
        assert_eq!(i64::from(response.attempts_left), MAX_RECOVERY_FAILURES);
        assert_eq!(written_attempt(&proven).state, AttemptState::CardProven);
        struck.counters.stopped = true;
        let stopped = scsc(outcome(), attempt(AttemptState::Started), &struck, false);
        assert!(matches!(stopped.reply, Err(AppError::RecoveryClosed)));
        assert_eq!(written_attempt(&stopped).state, AttemptState::RaOnly);
    }

    #[test]
    fn pol_3_the_card_alone_identifies_a_holder_in_good_standing() {
        let ok = nhs_2023(
            outcome(),
            attempt(AttemptState::Started),
            &john(),
            standing(),
        );
        assert_eq!(ok.reply.as_ref().unwrap().options.len(), 1);
        assert_eq!(written_attempt(&ok).state, AttemptState::Identified);
    }

    #[test]
    fn pol_3_everyone_else_is_sent_to_the_ra_and_told_why() {
        let mut closed = john();
        closed.counters.self_service_closed = true;
        let cases = [
            (closed, standing(), AppError::SelfServiceClosed),
            (
                john(),
                Standing {
                    login_certificate_current: false,
                    ..standing()
                },
                AppError::CertificateNotValid,
            ),
            (
                john(),
                Standing {
                    passcodes_locked: true,
                    ..standing()
                },
                AppError::PasscodesLocked,
            ),
            (
                john(),
                Standing {
                    options: Vec::new(),
                    ..standing()
                },
                AppError::NoDeliveryChannel,
            ),
        ];
        for (user, standing, why) in cases {
            let refused = nhs_2023(outcome(), attempt(AttemptState::Started), &user, standing);
            assert_eq!(refused.reply.as_ref().unwrap_err().code(), why.code());
            assert_eq!(written_attempt(&refused).state, AttemptState::RaOnly);
        }
    }
}
