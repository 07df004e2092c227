//! The unlock's rules, pure: states, lifetimes, limits and the UNL-4 lockout (what the
//! card's answers mean is `card_protocol::unlock`). Every function takes `now` where time
//! matters; nothing here does I/O, so tests move the clock by passing another `now`.

use crate::store::users::UnlockCounters;
use crate::AppError;

/// UNL-4: failed question attempts before self-service closes.
pub const MAX_ANSWER_FAILURES: i64 = 3;
/// UNL-5: wrong unlock codes allowed per code.
pub const MAX_CODE_FAILURES: i64 = 5;
/// UNL-5: an emailed code is valid for 15 minutes.
pub const CODE_TTL: i64 = 15 * 60;
/// The card must answer the challenge within 5 minutes.
pub const CHALLENGE_TTL: i64 = 5 * 60;
/// A whole attempt, start to finish.
pub const ATTEMPT_TTL: i64 = 30 * 60;
/// UNL-5 / ALL-1: wrong unlock codes are counted per user over this window.
pub const CODE_FAILURE_WINDOW: i64 = 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptState {
    Started,
    CardProven,
    /// RA-3: the card proved itself but self-service may not go on (not registered,
    /// closed): only a phone code from the RA can.
    RaOnly,
    CodeSent,
    CodeVerified,
    Completed,
    Failed,
}

impl AttemptState {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptState::Started => "started",
            AttemptState::CardProven => "card_proven",
            AttemptState::RaOnly => "ra_only",
            AttemptState::CodeSent => "code_sent",
            AttemptState::CodeVerified => "code_verified",
            AttemptState::Completed => "completed",
            AttemptState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "started" => AttemptState::Started,
            "card_proven" => AttemptState::CardProven,
            "ra_only" => AttemptState::RaOnly,
            "code_sent" => AttemptState::CodeSent,
            "code_verified" => AttemptState::CodeVerified,
            "completed" => AttemptState::Completed,
            "failed" => AttemptState::Failed,
            _ => return None,
        })
    }
}

/// Checks an attempt in `state` may take the step that needs `needed` at `now`.
pub fn check_step(
    state: AttemptState,
    needed: AttemptState,
    expires_at: i64,
    now: i64,
) -> Result<(), AppError> {
    if state == needed && now < expires_at {
        return Ok(());
    }
    Err(match state {
        AttemptState::Completed => AppError::AlreadyUnlocked,
        AttemptState::Failed => AppError::AttemptEnded,
        _ if now >= expires_at => AppError::AttemptExpired,
        AttemptState::CodeVerified if needed == AttemptState::CodeSent => AppError::CodeAlreadyUsed,
        _ => AppError::WrongStep,
    })
}

/// UNL-4 after a wrong set of answers: one more failure, and closed at the limit. A
/// closed account stays closed (only the RA reopens it) and failures never expire.
pub fn count_answer_failure(before: UnlockCounters) -> UnlockCounters {
    if before.self_service_closed {
        return before;
    }
    let answer_failures = before.answer_failures + 1;
    UnlockCounters {
        answer_failures,
        self_service_closed: answer_failures >= MAX_ANSWER_FAILURES,
        ..before
    }
}

/// UNL-5 / ALL-1 after a wrong unlock code, in any attempt: counted per user in a window
/// of [`CODE_FAILURE_WINDOW`] from the first wrong code; reaching `limit` closes
/// self-service like UNL-4, so fresh attempts never bring fresh tries.
pub fn count_code_failure(before: UnlockCounters, limit: i64, now: i64) -> UnlockCounters {
    if before.self_service_closed {
        return before;
    }
    let window_open = before.code_failures > 0
        && now.saturating_sub(before.code_window_started_at) < CODE_FAILURE_WINDOW;
    let (code_failures, code_window_started_at) = if window_open {
        (before.code_failures + 1, before.code_window_started_at)
    } else {
        (1, now)
    };
    UnlockCounters {
        code_failures,
        code_window_started_at,
        self_service_closed: code_failures >= limit,
        ..before
    }
}

/// Only a finished unlock forgives earlier failures: right answers alone reset nothing,
/// and abandoning an attempt neither costs nor resets anything.
pub fn count_unlock_success(before: UnlockCounters) -> UnlockCounters {
    if before.self_service_closed {
        return before;
    }
    UnlockCounters::default()
}

/// Wrong-answer submissions left before self-service closes.
pub fn answer_tries_left(counters: UnlockCounters) -> u32 {
    if counters.self_service_closed {
        return 0;
    }
    u32::try_from(MAX_ANSWER_FAILURES - counters.answer_failures).unwrap_or(0)
}

/// `j***@nhs.net` for `john.rigby@nhs.net`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttemptState::*;

    fn counters(answer_failures: i64, closed: bool) -> UnlockCounters {
        UnlockCounters {
            answer_failures,
            self_service_closed: closed,
            ..UnlockCounters::default()
        }
    }

    #[test]
    fn unl_1_steps_follow_in_order_and_expire_on_time() {
        assert!(check_step(Started, Started, 100, 99).is_ok());
        assert!(matches!(
            check_step(Started, Started, 100, 100),
            Err(AppError::AttemptExpired)
        ));
        assert!(matches!(
            check_step(CardProven, CodeSent, 100, 50),
            Err(AppError::WrongStep)
        ));
        assert!(matches!(
            check_step(Completed, CodeSent, 100, 500),
            Err(AppError::AlreadyUnlocked)
        ));
        assert!(matches!(
            check_step(Failed, CodeSent, 100, 50),
            Err(AppError::AttemptEnded)
        ));
    }

    #[test]
    fn unl_5_a_used_code_is_called_used() {
        assert!(matches!(
            check_step(CodeVerified, CodeSent, 100, 10),
            Err(AppError::CodeAlreadyUsed)
        ));
    }

    #[test]
    fn unl_4_three_failures_close_self_service() {
        let one = count_answer_failure(counters(0, false));
        let two = count_answer_failure(one);
        let three = count_answer_failure(two);
        assert_eq!((one, two), (counters(1, false), counters(2, false)));
        assert_eq!(three, counters(3, true));
        assert_eq!(answer_tries_left(two), 1);
        assert_eq!(answer_tries_left(three), 0);
    }

    #[test]
    fn unl_4_a_closed_account_stays_closed_whatever_happens_next() {
        let closed = counters(3, true);
        assert_eq!(count_answer_failure(closed), closed);
        assert_eq!(count_unlock_success(closed), closed);
        assert_eq!(count_code_failure(closed, 5, 0), closed);
    }

    #[test]
    fn unl_4_failures_do_not_expire_with_a_moved_clock() {
        // The rule has no clock at all: two failures a year apart still count as two,
        // and the attempt's own expiry is the only thing time changes.
        let two = count_answer_failure(count_answer_failure(counters(0, false)));
        let year = 365 * 24 * 3600;
        assert!(matches!(
            check_step(CardProven, CardProven, 100 + year, 100 + year),
            Err(AppError::AttemptExpired)
        ));
        assert_eq!(count_answer_failure(two), counters(3, true));
    }

    #[test]
    fn unl_4_only_a_finished_unlock_forgives_earlier_failures() {
        let mut before = counters(2, false);
        before.code_failures = 3;
        before.code_window_started_at = 50;
        assert_eq!(count_unlock_success(before), UnlockCounters::default());
    }

    #[test]
    fn unl_5_the_fifth_wrong_code_in_a_day_closes_self_service() {
        let mut counters = UnlockCounters::default();
        for (n, at) in [(1, 1000), (2, 2000), (3, 3000), (4, 4000)] {
            counters = count_code_failure(counters, 5, at);
            assert_eq!(
                (counters.code_failures, counters.self_service_closed),
                (n, false)
            );
        }
        assert_eq!(counters.code_window_started_at, 1000);
        let closed = count_code_failure(counters, 5, 1000 + CODE_FAILURE_WINDOW - 1);
        assert!(closed.self_service_closed);
    }

    #[test]
    fn unl_5_wrong_codes_a_day_apart_start_a_new_window() {
        let mut counters = UnlockCounters::default();
        for at in [1000, 2000, 3000, 4000] {
            counters = count_code_failure(counters, 5, at);
        }
        let later = count_code_failure(counters, 5, 1000 + CODE_FAILURE_WINDOW);
        assert_eq!(
            (
                later.code_failures,
                later.code_window_started_at,
                later.self_service_closed
            ),
            (1, 1000 + CODE_FAILURE_WINDOW, false)
        );
    }

    #[test]
    fn unl_5_masks_email() {
        assert_eq!(mask_email("john.rigby@nhs.net"), "j***@nhs.net");
        assert_eq!(mask_email("nonsense"), "***");
    }
}
