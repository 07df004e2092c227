//! ALL-1: every one-time code the service issues — the emailed unlock code (UNL-5, POL-3),
//! the registration code (REG-4), the RA's phone code (RA-3), all six digits, and the
//! SCSC's 12-character One Time Passcode (SCSC-2) — is kept only as an HMAC under the
//! pepper with its own salt (ALL-7), and judged by one rule, [`judge_code`]: used,
//! expired, out of tries, right, or wrong with the tries left. What differs between kinds
//! is data ([`CodeKind::policy`]), not code.

use api_types::recovery::{OneTimePasscode, TypedCode};
use api_types::UnlockCode;

use crate::secrets::{new_one_time_passcode, new_unlock_code, random_bytes, CodePepper};
use crate::store::attempts::StoredCode;
use crate::store::phone_codes::PhoneCode;
use crate::AppError;

/// The kinds of one-time code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeKind {
    /// UNL-5: emailed after the right answers.
    Unlock,
    /// REG-4: emailed to confirm a registration's address.
    Registration,
    /// RA-3: read out by an RA on the phone.
    RaPhone,
    /// SCSC-2: the One Time Passcode, by email or SMS.
    Recovery,
}

/// How long a code of one kind lives, and how many wrong tries kill it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CodePolicy {
    pub(crate) ttl: i64,
    pub(crate) max_failures: i64,
}

impl CodeKind {
    pub(crate) const fn policy(self) -> CodePolicy {
        match self {
            CodeKind::Unlock | CodeKind::Registration => CodePolicy {
                ttl: 15 * 60,
                max_failures: 5,
            },
            CodeKind::RaPhone => CodePolicy {
                ttl: 10 * 60,
                max_failures: 3,
            },
            // "You must do this within ten minutes of requesting the Passcode" (seed 000).
            CodeKind::Recovery => CodePolicy {
                ttl: 10 * 60,
                max_failures: 5,
            },
        }
    }
}

/// A code's text, whichever kind of code it is.
pub(crate) trait CodeText {
    fn text(&self) -> &str;
}

impl CodeText for UnlockCode {
    fn text(&self) -> &str {
        self.expose()
    }
}

impl CodeText for OneTimePasscode {
    fn text(&self) -> &str {
        self.expose()
    }
}

impl CodeText for TypedCode {
    fn text(&self) -> &str {
        self.expose()
    }
}

/// A new code and its salt, drawn at the edge of a step so its `decide` stays pure.
pub(crate) struct FreshCode<C = UnlockCode> {
    pub(crate) code: C,
    pub(crate) salt: [u8; 16],
}

impl FreshCode<UnlockCode> {
    pub(crate) fn draw() -> Self {
        Self {
            code: new_unlock_code(),
            salt: random_bytes(),
        }
    }
}

impl FreshCode<OneTimePasscode> {
    /// SCSC-2: a One Time Passcode.
    pub(crate) fn draw_passcode() -> Self {
        Self {
            code: new_one_time_passcode(),
            salt: random_bytes(),
        }
    }
}

impl<C: CodeText> FreshCode<C> {
    /// What the store keeps of it: the keyed hash, the salt and when it ends.
    pub(crate) fn stored(&self, kind: CodeKind, pepper: &CodePepper, now: i64) -> StoredCode {
        self.stored_until(pepper, now + kind.policy().ttl)
    }

    /// The same, ending at a set time (POL-3: 15 minutes from the unlock's start).
    pub(crate) fn stored_until(&self, pepper: &CodePepper, expires_at: i64) -> StoredCode {
        StoredCode {
            hash: pepper.hash(&self.salt, self.code.text()),
            salt: self.salt.to_vec(),
            expires_at,
        }
    }
}

/// A code as held, whatever table it lives in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeldCode<'a> {
    pub(crate) hash: &'a [u8],
    pub(crate) salt: &'a [u8],
    pub(crate) expires_at: i64,
    pub(crate) failures: i64,
    pub(crate) used: bool,
}

impl<'a> HeldCode<'a> {
    /// A stored code with the wrong tries counted beside it.
    pub(crate) fn of(stored: &'a StoredCode, failures: i64) -> Self {
        Self {
            hash: &stored.hash,
            salt: &stored.salt,
            expires_at: stored.expires_at,
            failures,
            used: false,
        }
    }

    /// An RA's phone code (RA-3), which keeps its own tries and its use.
    pub(crate) fn phone(code: &'a PhoneCode) -> Self {
        Self {
            hash: &code.code_hash,
            salt: &code.code_salt,
            expires_at: code.expires_at,
            failures: code.failures,
            used: code.used_at.is_some(),
        }
    }

    /// Still usable at `now`: not used, not expired, tries left.
    pub(crate) fn live(&self, kind: CodeKind, now: i64) -> bool {
        !self.used && now < self.expires_at && self.failures < kind.policy().max_failures
    }

    /// Wrong tries left before it dies.
    pub(crate) fn tries_left(&self, kind: CodeKind) -> u32 {
        u32::try_from(kind.policy().max_failures - self.failures).unwrap_or(0)
    }
}

/// What a typed code is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeVerdict {
    Right,
    Used,
    Expired,
    /// Dead from earlier wrong tries.
    Exhausted,
    /// Wrong: `failures` now counted, `tries_left` after it (0: this one killed it).
    Wrong {
        failures: i64,
        tries_left: i64,
    },
}

impl CodeVerdict {
    /// The refusal a wrong, used, expired or dead code gets; none for a right one.
    pub(crate) fn refusal(self) -> Option<AppError> {
        Some(match self {
            CodeVerdict::Right => return None,
            CodeVerdict::Used => AppError::CodeAlreadyUsed,
            CodeVerdict::Expired => AppError::CodeExpired,
            CodeVerdict::Exhausted => AppError::CodeTriesExhausted,
            CodeVerdict::Wrong { tries_left, .. } if tries_left <= 0 => {
                AppError::CodeTriesExhausted
            }
            CodeVerdict::Wrong { tries_left, .. } => AppError::CodeInvalid {
                tries_left: u32::try_from(tries_left).unwrap_or(0),
            },
        })
    }
}

/// ALL-1: the one rule for every code. A used, expired or dead code is refused before the
/// typed one is compared, so nothing is learnt from it; the comparison is constant-time.
pub(crate) fn judge_code(
    kind: CodeKind,
    held: HeldCode<'_>,
    typed: &impl CodeText,
    pepper: &CodePepper,
    now: i64,
) -> CodeVerdict {
    let max_failures = kind.policy().max_failures;
    if held.used {
        CodeVerdict::Used
    } else if now >= held.expires_at {
        CodeVerdict::Expired
    } else if held.failures >= max_failures {
        CodeVerdict::Exhausted
    } else if pepper.matches(held.salt, typed.text(), held.hash) {
        CodeVerdict::Right
    } else {
        let failures = held.failures + 1;
        CodeVerdict::Wrong {
            failures,
            tries_left: max_failures - failures,
        }
    }
}

/// `j***@nhs.net` for `john.rigby@nhs.net`: where a code went, without saying it all.
pub(crate) fn mask_email(email: &str) -> String {
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
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    const KINDS: [CodeKind; 4] = [
        CodeKind::Unlock,
        CodeKind::Registration,
        CodeKind::RaPhone,
        CodeKind::Recovery,
    ];

    fn pepper() -> CodePepper {
        CodePepper::new(&[9; 32]).unwrap()
    }

    fn code(text: &str) -> UnlockCode {
        UnlockCode::parse(text).unwrap()
    }

    fn stored(kind: CodeKind, now: i64) -> StoredCode {
        let fresh = FreshCode {
            code: code("123456"),
            salt: [7; 16],
        };
        fresh.stored(kind, &pepper(), now)
    }

    #[test]
    fn all_1_each_kind_lives_and_tries_as_its_rule_says() {
        assert_eq!(CodeKind::Unlock.policy().ttl, 15 * 60);
        assert_eq!(CodeKind::Registration.policy().max_failures, 5);
        assert_eq!(CodeKind::RaPhone.policy().ttl, 10 * 60);
        assert_eq!(CodeKind::RaPhone.policy().max_failures, 3);
    }

    #[test]
    fn all_1_a_right_code_within_its_time_is_right_and_not_a_second_after() {
        for kind in KINDS {
            let held = stored(kind, 1000);
            let ttl = kind.policy().ttl;
            let at = |now| {
                judge_code(
                    kind,
                    HeldCode::of(&held, 0),
                    &code("123456"),
                    &pepper(),
                    now,
                )
            };
            assert_eq!(at(1000 + ttl - 1), CodeVerdict::Right);
            assert_eq!(at(1000 + ttl), CodeVerdict::Expired);
            assert!(matches!(
                at(1000 + ttl).refusal(),
                Some(AppError::CodeExpired)
            ));
        }
    }

    #[test]
    fn all_1_wrong_codes_count_down_and_the_last_try_kills_the_code() {
        for kind in KINDS {
            let held = stored(kind, 1000);
            let max = kind.policy().max_failures;
            for failures in 0..max {
                let verdict = judge_code(
                    kind,
                    HeldCode::of(&held, failures),
                    &code("654321"),
                    &pepper(),
                    1001,
                );
                let left = max - failures - 1;
                assert_eq!(
                    verdict,
                    CodeVerdict::Wrong {
                        failures: failures + 1,
                        tries_left: left
                    }
                );
                let refusal = verdict.refusal().unwrap();
                if left == 0 {
                    assert!(matches!(refusal, AppError::CodeTriesExhausted));
                } else {
                    assert!(
                        matches!(refusal, AppError::CodeInvalid { tries_left } if i64::from(tries_left) == left)
                    );
                }
            }
            // Dead: even the right code is refused, before it is compared.
            let dead = judge_code(
                kind,
                HeldCode::of(&held, max),
                &code("123456"),
                &pepper(),
                1001,
            );
            assert_eq!(dead, CodeVerdict::Exhausted);
            assert!(!HeldCode::of(&held, max).live(kind, 1001));
        }
    }

    #[test]
    fn all_1_a_used_code_is_refused_even_when_right() {
        let held = stored(CodeKind::RaPhone, 1000);
        let used = HeldCode {
            used: true,
            ..HeldCode::of(&held, 0)
        };
        let verdict = judge_code(CodeKind::RaPhone, used, &code("123456"), &pepper(), 1001);
        assert_eq!(verdict, CodeVerdict::Used);
        assert!(matches!(verdict.refusal(), Some(AppError::CodeAlreadyUsed)));
        assert!(!used.live(CodeKind::RaPhone, 1001));
    }

    #[test]
    fn all_7_the_store_keeps_no_code_only_its_keyed_hash() {
        let fresh = FreshCode::draw();
        let kept = fresh.stored(CodeKind::Unlock, &pepper(), 0);
        assert_ne!(kept.hash, fresh.code.expose().as_bytes());
        assert_eq!(kept.salt, fresh.salt.to_vec());
        let other = CodePepper::new(&[8; 32]).unwrap();
        assert!(!other.matches(&kept.salt, fresh.code.expose(), &kept.hash));
    }

    #[test]
    fn unl_5_masks_email() {
        assert_eq!(mask_email("john.rigby@nhs.net"), "j***@nhs.net");
        assert_eq!(mask_email("nonsense"), "***");
    }

    proptest! {
        // ALL-1: whatever is held and typed, a verdict is reached, and only the one right
        // code, live, is ever Right.
        #[test]
        fn all_1_only_the_right_live_code_is_right(
            typed in 0u32..1_000_000, failures in 0i64..8, used: bool, now in 0i64..3000,
        ) {
            let kind = CodeKind::RaPhone;
            let held = stored(kind, 1000);
            let held = HeldCode { used, ..HeldCode::of(&held, failures) };
            let typed = UnlockCode::from_draw(typed);
            let verdict = judge_code(kind, held, &typed, &pepper(), now);
            let right = typed.expose() == "123456" && held.live(kind, now);
            prop_assert_eq!(verdict == CodeVerdict::Right, right);
        }
    }
}
