//! CARD-3: the sealed unlock script, built on the card's answer to the channel's opening:
//! EXTERNAL AUTHENTICATE, then RESET RETRY COUNTER with the card's PUK to a random
//! one-time PIN and CHANGE REFERENCE DATA to a new PUK, encrypted and MACed for this card
//! alone. The page and the bridge relay bytes they cannot read; the one-time PIN is the
//! only secret that leaves, for the bridge's local PIN change.
//!
//! The new PUK is kept as pending until the card confirms it, and re-used until then, so
//! an interrupted unlock never leaves a PUK the server doesn't know.

use api_types::audit::AuditAction;
use api_types::unlock::{ScriptRequest, SealedScript};
use api_types::{AttemptId, CardPasscode};
use bridge_grant::Operation;
use card_protocol::pin::{generate_one_time_pin, Pin, Puk};
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use super::rules::{check_step, AttemptState};
use super::{Client, Guard, Outcome, Subject, Write};
use crate::card_channel::{handshake, parse_answers};
use crate::secrets::{FlowSecret, Kek, SealPurpose};
use crate::store::attempts::{Attempt, ChannelState, HexBytes, SealedSent};
use crate::store::cards::Card;
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::UnlockScript;

/// Fresh secrets for one script, drawn before the decision.
pub(super) struct FreshSecrets {
    one_time_pin: Pin,
    next_puk: Puk,
    next_puk_sealed: Vec<u8>,
}

impl FreshSecrets {
    pub(super) fn draw(kek: &Kek, card: &Card) -> Result<Self, AppError> {
        let next_puk = Puk::generate(&mut OsRng);
        let guid = card.guid;
        Ok(Self {
            one_time_pin: generate_one_time_pin(&mut OsRng),
            next_puk_sealed: kek.seal(next_puk.as_bytes(), &guid, SealPurpose::PendingPuk)?,
            next_puk,
        })
    }
}

/// The sealed script built on the card's answer: what to keep, what to write, and the
/// page's reply.
struct Built {
    sent: SealedSent,
    pending: Option<Write>,
    response: SealedScript,
}

impl AppState {
    pub async fn script(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        request: ScriptRequest,
        client: &Client,
    ) -> Result<SealedScript, AppError> {
        let (now, mut tx, attempt) = self.attempt_step(ACTION, id, flow, Guard::Refusals).await?;
        let outcome = match attempt {
            Ok(attempt) => {
                let card = self.lock_card(&mut tx, &attempt).await?;
                // Only on a channel opened and not yet used.
                let built = match &attempt.channel {
                    Some(ChannelState {
                        host_challenge,
                        sent: None,
                    }) => Some(self.build(&attempt, &card, *host_challenge, &request, now)),
                    _ => None,
                };
                decide(attempt, built, now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }

    /// Builds and grants the script on the card's answer; refused if the answer does not
    /// authenticate the card.
    fn build(
        &self,
        attempt: &Attempt,
        card: &Card,
        host_challenge: [u8; 8],
        request: &ScriptRequest,
        now: i64,
    ) -> Result<Built, AppError> {
        let guid = card.guid;
        let answers = parse_answers(request.card_answers.as_slice().iter().map(|a| a.as_bytes()))?;
        let puk = Puk::from_bytes(&self.kek.open(&card.puk_enc, &guid, SealPurpose::Puk)?)?;
        let fresh = FreshSecrets::draw(&self.kek, card)?;
        let (next, pending) = match &card.puk_next_enc {
            Some(sealed) => (
                Puk::from_bytes(&self.kek.open(sealed, &guid, SealPurpose::PendingPuk)?)?,
                None,
            ),
            None => (
                fresh.next_puk,
                Some(Write::PendingPuk {
                    card: guid,
                    sealed: fresh.next_puk_sealed,
                }),
            ),
        };
        let handshake = handshake(&self.kek, card, host_challenge)?;
        let script = card_protocol::unlock::sealed_script(
            handshake,
            &answers,
            &puk,
            &fresh.one_time_pin,
            &next,
        )
        .map_err(|_| AppError::ChannelFailed)?;
        let [card_answer] = answers.as_slice() else {
            return Err(AppError::ChannelFailed);
        };
        let guid_bytes = *guid.as_bytes();
        let relay = self.relay(
            attempt.id.as_str(),
            guid_bytes,
            Operation::SealedScript,
            &script,
            now,
        )?;
        let change_pin = self.grant(
            attempt.id.as_str(),
            guid_bytes,
            Operation::ChangePin,
            None,
            now,
        );
        Ok(Built {
            sent: SealedSent {
                card_answer: card_answer.to_bytes(),
                script: script.iter().map(|c| HexBytes(c.to_bytes())).collect(),
            },
            pending,
            response: SealedScript {
                card_guid: guid,
                relay,
                one_time_pin: pin_text(&fresh.one_time_pin)?,
                change_pin,
            },
        })
    }
}

/// The one-time PIN as the passcode the bridge sends back to the card.
fn pin_text(pin: &Pin) -> Result<CardPasscode, AppError> {
    let text: Zeroizing<String> = Zeroizing::new(
        pin.padded()
            .iter()
            .take_while(|b| **b != 0xFF)
            .map(|b| char::from(*b))
            .collect(),
    );
    CardPasscode::parse(&text).map_err(|_| AppError::Invariant("a one-time PIN out of rule"))
}

/// `built`: none when no unused channel opening is waiting for the card's answer.
fn decide(
    attempt: Attempt,
    built: Option<Result<Built, AppError>>,
    now: i64,
) -> Outcome<SealedScript> {
    let outcome = Outcome::new(ACTION, Subject::attempt(&attempt));
    if let Err(error) = check_step(
        attempt.state,
        AttemptState::CodeVerified,
        attempt.expires_at,
        now,
    ) {
        return outcome.refuse(error);
    }
    let Some(built) = built else {
        return outcome
            .detail("no channel opening waiting".into())
            .refuse(AppError::WrongStep);
    };
    match built {
        Ok(built) => {
            let host_challenge = attempt.channel.as_ref().map(|c| c.host_challenge);
            let sent = Attempt {
                channel: host_challenge.map(|host_challenge| ChannelState {
                    host_challenge,
                    sent: Some(built.sent),
                }),
                ..attempt
            };
            let outcome = outcome.write(Write::Attempt(sent));
            match built.pending {
                Some(write) => outcome.write(write),
                None => outcome,
            }
            .ok("ok", built.response)
        }
        // The opening is used up either way: the page opens a new channel.
        Err(error) => {
            let closed = Attempt {
                channel: None,
                ..attempt
            };
            outcome.write(Write::Attempt(closed)).refuse(error)
        }
    }
}
