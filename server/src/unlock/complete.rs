//! UNL-7 / CARD-3: the card reports. The card update is recorded only from the card's own
//! answers, MACed for the channel this attempt opened (`card_protocol::unlock::judge`): a
//! page that invents answers, or replays another channel's, changes nothing. A card pulled
//! mid-script, or answers that never arrived, reconcile on the next try (the pending PUK
//! is adopted or dropped), so no card is left with a PUK the server doesn't know. Then
//! the page reports the local PIN change, and the unlock is finished.

use api_types::audit::AuditAction;
use api_types::unlock::{CompleteRequest, CompleteResponse};
use api_types::AttemptId;
use card_protocol::apdu::CommandApdu;
use card_protocol::unlock::{judge, Outcome as ScriptOutcome, Sent};

use super::rules::{check_step, AttemptState};
use super::{failed, Client, Guard, Outcome, Subject, Write};
use crate::card_channel::{handshake, parse_answers};
use crate::flow::lockout::count_unlock_success;
use crate::mail::templates::{self, Sender};
use crate::secrets::{FlowSecret, SealPurpose};
use crate::store::attempts::Attempt;
use crate::store::cards::Card;
use crate::store::users::User;
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::UnlockComplete;

impl AppState {
    pub async fn complete(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        request: CompleteRequest,
        client: &Client,
    ) -> Result<CompleteResponse, AppError> {
        let (now, mut tx, attempt) = self.attempt_step(ACTION, id, flow, Guard::Refusals).await?;
        let outcome = match attempt {
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
                let judged = self.judge(&attempt, &card, &request)?;
                let not_me = self.not_me_draw().link(&user.uuid, "unlock", now);
                decide(
                    attempt,
                    judged,
                    adopted,
                    &user,
                    &request,
                    (&self.sender(), not_me),
                    now,
                )
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }

    /// What the card's answers say, if a sealed script is waiting for them.
    fn judge(
        &self,
        attempt: &Attempt,
        card: &Card,
        request: &CompleteRequest,
    ) -> Result<Option<ScriptOutcome>, AppError> {
        let Some(sent) = attempt
            .channel
            .as_ref()
            .and_then(|c| Some((c, c.sent.as_ref()?)))
        else {
            return Ok(None);
        };
        let (channel, sent) = sent;
        let answers = request
            .script_responses
            .as_slice()
            .iter()
            .map(|a| a.as_bytes());
        let outcome = match (
            parse_answers(answers),
            card_protocol::apdu::ResponseApdu::parse(&sent.card_answer),
            sent.script
                .iter()
                .map(|c| CommandApdu::parse(&c.0))
                .collect::<Result<Vec<_>, _>>(),
        ) {
            (Ok(answers), Ok(card_answer), Ok(script)) => judge(
                Sent {
                    handshake: handshake(&self.kek, card, channel.host_challenge)?,
                    card_answer: &card_answer,
                    script: &script,
                },
                &answers,
            ),
            // Answers that are not even APDUs say nothing.
            (Err(_), _, _) => ScriptOutcome::Unknown,
            (_, Err(_), _) | (_, _, Err(_)) => {
                return Err(crate::store::StoreError::Corrupt {
                    table: "unlock_attempts",
                    column: "channel_state",
                }
                .into())
            }
        };
        Ok(Some(outcome))
    }
}

/// `judged`: what the card's answers say, or none when no sealed script was waiting
/// for them (they were judged already, or never sent).
fn decide(
    attempt: Attempt,
    judged: Option<ScriptOutcome>,
    adopted: Option<Vec<u8>>,
    user: &User,
    request: &CompleteRequest,
    (sender, not_me): (&Sender<'_>, (Write, String)),
    now: i64,
) -> Outcome<CompleteResponse> {
    let mut outcome = Outcome::new(ACTION, Subject::attempt(&attempt));
    if let Err(error) = check_step(
        attempt.state,
        AttemptState::CodeVerified,
        attempt.expires_at,
        now,
    ) {
        return outcome.refuse(error);
    }
    let mut attempt = attempt;
    match judged {
        Some(judged) => {
            // The answers are judged once: the channel is used up, whatever they say.
            attempt.channel = None;
            let guid = attempt.card_guid;
            let adopt = adopted.map(|sealed| Write::AdoptPendingPuk { card: guid, sealed });
            match (judged, adopt) {
                (ScriptOutcome::Done, Some(adopt)) => outcome = outcome.write(adopt),
                (ScriptOutcome::Done | ScriptOutcome::ResetPukUnknown, _) => {}
                (ScriptOutcome::ResetOnlyPukKept, _) => {
                    outcome = outcome.write(Write::DropPendingPuk(guid))
                }
                // An earlier unlock changed the PUK but never reported back: adopt it, and
                // have the page run a fresh script with it.
                (ScriptOutcome::WrongPuk, Some(adopt)) => {
                    return outcome
                        .write(adopt)
                        .write(Write::Attempt(attempt))
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
                        .write(Write::Attempt(attempt))
                        .detail("no authentic answer from the card".into())
                        .refuse(AppError::CardUpdateFailed);
                }
            }
            attempt.card_updated = true;
        }
        // Answers with nothing waiting for them (a replay) change nothing.
        None if !request.script_responses.as_slice().is_empty() || !attempt.card_updated => {
            return outcome
                .detail("no sealed script waiting for answers".into())
                .refuse(AppError::WrongStep);
        }
        None => {}
    }
    if !request.pin_changed {
        return outcome.write(Write::Attempt(attempt)).ok(
            "card_updated",
            CompleteResponse {
                card_updated: true,
                unlocked: false,
            },
        );
    }
    let card = attempt.card_guid;
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
        .write(Write::PinTriesSeen {
            card,
            tries: i64::from(card_protocol::piv::PIN_TRIES),
        })
        .write(not_me.0)
        .write(Write::Mail(templates::unlocked(
            sender,
            &user.email,
            &user.display_name,
            &not_me.1,
        )))
        .ok(
            "unlocked",
            CompleteResponse {
                card_updated: true,
                unlocked: true,
            },
        )
}
