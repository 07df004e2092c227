//! UNL-3 / UNL-4 / UNL-5: the answers to the questions asked. Right: an unlock code is
//! emailed. Wrong: one failure counted; the third closes self-service until the RA
//! reopens it.
//!
//! The argon2id checks are slow by design, so they run first, outside any transaction,
//! on all cores; the step then locks the attempt and the user and re-checks both, so a
//! racing step can neither be counted twice nor get a code for an account it closed.

use api_types::audit::AuditAction;
use api_types::recovery::UnlockRoute;
use api_types::unlock::{AnswersRequest, AnswersResponse};
use api_types::AttemptId;

use super::rules::{check_step, AttemptState};
use super::{failed, refuse_closed, Client, Outcome, Subject, Write};
use crate::flow::codes::{mask_email, CodeKind, FreshCode};
use crate::flow::lockout::{answer_tries_left, count_answer_failure, MAX_ANSWER_FAILURES};
use crate::flow::notice::NotMeDraw;
use crate::mail::templates::{self, Sender};
use crate::secrets::{CodePepper, FlowSecret};
use crate::store::attempts::Attempt;
use crate::store::users::User;
use crate::store::{answers, StoreError};
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::UnlockAnswers;

/// What the slow check found, before the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Checked {
    /// The attempt was not at the questions (or not found) when checked.
    Skipped,
    /// The answers are not for exactly the questions asked, once each.
    NotTheQuestionsAsked,
    Verified {
        question_ids: Vec<i64>,
        all_right: bool,
    },
}

impl AppState {
    pub async fn answers(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        request: AnswersRequest,
        client: &Client,
    ) -> Result<AnswersResponse, AppError> {
        let checked = self.check_answers(id, flow, &request).await?;
        let (now, mut tx, attempt) = self.open_attempt(ACTION, id, flow).await?;
        let outcome = match attempt {
            Ok(attempt) => {
                let user = self.lock_user(&mut tx, &attempt).await?;
                let given = Given {
                    user: &user,
                    fresh: FreshCode::draw(),
                    pepper: &self.code_pepper,
                    sender: &self.sender(),
                    not_me: self.not_me_draw(),
                };
                decide(attempt, checked, given, now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }

    /// The slow part: argon2id over every answer, right or wrong, so timing says nothing
    /// about which one failed. Reads without a lock and holds no connection meanwhile.
    async fn check_answers(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        request: &AnswersRequest,
    ) -> Result<Checked, AppError> {
        let waiting = (AttemptState::CardProven, UnlockRoute::Questions);
        let Some(attempt) = self.attempt_to_check(ACTION, (id, flow), waiting).await? else {
            return Ok(Checked::Skipped);
        };
        let mut conn = self.store.pool.acquire().await.map_err(StoreError::from)?;
        let mut asked = attempt.question_ids.clone();
        let mut given: Vec<i64> = request
            .answers
            .as_slice()
            .iter()
            .map(|a| i64::from(a.question_id))
            .collect();
        asked.sort_unstable();
        given.sort_unstable();
        if asked != given {
            return Ok(Checked::NotTheQuestionsAsked);
        }
        let stored = answers::answers_of(&mut conn, &attempt.user_uuid).await?;
        drop(conn);
        let pairs: Vec<(String, Option<String>)> = request
            .answers
            .as_slice()
            .iter()
            .map(|answer| {
                let hash = stored
                    .iter()
                    .find(|s| s.question_id == i64::from(answer.question_id))
                    .map(|s| s.answer_hash.clone());
                (answer.answer.expose().to_owned(), hash)
            })
            .collect();
        let hasher = self.hasher.clone();
        let all_right = crate::kdf::run(move || {
            pairs
                .iter()
                .map(|(answer, hash)| hash.as_ref().is_some_and(|h| hasher.verify(answer, h)))
                .fold(true, |all, ok| all & ok)
        })
        .await?;
        Ok(Checked::Verified {
            question_ids: attempt.question_ids,
            all_right,
        })
    }
}

/// What the step read besides the attempt, and what it needs to send a code.
struct Given<'a> {
    user: &'a User,
    /// Used only if the answers are right.
    fresh: FreshCode,
    pepper: &'a CodePepper,
    sender: &'a Sender<'a>,
    /// The code email's "this wasn't me" link (RA-6).
    not_me: NotMeDraw<'a>,
}

fn decide(
    attempt: Attempt,
    checked: Checked,
    given: Given<'_>,
    now: i64,
) -> Outcome<AnswersResponse> {
    let Given {
        user,
        fresh,
        pepper,
        sender,
        not_me,
    } = given;
    let outcome = Outcome::new(ACTION, Subject::attempt(&attempt));
    // A closed account hears that first, whatever state this attempt is in (UNL-4).
    if user.counters.self_service_closed {
        return refuse_closed(outcome, &attempt, AttemptState::CardProven);
    }
    if let Err(error) = check_step(
        attempt.state,
        AttemptState::CardProven,
        attempt.expires_at,
        now,
    ) {
        return outcome.refuse(error);
    }
    // The questions are one route's (POL-1): an attempt on another has none to answer.
    if attempt.route != UnlockRoute::Questions {
        return outcome.refuse(AppError::WrongStep);
    }
    let all_right = match checked {
        Checked::NotTheQuestionsAsked => {
            return outcome.refuse(AppError::AnswersDoNotMatchQuestions)
        }
        Checked::Verified {
            question_ids,
            all_right,
        } if question_ids == attempt.question_ids => all_right,
        // Checked against another state of this attempt: nothing may be concluded.
        _ => return outcome.refuse(AppError::WrongStep),
    };
    let before = user.counters;
    if !all_right {
        let after = count_answer_failure(before);
        let counted = Write::UnlockCounters {
            user_uuid: user.uuid.clone(),
            before,
            after,
        };
        let outcome = outcome.write(counted).detail(format!(
            "failure {} of {MAX_ANSWER_FAILURES}",
            after.answer_failures
        ));
        return if after.self_service_closed {
            outcome
                .write(Write::Attempt(failed(&attempt)))
                .refuse(AppError::SelfServiceClosed)
        } else {
            let tries_left = answer_tries_left(after);
            outcome.refuse(AppError::WrongAnswers { tries_left })
        };
    }
    let stored = fresh.stored(CodeKind::Unlock, pepper, now);
    let code_expires_at = stored.expires_at;
    let code_sent = Attempt {
        state: AttemptState::CodeSent,
        code: Some(stored),
        code_failures: 0,
        ..attempt
    };
    let (link, url) = not_me.link(&user.uuid, "unlock_code", now);
    let code = (&fresh.code, code_expires_at);
    let mail = templates::unlock_code(sender, &user.email, &user.display_name, code, &url);
    outcome
        .write(Write::Attempt(code_sent))
        .write(link)
        .write(Write::Mail(mail))
        .ok(
            "code_sent",
            AnswersResponse {
                email_hint: mask_email(&user.email),
                code_expires_at,
            },
        )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures;
    use crate::store::users::UnlockCounters;
    use api_types::UnlockCode;

    fn attempt() -> Attempt {
        Attempt {
            question_ids: vec![1, 2, 5],
            ..fixtures::attempt(AttemptState::CardProven)
        }
    }

    fn user(answer_failures: i64, closed: bool) -> User {
        User {
            counters: UnlockCounters {
                answer_failures,
                self_service_closed: closed,
                ..UnlockCounters::default()
            },
            question_ids: vec![1, 2, 5],
            ..fixtures::john()
        }
    }

    fn verified(all_right: bool) -> Checked {
        Checked::Verified {
            question_ids: vec![1, 2, 5],
            all_right,
        }
    }

    /// The step for `user`, with a fresh code "024680".
    fn decide_for(user: &User, checked: Checked, now: i64) -> Outcome<AnswersResponse> {
        let pepper = fixtures::pepper();
        let given = Given {
            user,
            fresh: FreshCode {
                code: UnlockCode::parse("024680").unwrap(),
                salt: [3; 16],
            },
            pepper: &pepper,
            sender: &fixtures::SENDER,
            not_me: crate::flow::notice::NotMeDraw::for_tests(),
        };
        decide(attempt(), checked, given, now)
    }

    #[test]
    fn unl_5_right_answers_send_a_code_that_expires_in_15_minutes() {
        let outcome = decide_for(&user(2, false), verified(true), 1100);
        assert_eq!(outcome.reply.as_ref().unwrap().code_expires_at, 1100 + 900);
        let writes = outcome.writes();
        assert!(writes.iter().any(|w| matches!(w,
            Write::Mail(m) if m.text.contains("024680") && m.text.contains("/not-me#"))));
        assert!(writes.iter().any(|w| matches!(w, Write::NotMeLink(_))));
        // UNL-4: right answers alone forgive nothing.
        assert!(!writes
            .iter()
            .any(|w| matches!(w, Write::UnlockCounters { .. })));
        assert!(writes.iter().any(|w| matches!(w,
            Write::Attempt(a) if a.state == AttemptState::CodeSent && a.code.is_some())));
    }

    #[test]
    fn unl_4_the_third_wrong_answer_closes_self_service() {
        let outcome = decide_for(&user(2, false), verified(false), 1100);
        assert!(matches!(outcome.reply, Err(AppError::SelfServiceClosed)));
        assert!(outcome.writes().iter().any(|w| matches!(w,
            Write::Attempt(a) if a.state == AttemptState::Failed)));
        assert!(!outcome.writes().iter().any(|w| matches!(w, Write::Mail(_))));
    }

    #[test]
    fn unl_4_a_wrong_answer_before_the_third_says_tries_left() {
        let outcome = decide_for(&user(0, false), verified(false), 1100);
        assert!(matches!(
            outcome.reply,
            Err(AppError::WrongAnswers { tries_left: 2 })
        ));
    }

    #[test]
    fn unl_4_a_closed_account_gets_no_code_even_with_right_answers() {
        let outcome = decide_for(&user(3, true), verified(true), 1100);
        assert!(matches!(outcome.reply, Err(AppError::SelfServiceClosed)));
        assert!(!outcome.writes().iter().any(|w| matches!(w, Write::Mail(_))));
    }

    #[test]
    fn unl_3_answers_checked_against_another_state_count_for_nothing() {
        for checked in [
            Checked::Skipped,
            Checked::Verified {
                question_ids: vec![3],
                all_right: false,
            },
        ] {
            let outcome = decide_for(&user(0, false), checked, 1100);
            assert!(matches!(outcome.reply, Err(AppError::WrongStep)));
            assert!(outcome.writes().is_empty());
        }
        let outcome = decide_for(&user(0, false), Checked::NotTheQuestionsAsked, 1100);
        assert!(matches!(
            outcome.reply,
            Err(AppError::AnswersDoNotMatchQuestions)
        ));
        assert!(outcome.writes().is_empty());
    }

    #[test]
    fn unl_3_answers_after_the_attempt_expired_are_refused() {
        let outcome = decide_for(&user(0, false), verified(true), 1000 + 1800);
        assert!(matches!(outcome.reply, Err(AppError::AttemptExpired)));
    }
}
