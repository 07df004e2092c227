//! UNL-4 / UNL-5 / ALL-1 / RA-6: the per-user counters that close self-service — three
//! wrong sets of answers, or too many wrong codes in a day across every attempt — so
//! starting again never buys fresh tries; and the incident stop that closes it at once. Pure: the unlock counts with them, the RA console shows
//! them, and a "this wasn't me" report or an RA reopening sets them.

use super::{Outcome, Write};
use crate::store::users::{UnlockCounters, User};

/// UNL-4: failed question attempts before self-service closes.
pub(crate) const MAX_ANSWER_FAILURES: i64 = 3;
/// UNL-5 / ALL-1: wrong unlock codes are counted per user over this window.
pub(crate) const CODE_FAILURE_WINDOW: i64 = 24 * 3600;

/// RA-6, the incident stop (a "this wasn't me" report, or the RA's own stop): self-service
/// closed until the RA reopens it, and — in the same transaction — every unlock and
/// registration under way failed, a live phone code spent and every session ended.
pub(crate) fn stop_everything<T>(outcome: Outcome<T>, user: &User) -> Outcome<T> {
    let closed = UnlockCounters {
        self_service_closed: true,
        stopped: true,
        ..user.counters
    };
    outcome
        .write(Write::UnlockCounters {
            user_uuid: user.uuid.clone(),
            before: user.counters,
            after: closed,
        })
        .write(Write::StopFlows {
            user_uuid: user.uuid.clone(),
        })
}

/// UNL-4 after a wrong set of answers: one more failure, and closed at the limit. A
/// closed account stays closed (only the RA reopens it) and failures never expire.
pub(crate) fn count_answer_failure(before: UnlockCounters) -> UnlockCounters {
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
pub(crate) fn count_code_failure(before: UnlockCounters, limit: i64, now: i64) -> UnlockCounters {
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
pub(crate) fn count_unlock_success(before: UnlockCounters) -> UnlockCounters {
    if before.self_service_closed {
        // SCSC-4: an SCSC unlock past the questions' three strikes forgives its own
        // failures; the questions stay closed until the RA reopens them.
        return UnlockCounters {
            recovery_failures: 0,
            ..before
        };
    }
    UnlockCounters::default()
}

/// SCSC-4: wrong Account Recovery details before the SCSC route closes.
pub(crate) const MAX_RECOVERY_FAILURES: i64 = 5;

/// SCSC-4 / RA-6: the SCSC route stays open past the questions' three strikes (it is the
/// way back for someone who forgot their answers), but not after an incident stop, nor
/// once its own failures reach the limit.
pub(crate) fn recovery_open(counters: UnlockCounters) -> bool {
    !counters.stopped && counters.recovery_failures < MAX_RECOVERY_FAILURES
}

/// SCSC-4 after wrong Account Recovery details: one more failure. Like UNL-4's, they
/// never expire; only a finished unlock or the RA forgives them.
pub(crate) fn count_recovery_failure(before: UnlockCounters) -> UnlockCounters {
    if !recovery_open(before) {
        return before;
    }
    UnlockCounters {
        recovery_failures: before.recovery_failures + 1,
        ..before
    }
}

/// Wrong Account Recovery details left before the SCSC route closes.
pub(crate) fn recovery_tries_left(counters: UnlockCounters) -> u32 {
    if counters.stopped {
        return 0;
    }
    u32::try_from(MAX_RECOVERY_FAILURES - counters.recovery_failures).unwrap_or(0)
}

/// Wrong-answer submissions left before self-service closes.
pub(crate) fn answer_tries_left(counters: UnlockCounters) -> u32 {
    if counters.self_service_closed {
        return 0;
    }
    u32::try_from(MAX_ANSWER_FAILURES - counters.answer_failures).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(answer_failures: i64, closed: bool) -> UnlockCounters {
        UnlockCounters {
            answer_failures,
            self_service_closed: closed,
            ..UnlockCounters::default()
        }
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
    fn scsc_4_five_wrong_recoveries_close_the_route_and_the_questions_strikes_do_not() {
        let mut counters = counters(3, true);
        assert!(recovery_open(counters));
        for left in (0..MAX_RECOVERY_FAILURES).rev() {
            counters = count_recovery_failure(counters);
            assert_eq!(i64::from(recovery_tries_left(counters)), left);
        }
        assert!(!recovery_open(counters));
        assert_eq!(count_recovery_failure(counters), counters);
        // An unlock by the route forgives its own failures only.
        let mut two = count_recovery_failure(count_recovery_failure(UnlockCounters::default()));
        two.self_service_closed = true;
        let after = count_unlock_success(two);
        assert_eq!(
            (after.recovery_failures, after.self_service_closed),
            (0, true)
        );
    }

    #[test]
    fn ra_6_an_incident_stop_closes_the_scsc_route_too() {
        let user = crate::fixtures::john();
        let outcome = stop_everything(
            Outcome::<()>::new(
                api_types::audit::AuditAction::NotMe,
                crate::flow::Subject::user(&user.uuid),
            ),
            &user,
        );
        let stopped = outcome.writes().iter().find_map(|w| match w {
            Write::UnlockCounters { after, .. } => Some(*after),
            _ => None,
        });
        let stopped = stopped.unwrap_or_default();
        assert!(stopped.self_service_closed && !recovery_open(stopped));
        assert_eq!(recovery_tries_left(stopped), 0);
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
}
