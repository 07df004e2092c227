//! The unlock flow's rules, pure: states, lifetimes, limits and what a card script's
//! responses mean. Every function takes `now`; nothing here does I/O.

use card_protocol::apdu::ResponseApdu;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptState {
    Started,
    CardProven,
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
            "code_sent" => AttemptState::CodeSent,
            "code_verified" => AttemptState::CodeVerified,
            "completed" => AttemptState::Completed,
            "failed" => AttemptState::Failed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepError {
    Expired,
    WrongStep(&'static str),
}

/// Checks an attempt may take the step that needs state `needed` at `now`.
pub fn check_step(
    state: AttemptState,
    needed: AttemptState,
    expires_at: i64,
    now: i64,
) -> Result<(), StepError> {
    if state == needed && now < expires_at {
        return Ok(());
    }
    if now >= expires_at && !matches!(state, AttemptState::Completed | AttemptState::Failed) {
        return Err(StepError::Expired);
    }
    Err(StepError::WrongStep(match state {
        AttemptState::Completed => "This unlock has already been completed.",
        AttemptState::Failed => "This unlock attempt has ended. Please start again.",
        AttemptState::CodeVerified if needed == AttemptState::CodeSent => {
            "This unlock code has already been used."
        }
        _ => "That step is not the next one in this unlock. Please start again.",
    }))
}

/// What the card's answers to the unlock script say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptOutcome {
    /// PIN reset and PUK rotated: the card now has the new PUK.
    Done,
    /// PIN reset, but the PUK change did not happen: the card keeps the old PUK.
    ResetOnlyPukKept,
    /// The PUK was refused: the card must already have the PUK sent earlier.
    WrongPuk,
    /// Nothing conclusive (card pulled, other error): nothing known changed.
    Unknown,
}

/// The script is [SELECT, RESET RETRY COUNTER, CHANGE REFERENCE DATA (PUK)].
pub fn script_outcome(responses: &[Vec<u8>]) -> ScriptOutcome {
    let sw = |i: usize| {
        responses
            .get(i)
            .and_then(|r| ResponseApdu::parse(r).ok())
            .map(|r| r.sw)
    };
    match (sw(0), sw(1), sw(2)) {
        (Some(select), Some(reset), change) if select.is_success() && reset.is_success() => {
            match change {
                Some(change) if change.is_success() => ScriptOutcome::Done,
                Some(change) if change.tries_left().is_some() || change.is_blocked() => {
                    ScriptOutcome::ResetOnlyPukKept
                }
                _ => ScriptOutcome::Unknown,
            }
        }
        (Some(select), Some(reset), _)
            if select.is_success() && (reset.tries_left().is_some() || reset.is_blocked()) =>
        {
            ScriptOutcome::WrongPuk
        }
        _ => ScriptOutcome::Unknown,
    }
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

    #[test]
    fn steps_follow_in_order_and_expire_on_time() {
        assert_eq!(check_step(Started, Started, 100, 99), Ok(()));
        assert_eq!(
            check_step(Started, Started, 100, 100),
            Err(StepError::Expired)
        );
        assert!(matches!(
            check_step(CardProven, CodeSent, 100, 50),
            Err(StepError::WrongStep(_))
        ));
        assert!(matches!(
            check_step(Completed, CodeSent, 100, 500),
            Err(StepError::WrongStep(_))
        ));
    }

    #[test]
    fn unl_5_a_used_code_is_called_used() {
        assert_eq!(
            check_step(CodeVerified, CodeSent, 100, 10),
            Err(StepError::WrongStep(
                "This unlock code has already been used."
            ))
        );
    }

    #[test]
    fn script_outcomes() {
        let ok = vec![0x90, 0x00];
        let wrong = vec![0x63, 0xC2];
        assert_eq!(
            script_outcome(&[ok.clone(), ok.clone(), ok.clone()]),
            ScriptOutcome::Done
        );
        assert_eq!(
            script_outcome(&[ok.clone(), ok.clone(), wrong.clone()]),
            ScriptOutcome::ResetOnlyPukKept
        );
        assert_eq!(
            script_outcome(&[ok.clone(), wrong.clone()]),
            ScriptOutcome::WrongPuk
        );
        assert_eq!(
            script_outcome(&[ok.clone(), ok.clone()]),
            ScriptOutcome::Unknown
        );
        assert_eq!(script_outcome(&[]), ScriptOutcome::Unknown);
        assert_eq!(script_outcome(&[vec![0x01]]), ScriptOutcome::Unknown);
    }

    #[test]
    fn masks_email() {
        assert_eq!(mask_email("john.rigby@nhs.net"), "j***@nhs.net");
        assert_eq!(mask_email("nonsense"), "***");
    }
}
