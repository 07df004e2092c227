//! REG-4: the registration code — right, in time, within its tries — makes the new
//! answers and email the user's (re-registering replaces the old answers), and a notice
//! goes to the registered address — and, when a re-registration moves the email, to the
//! address it leaves, with the same "this wasn't me" link. The code's rule is the kernel's
//! ([`crate::flow::codes::judge_code`]), the same as every other code's.

use api_types::audit::AuditAction;
use api_types::register::{RegisterConfirmRequest, RegisterConfirmResponse, RegistrationId};
use api_types::UnlockCode;

use super::Mails;

use crate::flow::codes::{judge_code, CodeKind, CodeVerdict, HeldCode};
use crate::flow::notice::NotMeDraw;
use crate::flow::{Client, Outcome, Subject, Write};
use crate::mail::templates::{self, Sender};
use crate::secrets::{CodePepper, FlowSecret};
use crate::store::registrations::{Registration, RegistrationState};
use crate::store::users::{self, User};
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::RegisterConfirm;

impl AppState {
    pub async fn register_confirm(
        &self,
        id: &RegistrationId,
        secret: Option<&FlowSecret>,
        request: RegisterConfirmRequest,
        client: &Client,
    ) -> Result<RegisterConfirmResponse, AppError> {
        let (session, now, mut tx, registration) = self
            .registration_step((ACTION, Mails::Nothing), id, secret, client)
            .await?;
        let outcome = match registration {
            Ok(registration) => {
                let user = users::find(&mut tx, &registration.user_uuid).await?;
                let given = Given {
                    subject: Subject::session(&session.info),
                    user,
                    code: &request.code,
                    pepper: &self.code_pepper,
                    sender: &self.sender(),
                    not_me: self.not_me_draw(),
                };
                decide(registration, given, now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

/// What the step read, the code typed, and what a notice needs.
struct Given<'a> {
    subject: Subject,
    user: Option<User>,
    code: &'a UnlockCode,
    pepper: &'a CodePepper,
    sender: &'a Sender<'a>,
    /// The notice's "this wasn't me" link (RA-4).
    not_me: NotMeDraw<'a>,
}

fn failed(r: &Registration) -> Registration {
    Registration {
        state: RegistrationState::Failed,
        code: None,
        ..r.clone()
    }
}

fn decide(r: Registration, given: Given<'_>, now: i64) -> Outcome<RegisterConfirmResponse> {
    let outcome = Outcome::new(ACTION, given.subject);
    match r.state {
        RegistrationState::CodeSent => {}
        RegistrationState::Completed => return outcome.refuse(AppError::CodeAlreadyUsed),
        RegistrationState::Started | RegistrationState::Failed => {
            return outcome.refuse(AppError::WrongStep)
        }
    }
    let (Some(stored), Some(email), Some(user)) = (&r.code, r.email.clone(), given.user) else {
        return outcome.refuse(AppError::Invariant("code sent without code, email or user"));
    };
    // RA-6: closed meanwhile (a report, three strikes): the registration dies with it.
    if user.counters.self_service_closed {
        return outcome
            .write(Write::Registration(failed(&r)))
            .refuse(AppError::SelfServiceClosed);
    }
    // The registration's own end bounds its code too.
    let held = HeldCode {
        expires_at: stored.expires_at.min(r.expires_at),
        ..HeldCode::of(stored, r.code_failures)
    };
    let verdict = judge_code(CodeKind::Registration, held, given.code, given.pepper, now);
    match verdict {
        CodeVerdict::Right => {}
        CodeVerdict::Wrong {
            failures,
            tries_left,
        } => {
            let counted = Registration {
                code_failures: failures,
                ..if tries_left <= 0 {
                    failed(&r)
                } else {
                    r.clone()
                }
            };
            return outcome
                .write(Write::Registration(counted))
                .detail(format!("wrong code {failures}"))
                .refuse(verdict.refusal().unwrap_or(AppError::CodeTriesExhausted));
        }
        CodeVerdict::Used | CodeVerdict::Expired | CodeVerdict::Exhausted => {
            return outcome
                .write(Write::Registration(failed(&r)))
                .refuse(verdict.refusal().unwrap_or(AppError::CodeExpired));
        }
    }
    let completed = Registration {
        state: RegistrationState::Completed,
        code: None,
        completed_at: Some(now),
        ..r.clone()
    };
    let (link, url) = given.not_me.link(&user.uuid, "registration", now);
    let notice = templates::registered(given.sender, &email, &user.display_name, &url);
    // Re-registering moves the recovery route: the address it leaves is told too, with
    // the same link (RA-4), so a stranger at the new address cannot do it quietly.
    let moved = user.registered && !user.email.eq_ignore_ascii_case(&email);
    let old_address = moved.then(|| {
        templates::registration_replaced(given.sender, &user.email, &user.display_name, &url)
    });
    let outcome = match old_address {
        Some(notice) => outcome.write(Write::Mail(notice)),
        None => outcome,
    };
    outcome
        .write(Write::ApplyRegistration {
            user_uuid: user.uuid.clone(),
            email,
            answers: r.answers,
        })
        // The next unlock draws its questions from the new answers.
        .write(Write::UnlockQuestions {
            user_uuid: user.uuid,
            question_ids: Vec::new(),
        })
        .write(Write::Registration(completed))
        .write(link)
        .write(Write::Mail(notice))
        .ok("registered", RegisterConfirmResponse { registered: true })
}

#[cfg(test)]
mod tests;
