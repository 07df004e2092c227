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
//!
//! A renewal cut off once the card had made its keys, and then left until the session or
//! the renewal ran out, leaves a card whose sign-in the server cannot check. That sign-in
//! is kept with the renewal (`auth::login`), and its page finishes the renewal without a
//! session (`recover`): a channel that reads the card's keys (GET METADATA, sealed), the
//! kept signature checked with the 9A key the card reports — the passcode was entered
//! on this card — and the certificates written as in any renewal.

mod complete;
mod keys;
mod open;
mod recover;
mod remind;
pub(crate) mod rules;

use api_types::audit::AuditAction;
use api_types::auth::LoginId;
use api_types::values::RenewalId;
use card_protocol::apdu::{CommandApdu, ResponseApdu};
use card_protocol::renew::Kept;

use crate::card_channel::handshake;
use crate::flow::limits::Scope;
use crate::flow::{Client, CurrentSession, Outcome, Subject, Write};
use crate::secrets::FlowSecret;
use crate::store::attempts::HexBytes;
use crate::store::cards::{self, Card};
use crate::store::renewals::{self, Renewal, RenewalChannel};
use crate::store::{corrupt, Tx};
use crate::{AppError, AppState};

/// Who drives a renewal's step.
enum Driver {
    /// The signed-in cardholder, or the RA at their desk (RA-3).
    Session(CurrentSession),
    /// The page of a sign-in kept to finish the renewal, with no session (CERT-3).
    Recovery,
}

/// A step on a renewal: the time, the transaction, who drives it, and the renewal with
/// its card (locked) — or the refusal, ready to finish.
type RenewalStep<T> = (i64, Tx, Driver, Result<(Renewal, Card), Outcome<T>>);

impl AppState {
    /// The driver, then the renewal `id` if it is theirs: with a session, the
    /// cardholder's (its user and its card) or one begun at the desk by this RA (RA-3);
    /// with `recovery`, the cardholder's own whose kept sign-in has that id and is recent
    /// (CERT-3). Any other id is not found.
    async fn renewal_step<T>(
        &self,
        action: AuditAction,
        id: &RenewalId,
        secret: Option<&FlowSecret>,
        recovery: Option<&LoginId>,
        client: &Client,
    ) -> Result<RenewalStep<T>, AppError> {
        let (driver, now, mut tx) = match recovery {
            Some(_) => {
                let scope = Scope::Client(client);
                self.count_request(action, scope, Subject::anonymous(), client)
                    .await?;
                let (now, tx) = self.open().await?;
                (Driver::Recovery, now, tx)
            }
            None => {
                let (session, now, tx) = self.session_step(action, secret, client).await?;
                (Driver::Session(session), now, tx)
            }
        };
        let subject = match &driver {
            Driver::Session(session) => Subject::session(&session.info),
            Driver::Recovery => Subject::anonymous(),
        };
        let outcome = Outcome::new(action, subject);
        let found = renewals::find_for_update(&mut tx, self.store.backend, id).await?;
        let owns = |renewal: &Renewal| match (&driver, &renewal.by_ra, recovery) {
            (Driver::Session(session), None, _) => {
                renewal.user_uuid == session.info.uuid
                    && renewal.card_guid == session.info.card_guid
            }
            (Driver::Session(session), Some(ra), _) => {
                *ra == session.info.uuid && session.info.role.is_ra()
            }
            (Driver::Recovery, None, Some(login_id)) => rules::recovery_by(renewal, login_id, now),
            (Driver::Recovery, _, _) => false,
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
        Ok((now, tx, driver, renewal))
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

/// CERT-5: the certificates `renewal`'s channel sent to the card, when the channel is
/// dropped before the card confirmed them: whatever the card kept, the CRL names them.
fn abandoned(renewal: &Renewal) -> Option<Write> {
    let issued = &renewal.channel.as_ref()?.issued;
    (!issued.is_empty()).then(|| Write::AbandonedCertificates {
        card: renewal.card_guid,
        issued: issued.clone(),
    })
}

fn hex_all(commands: &[CommandApdu]) -> Vec<HexBytes> {
    commands.iter().map(|c| HexBytes(c.to_bytes())).collect()
}
