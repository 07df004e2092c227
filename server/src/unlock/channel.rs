//! CARD-3: the opening of a secure channel to the card, for an attempt whose code was
//! verified — the first time, and again after anything went wrong (card pulled, bridge
//! stopped, page reloaded): a new channel, never a second emailed code. A new opening
//! replaces any earlier one, so answers to an older channel can no longer be used.

use api_types::audit::AuditAction;
use api_types::unlock::{ChannelOpen, ChannelRequest};
use api_types::AttemptId;
use bridge_grant::Operation;

use super::rules::{check_step, AttemptState};
use super::{Client, Guard, Outcome, Subject, Write};
use crate::card_channel::{fresh_challenge, handshake};
use crate::secrets::FlowSecret;
use crate::store::attempts::{Attempt, ChannelState};
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::UnlockChannel;

impl AppState {
    pub async fn channel(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        _request: ChannelRequest,
        client: &Client,
    ) -> Result<ChannelOpen, AppError> {
        let (now, mut tx, attempt) = self.attempt_step(ACTION, id, flow, Guard::Refusals).await?;
        let outcome = match attempt {
            Ok(attempt) => {
                let card = self.lock_card(&mut tx, &attempt).await?;
                let state = ChannelState {
                    host_challenge: fresh_challenge(),
                    sent: None,
                };
                let opening = card_protocol::unlock::opening(&handshake(
                    &self.kek,
                    &card,
                    state.host_challenge,
                )?);
                let guid = *attempt.card_guid.as_bytes();
                let relay = self.relay(id.as_str(), guid, Operation::OpenChannel, &opening, now)?;
                let response = ChannelOpen {
                    card_guid: attempt.card_guid,
                    relay,
                };
                decide(attempt, state, response, now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

fn decide(
    attempt: Attempt,
    state: ChannelState,
    response: ChannelOpen,
    now: i64,
) -> Outcome<ChannelOpen> {
    let outcome = Outcome::new(ACTION, Subject::attempt(&attempt));
    if let Err(error) = check_step(
        attempt.state,
        AttemptState::CodeVerified,
        attempt.expires_at,
        now,
    ) {
        return outcome.refuse(error);
    }
    let opened = Attempt {
        channel: Some(state),
        ..attempt
    };
    outcome.write(Write::Attempt(opened)).ok("ok", response)
}
