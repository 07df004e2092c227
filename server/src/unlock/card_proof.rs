//! CARD-6 / UNL-2 / UNL-3 / UNL-8: the card proves it is genuine by signing the challenge
//! with its 9E key; then whose card it is, and 2–4 of the user's questions at random —
//! chosen once and then fixed for the user until an unlock succeeds, so starting again
//! never re-rolls them. Unregistered users and closed accounts are stopped here, their
//! attempt kept only for a phone code from the RA (RA-3, `ra_code`).

use api_types::unlock::{CardProofRequest, CardProofResponse, Question};
use api_types::values::CardSignature;
use api_types::AttemptId;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use rand::rngs::OsRng;
use rand::seq::SliceRandom;

use super::limits::Scope;
use super::rules::{answer_tries_left, check_step, AttemptState, CHALLENGE_TTL};
use super::{failed, Client, Outcome, Subject, Write};
use crate::secrets::FlowSecret;
use crate::store::answers::{self, UserQuestion};
use crate::store::attempts::Attempt;
use crate::store::cards::{self, Card};
use crate::store::users::{self, User};
use crate::store::StoreError;
use crate::{AppError, AppState};

const ACTION: &str = "unlock.card_proof";

/// What this step reads about one attempt.
struct Loaded {
    attempt: Attempt,
    card: Card,
    user: User,
    /// The user's questions, in random order.
    questions: Vec<UserQuestion>,
}

impl AppState {
    pub async fn card_proof(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        request: CardProofRequest,
        client: &Client,
    ) -> Result<CardProofResponse, AppError> {
        self.limit(ACTION, Scope::Client(client), Subject::default(), client)
            .await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let wanted = self.settings.questions_per_unlock as usize;
        let outcome = match self.find_attempt(&mut tx, id, flow, ACTION).await? {
            Ok(attempt) => {
                let card = cards::find(&mut tx, &attempt.card_guid).await?;
                let user = users::find(&mut tx, &attempt.user_uuid).await?;
                let missing = StoreError::Corrupt {
                    table: "unlock_attempts",
                    column: "card_guid",
                };
                let (card, user) = card.zip(user).ok_or(missing)?;
                let mut questions = answers::questions_of(&mut tx, &user.uuid).await?;
                questions.shuffle(&mut OsRng);
                let loaded = Loaded {
                    attempt,
                    card,
                    user,
                    questions,
                };
                decide(loaded, &request.signature, wanted, now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

fn genuine(card: &Card, challenge: &[u8; 32], signature: &CardSignature) -> bool {
    VerifyingKey::from_sec1_bytes(&card.card_auth_public_key)
        .ok()
        .zip(Signature::from_der(signature.as_bytes()).ok())
        .is_some_and(|(key, signature)| key.verify_prehash(challenge, &signature).is_ok())
}

fn decide(
    loaded: Loaded,
    signature: &CardSignature,
    wanted: usize,
    now: i64,
) -> Outcome<CardProofResponse> {
    let Loaded {
        attempt,
        card,
        user,
        mut questions,
    } = loaded;
    let outcome = Outcome::new(ACTION, Subject::of(&attempt));
    let challenge_expires_at = attempt.expires_at.min(attempt.created_at + CHALLENGE_TTL);
    if let Err(error) = check_step(
        attempt.state,
        AttemptState::Started,
        challenge_expires_at,
        now,
    ) {
        return outcome.refuse(error);
    }
    if !genuine(&card, &attempt.challenge, signature) {
        return outcome
            .write(Write::Attempt(failed(&attempt)))
            .refuse(AppError::CardNotGenuine);
    }
    let refusal = if !user.registered || questions.len() < wanted {
        Some(AppError::NotRegistered)
    } else if user.counters.self_service_closed {
        Some(AppError::SelfServiceClosed)
    } else {
        None
    };
    if let Some(error) = refusal {
        let ra_only = Attempt {
            state: AttemptState::RaOnly,
            ..attempt
        };
        return outcome.write(Write::Attempt(ra_only)).refuse(error);
    }
    // The subset already fixed for this user, if it still fits; else this draw, fixed now.
    let fixed: Vec<UserQuestion> = user
        .question_ids
        .iter()
        .filter_map(|id| questions.iter().find(|q| q.question_id == *id).cloned())
        .collect();
    let outcome = if fixed.len() == wanted && user.question_ids.len() == wanted {
        questions = fixed;
        outcome
    } else {
        questions.truncate(wanted);
        outcome.write(Write::UnlockQuestions {
            user_uuid: user.uuid.clone(),
            question_ids: questions.iter().map(|q| q.question_id).collect(),
        })
    };
    let proven = Attempt {
        state: AttemptState::CardProven,
        question_ids: questions.iter().map(|q| q.question_id).collect(),
        ..attempt
    };
    let response = CardProofResponse {
        holder_name: user.display_name,
        questions: questions
            .into_iter()
            .filter_map(|q| {
                u32::try_from(q.question_id)
                    .ok()
                    .map(|id| Question { id, text: q.text })
            })
            .collect(),
        attempts_left: answer_tries_left(user.counters),
    };
    outcome.write(Write::Attempt(proven)).ok("ok", response)
}
