//! UNL-7 / CARD-3: the card reports. Success is recorded only from the card's own
//! answers; a card pulled mid-script, or a report that never arrived, reconciles on the
//! next try (the pending PUK is adopted or dropped), so no card is left with a PUK the
//! server doesn't know.

use api_types::unlock::{CompleteRequest, CompleteResponse};
use api_types::AttemptId;

use super::limits::Scope;
use card_protocol::unlock::{judge, Outcome as ScriptOutcome};

use super::rules::{check_step, count_unlock_success, AttemptState};
use super::{failed, Client, Outcome, Subject, Write};
use crate::mail::templates::{self, Sender};
use crate::secrets::FlowSecret;
use crate::secrets::SealPurpose;
use crate::store::attempts::Attempt;
use crate::store::users::User;
use crate::{AppError, AppState};

const ACTION: &str = "unlock.complete";

impl AppState {
    pub async fn complete(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        request: CompleteRequest,
        client: &Client,
    ) -> Result<CompleteResponse, AppError> {
        self.limit(ACTION, Scope::Client(client), Subject::default(), client)
            .await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let outcome = match self.find_attempt(&mut tx, id, flow, ACTION).await? {
            Ok(attempt) => {
                let card = self.lock_card(&mut tx, &attempt).await?;
                let user = self.lock_user(&mut tx, &attempt).await?;
                // If the card took the pending PUK, it moves to the current-PUK column,
                // sealed for that column (CARD-3, ALL-7).
                let adopted = match &card.puk_next_enc {
                    Some(pending) => Some(self.kek.reseal(
                        pending,
                        &attempt.card_guid,
                        SealPurpose::PendingPuk,
                        SealPurpose::Puk,
                    )?),
                    None => None,
                };
                decide(attempt, adopted, &user, &request, &self.sender(), now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

fn decide(
    attempt: Attempt,
    adopted: Option<Vec<u8>>,
    user: &User,
    request: &CompleteRequest,
    sender: &Sender<'_>,
    now: i64,
) -> Outcome<CompleteResponse> {
    let mut outcome = Outcome::new(ACTION, Subject::of(&attempt));
    if let Err(error) = check_step(
        attempt.state,
        AttemptState::CodeVerified,
        attempt.expires_at,
        now,
    ) {
        return outcome.refuse(error);
    }
    let mut attempt = attempt;
    if !attempt.card_updated {
        let responses: Vec<&[u8]> = request
            .script_responses
            .as_slice()
            .iter()
            .map(|r| r.as_bytes())
            .collect();
        let guid = attempt.card_guid;
        let adopt = adopted.map(|sealed| Write::AdoptPendingPuk { card: guid, sealed });
        match (judge(&responses), adopt) {
            (ScriptOutcome::Done, Some(adopt)) => outcome = outcome.write(adopt),
            (ScriptOutcome::Done, None) => {}
            (ScriptOutcome::ResetOnlyPukKept, _) => {
                outcome = outcome.write(Write::DropPendingPuk(guid))
            }
            // An earlier unlock changed the PUK but never reported back: adopt it, and
            // have the page run a fresh script with it.
            (ScriptOutcome::WrongPuk, Some(adopt)) => {
                return outcome
                    .write(adopt)
                    .detail("adopted pending PUK".into())
                    .refuse(AppError::CardUpdateFailed);
            }
            (ScriptOutcome::WrongPuk, None) => {
                return outcome
                    .write(Write::Attempt(failed(&attempt)))
                    .detail("card refused its PUK".into())
                    .refuse(AppError::CardRefusedUpdate);
            }
            (ScriptOutcome::Unknown, _) => {
                return outcome
                    .detail("script did not finish".into())
                    .refuse(AppError::CardUpdateFailed);
            }
        }
        attempt.card_updated = true;
    }
    if !request.pin_changed {
        return outcome
            .write(Write::Attempt(attempt))
            .detail("new passcode not set".into())
            .refuse(AppError::CardUpdateFailed);
    }
    let completed = Attempt {
        state: AttemptState::Completed,
        completed_at: Some(now),
        ..attempt
    };
    // A finished unlock forgives earlier failures and lets the next one draw new questions.
    outcome
        .write(Write::Attempt(completed))
        .write(Write::UnlockCounters {
            user_uuid: user.uuid.clone(),
            before: user.counters,
            after: count_unlock_success(user.counters),
        })
        .write(Write::UnlockQuestions {
            user_uuid: user.uuid.clone(),
            question_ids: Vec::new(),
        })
        .write(Write::Mail(templates::unlocked(
            sender,
            &user.email,
            &user.display_name,
        )))
        .ok("unlocked", CompleteResponse { unlocked: true })
}
