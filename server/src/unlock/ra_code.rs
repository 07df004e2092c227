//! RA-3: the code an RA read out on the phone, in place of the questions and the emailed
//! code — after the card proved itself (CARD-6), so it works only with that user's own
//! card; also for a user who never registered (UNL-8) or whose self-service is closed
//! (UNL-4), whom the RA has just checked on the phone. Single use, 10 minutes, 3 tries
//! (ALL-1). A right code lets the card update begin (`channel`, CARD-3).

use api_types::audit::AuditAction;
use api_types::unlock::{CodeAccepted, CodeRequest};
use api_types::AttemptId;

use super::rules::{check_step, AttemptState, CARD_UPDATE_TTL};
use super::{Client, Guard, Outcome, Subject, Write};
use crate::flow::codes::{judge_code, CodeKind, CodeText, CodeVerdict, HeldCode};
use crate::secrets::{CodePepper, FlowSecret};
use crate::store::attempts::Attempt;
use crate::store::phone_codes::{self, PhoneCode};
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::UnlockRaCode;

impl AppState {
    pub async fn ra_code(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        request: CodeRequest,
        client: &Client,
    ) -> Result<CodeAccepted, AppError> {
        let (now, mut tx, attempt) = self
            .attempt_step(ACTION, id, flow, Guard::UsersFailures)
            .await?;
        let outcome = match attempt {
            Ok(attempt) => {
                let backend = self.store.backend;
                let code =
                    phone_codes::find_for_update(&mut tx, backend, &attempt.user_uuid).await?;
                decide(attempt, code, &request.code, &self.code_pepper, now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

fn decide(
    attempt: Attempt,
    stored: Option<PhoneCode>,
    typed: &impl CodeText,
    pepper: &CodePepper,
    now: i64,
) -> Outcome<CodeAccepted> {
    let outcome = Outcome::new(ACTION, Subject::attempt(&attempt));
    let at_step = matches!(
        attempt.state,
        AttemptState::CardProven | AttemptState::RaOnly
    );
    if !at_step || now >= attempt.expires_at {
        let error = check_step(
            attempt.state,
            AttemptState::CardProven,
            attempt.expires_at,
            now,
        )
        .err()
        .unwrap_or(AppError::WrongStep);
        return outcome.refuse(error);
    }
    let Some(code) = stored else {
        return outcome.refuse(AppError::NoRaCode);
    };
    let held = HeldCode::phone(&code);
    let issued_by = format!("phone code from ra:{}", code.issued_by);
    let max = CodeKind::RaPhone.policy().max_failures;
    let verdict = judge_code(CodeKind::RaPhone, held, typed, pepper, now);
    match verdict {
        CodeVerdict::Right => {}
        // Spent: as if there were none, so the RA is asked for another.
        CodeVerdict::Used => return outcome.refuse(AppError::NoRaCode),
        CodeVerdict::Wrong { failures, .. } => {
            let counted = PhoneCode { failures, ..code };
            return outcome
                .write(Write::PhoneCode(counted))
                .detail(format!("{issued_by}: wrong, {failures} of {max}"))
                .refuse(verdict.refusal().unwrap_or(AppError::CodeTriesExhausted));
        }
        CodeVerdict::Expired | CodeVerdict::Exhausted => {
            return outcome.refuse(verdict.refusal().unwrap_or(AppError::CodeTriesExhausted))
        }
    }
    let used = PhoneCode {
        used_at: Some(now),
        ..code
    };
    let verified = Attempt {
        state: AttemptState::CodeVerified,
        code: None,
        expires_at: now + CARD_UPDATE_TTL,
        ..attempt
    };
    let accepted = CodeAccepted {
        card_guid: verified.card_guid,
    };
    outcome
        .write(Write::PhoneCode(used))
        .write(Write::Attempt(verified))
        .detail(issued_by)
        .ok("ok", accepted)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::{attempt, john_uuid, uuid};
    use crate::secrets::CodePepper;
    use api_types::UnlockCode;

    fn issued(pepper: &CodePepper, code: &UnlockCode) -> PhoneCode {
        PhoneCode {
            user_uuid: john_uuid(),
            code_hash: pepper.hash(&[7; 16], code.expose()),
            code_salt: vec![7; 16],
            issued_by: uuid("999999999901"),
            issued_at: 1000,
            expires_at: 1000 + CodeKind::RaPhone.policy().ttl,
            failures: 0,
            used_at: None,
        }
    }

    #[test]
    fn ra_3_a_phone_code_works_once_within_ten_minutes_and_three_tries() {
        let pepper = CodePepper::new(&[9; 32]).unwrap();
        let right = UnlockCode::parse("123456").unwrap();
        let wrong = UnlockCode::parse("654321").unwrap();
        let code = issued(&pepper, &right);
        let state = AttemptState::RaOnly;
        let ok = decide(attempt(state), Some(code.clone()), &right, &pepper, 1100);
        assert!(ok.reply.is_ok());
        let used = PhoneCode {
            used_at: Some(1100),
            ..code.clone()
        };
        let again = decide(attempt(state), Some(used), &right, &pepper, 1101);
        assert!(matches!(again.reply, Err(AppError::NoRaCode)));
        let late = decide(attempt(state), Some(code.clone()), &right, &pepper, 1600);
        assert!(matches!(late.reply, Err(AppError::CodeExpired)));
        let miss = decide(attempt(state), Some(code.clone()), &wrong, &pepper, 1100);
        assert!(matches!(
            miss.reply,
            Err(AppError::CodeInvalid { tries_left: 2 })
        ));
        let spent = PhoneCode {
            failures: CodeKind::RaPhone.policy().max_failures,
            ..code.clone()
        };
        let dead = decide(attempt(state), Some(spent), &right, &pepper, 1100);
        assert!(matches!(dead.reply, Err(AppError::CodeTriesExhausted)));
        let none = decide(attempt(state), None, &right, &pepper, 1100);
        assert!(matches!(none.reply, Err(AppError::NoRaCode)));
        let early = decide(
            attempt(AttemptState::Started),
            Some(code),
            &right,
            &pepper,
            1100,
        );
        assert!(matches!(early.reply, Err(AppError::WrongStep)));
    }
}
