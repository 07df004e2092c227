//! CARD-3: the card script — RESET RETRY COUNTER with the card's PUK to a random one-time
//! PIN, then CHANGE REFERENCE DATA to a new PUK — built for an attempt whose code was
//! verified; and the step that builds it again after a failed card try.
//!
//! The new PUK is kept as pending until the card confirms it, and re-used until then, so
//! an interrupted unlock never leaves a PUK the server doesn't know.

use api_types::bridge::AdminScript;
use api_types::unlock::{CodeResponse, ScriptRequest};
use api_types::AttemptId;
use card_protocol::pin::{generate_one_time_pin, Pin, Puk};
use rand::rngs::OsRng;

use super::limits::Scope;
use super::rules::{check_step, AttemptState};
use super::{Client, Outcome, Subject, Write};
use crate::secrets::FlowSecret;
use crate::secrets::{Kek, SealPurpose};
use crate::store::attempts::Attempt;
use crate::store::cards::Card;
use crate::{AppError, AppState};

const ACTION: &str = "unlock.script";

/// Fresh secrets for one script, drawn before the decision.
pub(super) struct FreshSecrets {
    one_time_pin: Pin,
    next_puk: Puk,
    next_puk_sealed: Vec<u8>,
}

impl FreshSecrets {
    pub(super) fn draw(kek: &Kek, card: &Card) -> Result<Self, AppError> {
        let next_puk = Puk::generate(&mut OsRng);
        let guid = card.card_guid()?;
        Ok(Self {
            one_time_pin: generate_one_time_pin(&mut OsRng),
            next_puk_sealed: kek.seal(next_puk.as_bytes(), &guid, SealPurpose::PendingPuk)?,
            next_puk,
        })
    }
}

/// The script and one-time PIN for the bridge, and the pending-PUK write if this is the
/// first script since the card last confirmed a PUK.
pub(super) fn build(
    card: &Card,
    kek: &Kek,
    fresh: FreshSecrets,
) -> Result<(CodeResponse, Option<Write>), AppError> {
    let guid = card.card_guid()?;
    let puk = Puk::from_bytes(&kek.open(&card.puk_enc, &guid, SealPurpose::Puk)?)?;
    let (next, pending) = match &card.puk_next_enc {
        Some(sealed) => (
            Puk::from_bytes(&kek.open(sealed, &guid, SealPurpose::PendingPuk)?)?,
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
    let apdus = card_protocol::unlock::script(&puk, &fresh.one_time_pin, &next)
        .iter()
        .map(|command| hex::encode(command.to_bytes()))
        .collect();
    let response = CodeResponse {
        card_guid: guid,
        script: AdminScript { apdus },
        one_time_pin: pin_text(&fresh.one_time_pin),
    };
    Ok((response, pending))
}

/// The one-time PIN as the text the bridge sends back to the card.
fn pin_text(pin: &Pin) -> String {
    pin.padded()
        .iter()
        .take_while(|b| **b != 0xFF)
        .map(|b| char::from(*b))
        .collect()
}

impl AppState {
    /// A fresh card script for an attempt whose code was verified (after a failed try).
    pub async fn script(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        _request: ScriptRequest,
        client: &Client,
    ) -> Result<CodeResponse, AppError> {
        self.limit(ACTION, Scope::Client(client), Subject::default(), client)
            .await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let outcome = match self.find_attempt(&mut tx, id, flow, ACTION).await? {
            Ok(attempt) => {
                let card = self.lock_card(&mut tx, &attempt).await?;
                let fresh = FreshSecrets::draw(&self.kek, &card)?;
                decide(&attempt, &card, &self.kek, fresh, now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

fn decide(
    attempt: &Attempt,
    card: &Card,
    kek: &Kek,
    fresh: FreshSecrets,
    now: i64,
) -> Outcome<CodeResponse> {
    let outcome = Outcome::new(ACTION, Subject::of(attempt));
    if let Err(error) = check_step(
        attempt.state,
        AttemptState::CodeVerified,
        attempt.expires_at,
        now,
    ) {
        return outcome.refuse(error);
    }
    match build(card, kek, fresh) {
        Ok((response, pending)) => match pending {
            Some(write) => outcome.write(write),
            None => outcome,
        }
        .ok("ok", response),
        Err(error) => outcome.refuse(error),
    }
}
