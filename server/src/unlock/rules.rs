//! The unlock's rules, pure: its steps' order and lifetimes (the UNL-4 counters are the
//! kernel's, [`crate::flow::lockout`]; what the card's answers mean is
//! `card_protocol::unlock`). Every function takes `now` where time
//! matters; nothing here does I/O, so tests move the clock by passing another `now`.

use crate::AppError;

/// CARD-3: once a code is accepted, the card update has 15 minutes of its own.
pub const CARD_UPDATE_TTL: i64 = 15 * 60;
/// The card must answer the challenge within 5 minutes.
pub const CHALLENGE_TTL: i64 = 5 * 60;
/// A whole attempt, start to finish.
pub const ATTEMPT_TTL: i64 = 30 * 60;

pub use crate::store::attempts::AttemptState;

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

#[cfg(test)]
mod tests {
    use super::*;
    use AttemptState::*;

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
}
