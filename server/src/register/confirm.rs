//! REG-4: the registration code — right, in time, within its tries — makes the new
//! answers and email the user's (re-registering replaces the old answers), and a notice
//! goes to the registered address.

use api_types::register::{RegisterConfirmRequest, RegisterConfirmResponse, RegistrationId};
use api_types::UnlockCode;

use crate::flow::{Outcome, Subject, Write};
use crate::mail::templates::{self, Sender};
use crate::secrets::{CodePepper, FlowSecret};
use crate::store::registrations::{Registration, RegistrationState};
use crate::store::users::{self, User};
use crate::unlock::limits::Scope;
use crate::unlock::rules::MAX_CODE_FAILURES;
use crate::unlock::Client;
use crate::{AppError, AppState};

const ACTION: &str = "register.confirm";

impl AppState {
    pub async fn register_confirm(
        &self,
        id: &RegistrationId,
        secret: Option<&FlowSecret>,
        request: RegisterConfirmRequest,
        client: &Client,
    ) -> Result<RegisterConfirmResponse, AppError> {
        let session = self.current_session(secret, client).await?;
        self.limit(
            ACTION,
            Scope::User(&session.info.uuid),
            Subject::default(),
            client,
        )
        .await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let outcome = match self
            .owned_registration(&mut tx, id, &session, ACTION)
            .await?
        {
            Ok(registration) => {
                let user = users::find(&mut tx, &registration.user_uuid).await?;
                let not_me = crate::not_me::new_link(
                    &self.settings.public_origin,
                    &registration.user_uuid,
                    "registration",
                    now,
                );
                decide(
                    registration,
                    user,
                    &request.code,
                    &self.code_pepper,
                    (&self.sender(), not_me),
                    now,
                )
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

fn decide(
    r: Registration,
    user: Option<User>,
    code: &UnlockCode,
    pepper: &CodePepper,
    (sender, not_me): (&Sender<'_>, (Write, String)),
    now: i64,
) -> Outcome<RegisterConfirmResponse> {
    let outcome = Outcome::new(
        ACTION,
        Subject {
            card_guid: None,
            user_uuid: Some(r.user_uuid.clone()),
        },
    );
    let failed = |r: &Registration| Registration {
        state: RegistrationState::Failed,
        code: None,
        ..r.clone()
    };
    match r.state {
        RegistrationState::CodeSent => {}
        RegistrationState::Completed => return outcome.refuse(AppError::CodeAlreadyUsed),
        RegistrationState::Started | RegistrationState::Failed => {
            return outcome.refuse(AppError::WrongStep)
        }
    }
    let (Some(stored), Some(email), Some(user)) = (&r.code, r.email.clone(), user) else {
        return outcome.refuse(AppError::Invariant("code sent without code, email or user"));
    };
    if now >= stored.expires_at || now >= r.expires_at {
        return outcome
            .write(Write::Registration(failed(&r)))
            .refuse(AppError::CodeExpired);
    }
    if !pepper.matches(&stored.salt, code, &stored.hash) {
        let code_failures = r.code_failures + 1;
        let exhausted = code_failures >= MAX_CODE_FAILURES;
        let counted = Registration {
            code_failures,
            ..if exhausted { failed(&r) } else { r.clone() }
        };
        return outcome
            .write(Write::Registration(counted))
            .detail(format!("wrong code {code_failures}"))
            .refuse(if exhausted {
                AppError::CodeTriesExhausted
            } else {
                AppError::CodeInvalid {
                    tries_left: u32::try_from(MAX_CODE_FAILURES - code_failures).unwrap_or(0),
                }
            });
    }
    let completed = Registration {
        state: RegistrationState::Completed,
        code: None,
        completed_at: Some(now),
        ..r.clone()
    };
    outcome
        .write(Write::ApplyRegistration {
            user_uuid: user.uuid.clone(),
            email: email.clone(),
            answers: r.answers,
        })
        // The next unlock draws its questions from the new answers.
        .write(Write::UnlockQuestions {
            user_uuid: user.uuid.clone(),
            question_ids: Vec::new(),
        })
        .write(Write::Registration(completed))
        .write(not_me.0)
        .write(Write::Mail(templates::registered(
            sender,
            &email,
            &user.display_name,
            &not_me.1,
        )))
        .ok("registered", RegisterConfirmResponse { registered: true })
}
