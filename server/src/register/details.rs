//! REG-2 / REG-3 / REG-4: the questions and answers (checked, then hashed before any
//! lock), the email (confirmed or overwritten, on an approved domain), and the emailed
//! registration code — sent again on request, the tries already used still counting.

use std::collections::HashSet;

use api_types::audit::AuditAction;
use api_types::contact::EmailAddress;
use api_types::register::{CodeSent, RegisterDetailsRequest, RegistrationId, ResendRequest};

use super::rules::check_answers;
use super::Mails;
use crate::flow::codes::{mask_email, CodeKind, FreshCode};
use crate::flow::{Client, CurrentSession, Outcome, Subject, Write};
use crate::mail::templates::{self, Sender};
use crate::secrets::{CodePepper, FlowSecret};
use crate::store::registrations::{self, HashedAnswer, Registration, RegistrationState};
use crate::store::users;
use crate::store::{StoreError, Tx};
use crate::{AppError, AppState};

const DETAILS: AuditAction = AuditAction::RegisterDetails;
const RESEND: AuditAction = AuditAction::RegisterResend;

impl AppState {
    pub async fn register_details(
        &self,
        id: &RegistrationId,
        secret: Option<&FlowSecret>,
        request: RegisterDetailsRequest,
        client: &Client,
    ) -> Result<CodeSent, AppError> {
        // Checked and hashed before the step opens: argon2 holds no lock (REG-2).
        let checked = self.check_details(&request).await?;
        let to = checked.as_ref().ok().map(|(email, _)| email.as_str());
        let mails = (DETAILS, Mails::Code { to });
        let (session, now, mut tx, registration) =
            self.registration_step(mails, id, secret, client).await?;
        let outcome = match registration {
            Ok(registration) => {
                let given = self.code_given(&mut tx, &session, &registration).await?;
                decide_details(registration, checked, given, now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }

    async fn check_details(
        &self,
        request: &RegisterDetailsRequest,
    ) -> Result<Result<(String, Vec<HashedAnswer>), AppError>, AppError> {
        let mut conn = self.store.pool.acquire().await.map_err(StoreError::from)?;
        let offered: HashSet<i64> = registrations::all_questions(&mut conn)
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        drop(conn);
        let answers = request.answers.as_slice();
        if let Err(refused) = check_answers(answers, &offered) {
            return Ok(Err(refused));
        }
        let approved = &self.settings.approved_email_domains;
        let email = match EmailAddress::parse_approved(&request.email, approved) {
            Ok(email) => email.into_string(),
            Err(refused) => return Ok(Err(refused.into())),
        };
        let hasher = self.hasher.clone();
        let plain: Vec<(i64, String)> = answers
            .iter()
            .map(|a| (i64::from(a.question_id), a.answer.expose().to_owned()))
            .collect();
        let hashed = crate::kdf::run(move || {
            plain
                .iter()
                .map(|(question_id, answer)| {
                    hasher.hash(answer).map(|hash| HashedAnswer {
                        question_id: *question_id,
                        hash,
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await??;
        Ok(Ok((email, hashed)))
    }

    pub async fn register_resend(
        &self,
        id: &RegistrationId,
        secret: Option<&FlowSecret>,
        _request: ResendRequest,
        client: &Client,
    ) -> Result<CodeSent, AppError> {
        let (session, now, mut tx, registration) = self
            .registration_step((RESEND, Mails::Code { to: None }), id, secret, client)
            .await?;
        let outcome = match registration {
            Ok(registration) => {
                let given = self.code_given(&mut tx, &session, &registration).await?;
                decide_resend(registration, given, now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

/// Whom the events are about, and what a code email needs.
struct Given<'a> {
    subject: Subject,
    name: String,
    /// RA-6: the account was closed meanwhile.
    closed: bool,
    /// The code sent if the step goes ahead.
    fresh: FreshCode,
    pepper: &'a CodePepper,
    sender: Sender<'a>,
}

impl AppState {
    /// What sending a code for `registration` needs: its user's name and state, a fresh
    /// code.
    async fn code_given(
        &self,
        tx: &mut Tx,
        session: &CurrentSession,
        registration: &Registration,
    ) -> Result<Given<'_>, AppError> {
        let user = users::find(tx, &registration.user_uuid).await?;
        Ok(Given {
            subject: Subject::session(&session.info),
            closed: user
                .as_ref()
                .is_some_and(|u| u.counters.self_service_closed),
            name: user.map(|u| u.display_name).unwrap_or_default(),
            fresh: FreshCode::draw(),
            pepper: &self.code_pepper,
            sender: self.sender(),
        })
    }
}

/// A registration still open for `now`, or why not.
fn still_open(
    r: &Registration,
    (waiting, closed): (&[RegistrationState], bool),
    now: i64,
) -> Result<(), AppError> {
    if closed {
        return Err(AppError::SelfServiceClosed);
    }
    if !waiting.contains(&r.state) {
        return Err(AppError::WrongStep);
    }
    if now >= r.expires_at {
        return Err(AppError::AttemptExpired);
    }
    // The tries are the registration's, across every code it was sent.
    if r.code_failures >= CodeKind::Registration.policy().max_failures {
        return Err(AppError::CodeTriesExhausted);
    }
    Ok(())
}

/// A fresh code to the registration's email; the failures counted so far stay.
fn send_code(
    r: Registration,
    given: Given<'_>,
    action: AuditAction,
    now: i64,
) -> Outcome<CodeSent> {
    let outcome = Outcome::new(action, given.subject);
    let Some(email) = r.email.clone() else {
        return outcome.refuse(AppError::WrongStep);
    };
    let stored = given
        .fresh
        .stored(CodeKind::Registration, given.pepper, now);
    let expires_at = stored.expires_at;
    let mail = templates::registration_code(
        &given.sender,
        &email,
        &given.name,
        &given.fresh.code,
        expires_at,
    );
    let sent = Registration {
        state: RegistrationState::CodeSent,
        code: Some(stored),
        ..r
    };
    outcome
        .write(Write::Registration(sent))
        .write(Write::Mail(mail))
        .ok(
            "code_sent",
            CodeSent {
                email_hint: mask_email(&email),
                code_expires_at: expires_at,
            },
        )
}

fn decide_details(
    r: Registration,
    checked: Result<(String, Vec<HashedAnswer>), AppError>,
    given: Given<'_>,
    now: i64,
) -> Outcome<CodeSent> {
    let waiting = [RegistrationState::Started, RegistrationState::CodeSent];
    if let Err(refused) = still_open(&r, (&waiting, given.closed), now) {
        return Outcome::new(DETAILS, given.subject).refuse(refused);
    }
    match checked {
        Ok((email, answers)) => send_code(
            Registration {
                email: Some(email),
                answers,
                ..r
            },
            given,
            DETAILS,
            now,
        ),
        Err(refused) => Outcome::new(DETAILS, given.subject).refuse(refused),
    }
}

fn decide_resend(r: Registration, given: Given<'_>, now: i64) -> Outcome<CodeSent> {
    if let Err(refused) = still_open(&r, (&[RegistrationState::CodeSent], given.closed), now) {
        return Outcome::new(RESEND, given.subject).refuse(refused);
    }
    send_code(r, given, RESEND, now)
}

#[cfg(test)]
mod tests;
