//! Certificate renewal on the card (CERT-2…CERT-5) as a persisted state machine: each call
//! moves one `renewals` row one step, so any instance serves any step and a crash loses
//! nothing. Every step reads the same way — the signed-in session, the renewal it owns,
//! locked → a pure `decide` with `now` → [`AppState::finish`] with its writes and audit
//! event. The card's language is `card_protocol::renew`'s; this module only drives it.
//!
//! Until the card's MACed answers say it holds the new certificates, the old ones stay
//! the card's and in force: a renewal interrupted anywhere (card pulled, bridge stopped,
//! page reloaded) opens a new channel for the same renewal and the card makes its keys
//! again (`open`). Only then are the new certificates recorded, the old ones revoked
//! (CERT-5), the count of renewals in a row raised (CERT-4) and the session ended: the
//! user signs in again with the new certificate (CERT-3).

mod complete;
mod keys;
mod open;
mod remind;
pub(crate) mod rules;

use api_types::audit::AuditAction;
use api_types::values::RenewalId;
use card_protocol::apdu::{CommandApdu, ResponseApdu};
use card_protocol::renew::Kept;

use crate::card_channel::handshake;
use crate::flow::{Client, CurrentSession, Outcome, Subject};
use crate::secrets::FlowSecret;
use crate::store::attempts::HexBytes;
use crate::store::cards::{self, Card};
use crate::store::renewals::{self, Renewal, RenewalChannel};
use crate::store::{corrupt, Tx};
use crate::{AppError, AppState};

/// A step on a renewal: the time, the transaction, the session, and the renewal with its
/// card (locked) — or the refusal, ready to finish.
type RenewalStep<T> = (i64, Tx, CurrentSession, Result<(Renewal, Card), Outcome<T>>);

impl AppState {
    /// The session behind the cookie, then the renewal `id` if it is this session's own:
    /// the cardholder's (its user and its card), or one begun at the desk by this RA
    /// (RA-3); any other id is not found.
    async fn renewal_step<T>(
        &self,
        action: AuditAction,
        id: &RenewalId,
        secret: Option<&FlowSecret>,
        client: &Client,
    ) -> Result<RenewalStep<T>, AppError> {
        let (session, now, mut tx) = self.session_step(action, secret, client).await?;
        let info = &session.info;
        let outcome = Outcome::new(action, Subject::session(info));
        let found = renewals::find_for_update(&mut tx, self.store.backend, id).await?;
        let owns = |renewal: &Renewal| match &renewal.by_ra {
            None => renewal.user_uuid == info.uuid && renewal.card_guid == info.card_guid,
            Some(ra) => *ra == info.uuid && info.role.is_ra(),
        };
        let renewal = match found {
            Some(renewal) if owns(&renewal) => {
                let card = cards::find_for_update(&mut tx, self.store.backend, &renewal.card_guid)
                    .await?
                    .ok_or_else(|| corrupt("renewals", "card_guid"))?;
                Ok((renewal, card))
            }
            _ => Err(outcome
                .detail(format!("renewal {id}"))
                .refuse(AppError::NotFound)),
        };
        Ok((now, tx, session, renewal))
    }
}

/// What the server kept of a renewal's channel, parsed: the handshake again, the card's
/// answer to the opening and the commands sealed since.
struct Channel {
    card_answer: ResponseApdu,
    sent: Vec<CommandApdu>,
}

impl Channel {
    fn parse(channel: &RenewalChannel) -> Result<Self, AppError> {
        let bad = || corrupt("renewals", "channel");
        let card_answer = channel.card_answer.as_ref().ok_or_else(bad)?;
        Ok(Self {
            card_answer: ResponseApdu::parse(&card_answer.0).map_err(|_| bad())?,
            sent: channel
                .sent
                .iter()
                .map(|command| CommandApdu::parse(&command.0).map_err(|_| bad()))
                .collect::<Result<_, _>>()?,
        })
    }

    fn kept<'a>(
        &'a self,
        state: &AppState,
        card: &Card,
        channel: &RenewalChannel,
    ) -> Result<Kept<'a>, AppError> {
        Ok(Kept {
            handshake: handshake(&state.kek, card, channel.host_challenge)?,
            card_answer: &self.card_answer,
            sent: &self.sent,
        })
    }
}

fn hex_all(commands: &[CommandApdu]) -> Vec<HexBytes> {
    commands.iter().map(|c| HexBytes(c.to_bytes())).collect()
}
