//! REG-1: registration begins with the passcode entered again and verified on the card:
//! a fresh login challenge for the session's card, signed by its 9A key (the kernel's
//! [`crate::flow::card_again`]).

use std::ops::ControlFlow;

use api_types::audit::AuditAction;
use api_types::register::{RegisterBeginRequest, RegisterBeginResponse, RegistrationId};
use api_types::unlock::Question;

use super::REGISTRATION_TTL;
use crate::flow::card_again::CardProvenAgain;
use crate::flow::{Client, Outcome, Subject, Write};
use crate::secrets::{random_bytes, FlowSecret};
use crate::store::registrations::{self, Registration, RegistrationState};
use crate::store::users::{self, User};
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::RegisterBegin;

impl AppState {
    pub async fn register_begin(
        &self,
        secret: Option<&FlowSecret>,
        request: RegisterBeginRequest,
        client: &Client,
    ) -> Result<RegisterBeginResponse, AppError> {
        let signed = (&request.login_id, &request.signature);
        let (session, now, mut tx, proof) = self.card_step(ACTION, secret, client, signed).await?;
        let info = &session.info;
        let loaded = Loaded {
            user: users::find(&mut tx, &info.uuid).await?,
            questions: registrations::all_questions(&mut tx).await?,
            session_hash: session.secret_hash.clone(),
        };
        let fresh_id = RegistrationId::from_bytes(random_bytes());
        let approved = &self.settings.approved_email_domains;
        let outcome = decide(
            (Subject::session(info), proof),
            loaded,
            (fresh_id, approved),
            now,
        );
        self.finish(tx, now, client, outcome).await
    }
}

/// What the step read.
struct Loaded {
    user: Option<User>,
    /// Every question a registration may choose from.
    questions: Vec<(i64, String)>,
    session_hash: Vec<u8>,
}

fn decide(
    (subject, proof): (Subject, CardProvenAgain),
    loaded: Loaded,
    (id, approved_domains): (RegistrationId, &[String]),
    now: i64,
) -> Outcome<RegisterBeginResponse> {
    let outcome = match proof.gate(Outcome::new(ACTION, subject)) {
        ControlFlow::Continue(outcome) => outcome,
        ControlFlow::Break(refused) => return refused,
    };
    let Some(user) = loaded.user else {
        return outcome.refuse(AppError::NotSignedIn);
    };
    // RA-6: a closed account is the RA's to reopen, not the card holder's to re-register.
    if user.counters.self_service_closed {
        return outcome.refuse(AppError::SelfServiceClosed);
    }
    let registration = Registration {
        id,
        user_uuid: user.uuid.clone(),
        session_hash: loaded.session_hash,
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
        questions: loaded
            .questions
            .into_iter()
            .filter_map(|(id, text)| {
                Some(Question {
                    id: u32::try_from(id).ok()?,
                    text,
                })
            })
            .collect(),
        email: user.email,
        approved_domains: approved_domains.to_vec(),
    };
    outcome
        .write(Write::NewRegistration(registration))
        .ok("ok", response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::john_uuid;
    use crate::store::users::UnlockCounters;
    use api_types::CardGuid;

    fn loaded(user: bool) -> Loaded {
        Loaded {
            user: user.then(|| User {
                uuid: john_uuid(),
                display_name: "Mr John Rigby".into(),
                email: "john.rigby@nhs.net".into(),
                registered: false,
                counters: UnlockCounters::default(),
                question_ids: vec![],
                mobile: None,
                family_name: "Rigby".into(),
                role: api_types::ra::Role::Staff,
                passcodes_set_at: None,
                passcodes_unlocked_at: None,
            }),
            questions: vec![(1, "Mother's maiden name".into()), (2, "First car".into())],
            session_hash: vec![7; 32],
        }
    }

    fn begin(proof: CardProvenAgain, user: bool) -> Outcome<RegisterBeginResponse> {
        let subject = Subject::card_of(CardGuid::from_bytes([2; 16]), &john_uuid());
        let approved = ["nhs.net".to_owned()];
        let id = RegistrationId::from_bytes([5; 16]);
        decide((subject, proof), loaded(user), (id, &approved), 1000)
    }

    #[test]
    fn reg_1_the_card_proven_again_opens_a_registration_for_this_session() {
        let outcome = begin(CardProvenAgain::proven(), true);
        let response = outcome.reply.as_ref().unwrap();
        assert_eq!(response.questions.len(), 2);
        assert_eq!(response.email, "john.rigby@nhs.net");
        assert!(
            matches!(outcome.writes(), [Write::UseLoginChallenge(_), Write::NewRegistration(r)]
            if r.session_hash == vec![7; 32] && r.expires_at == 1000 + REGISTRATION_TTL
                && r.state == RegistrationState::Started)
        );
    }

    #[test]
    fn reg_1_ra_6_without_the_card_proven_again_or_while_closed_nothing_begins() {
        for refused in [AppError::CardNotGenuine, AppError::LoginExpired] {
            let outcome = begin(CardProvenAgain::refused(refused), true);
            assert!(outcome.reply.is_err());
            assert!(outcome.writes().is_empty());
        }
        let mut closed = loaded(true);
        if let Some(user) = closed.user.as_mut() {
            user.counters.self_service_closed = true;
        }
        let subject = Subject::card_of(CardGuid::from_bytes([2; 16]), &john_uuid());
        let proof = CardProvenAgain::proven();
        let approved = ["nhs.net".to_owned()];
        let id = RegistrationId::from_bytes([5; 16]);
        let stopped = decide((subject, proof), closed, (id, &approved), 1000);
        assert!(matches!(stopped.reply, Err(AppError::SelfServiceClosed)));
        assert!(matches!(stopped.writes(), [Write::UseLoginChallenge(_)]));
        let gone = begin(CardProvenAgain::proven(), false);
        assert!(matches!(gone.reply, Err(AppError::NotSignedIn)));
        assert!(matches!(gone.writes(), [Write::UseLoginChallenge(_)]));
    }
}
