//! REG-1: registration begins with the passcode entered again and verified on the card:
//! a fresh login challenge for the session's card, signed by its 9A key.

use api_types::register::{RegisterBeginRequest, RegisterBeginResponse, RegistrationId};
use api_types::unlock::Question;

use super::REGISTRATION_TTL;
use crate::flow::{Outcome, Subject, Write};
use crate::secrets::{random_bytes, FlowSecret};
use crate::store::registrations::{self, Registration, RegistrationState};
use crate::store::users;
use crate::unlock::limits::Scope;
use crate::unlock::Client;
use crate::{AppError, AppState};

const ACTION: &str = "register.begin";

impl AppState {
    pub async fn register_begin(
        &self,
        secret: Option<&FlowSecret>,
        request: RegisterBeginRequest,
        client: &Client,
    ) -> Result<RegisterBeginResponse, AppError> {
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
        let subject = Subject {
            card_guid: Some(session.info.card_guid),
            user_uuid: Some(session.info.uuid.clone()),
        };
        let outcome = Outcome::new(ACTION, subject);
        let (spent, proven) = self
            .card_proven_again(
                &mut tx,
                session.info.card_guid,
                &request.login_id,
                &request.signature,
                now,
            )
            .await?;
        let outcome = match spent {
            Some(spent) => outcome.write(spent),
            None => outcome,
        };
        let user = users::find(&mut tx, &session.info.uuid).await?;
        let outcome = match (proven, user) {
            (Ok(()), Some(user)) => {
                let questions = registrations::all_questions(&mut tx).await?;
                let registration = Registration {
                    id: RegistrationId::from_bytes(random_bytes()),
                    user_uuid: user.uuid.clone(),
                    session_hash: session.secret_hash.clone(),
                    state: RegistrationState::Started,
                    created_at: now,
                    expires_at: now + REGISTRATION_TTL,
                    email: None,
                    answers: Vec::new(),
                    code: None,
                    code_failures: 0,
                    completed_at: None,
                };
                let response = RegisterBeginResponse {
                    registration_id: registration.id.clone(),
                    questions: questions
                        .into_iter()
                        .filter_map(|(id, text)| {
                            Some(Question {
                                id: u32::try_from(id).ok()?,
                                text,
                            })
                        })
                        .collect(),
                    email: user.email,
                    approved_domains: self.settings.approved_email_domains.clone(),
                };
                outcome
                    .write(Write::NewRegistration(registration))
                    .ok("ok", response)
            }
            (Ok(()), None) => outcome.refuse(AppError::NotSignedIn),
            (Err(refused), _) => outcome.refuse(refused),
        };
        self.finish(tx, now, client, outcome).await
    }
}
