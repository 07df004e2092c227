//! REG-1: registration begins with the passcode entered again and verified on the card:
//! a fresh login challenge for the session's card, signed by its 9A key.

use api_types::register::{RegisterBeginRequest, RegisterBeginResponse, RegistrationId};
use api_types::unlock::Question;

use super::REGISTRATION_TTL;
use crate::auth::check_card_signature;
use crate::flow::{Outcome, Subject, Write};
use crate::secrets::{random_bytes, FlowSecret};
use crate::store::registrations::{self, Registration, RegistrationState};
use crate::store::{certificates, sessions, users};
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
        let challenge =
            sessions::find_challenge_for_update(&mut tx, self.store.backend, &request.login_id)
                .await?;
        let outcome = match challenge {
            // Only a challenge for the session's own card proves anything here.
            Some(challenge) if challenge.card_guid == session.info.card_guid => {
                let certs = certificates::for_card(&mut tx, &challenge.card_guid).await?;
                let user = users::find(&mut tx, &session.info.uuid).await?;
                let questions = registrations::all_questions(&mut tx).await?;
                let outcome = outcome.write(Write::UseLoginChallenge(challenge.id.clone()));
                match (
                    check_card_signature(
                        &challenge,
                        &certs,
                        self.ca.certificate_der(),
                        &request.signature,
                        now,
                    ),
                    user,
                ) {
                    (Ok(()), Some(user)) => {
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
                }
            }
            Some(_) => outcome
                .detail("challenge for another card".into())
                .refuse(AppError::CardNotGenuine),
            None => outcome.refuse(AppError::NotFound),
        };
        self.finish(tx, now, client, outcome).await
    }
}
