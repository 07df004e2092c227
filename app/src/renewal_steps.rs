//! CERT-3: a renewal's steps after its channel opened, as the cardholder's page and the
//! RA's desk both drive them: the opening relayed to the card, the card's new keys, the
//! certificates written, the card's word that it holds them — each relayed through the
//! bridge under the server's grant, each stage said as it happens. Sign-in drives them
//! too, with no session, to finish a renewal cut off after the card made its keys: the
//! channel then reads the keys the card holds.

use api_types::bridge::{RelayRequest, RelayResponse, SignedRelay, PATH_RELAY};
use api_types::renewal::{
    CardAnswers, RenewalCertificates, RenewalComplete, RenewalDone, RenewalKeys, RenewalOpened,
};
use api_types::values::{BoundedVec, LoginId};
use api_types::ErrorCode;
use leptos::prelude::*;

use crate::api;
use crate::bridge::Bridge;
use crate::errors::Problem;

/// What the page says while the card works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Passcode,
    Channel,
    Keys,
    /// Finishing a cut-off renewal: the card says which keys it made.
    Reading,
    Certificates,
}

impl Stage {
    /// In the cardholder's words (`theirs`: the RA's, of the cardholder's card).
    pub(crate) fn words(self, theirs: bool) -> &'static str {
        match (self, theirs) {
            (Stage::Passcode, _) => "Checking your passcode on your smartcard…",
            (Stage::Channel, false) => "Opening a secure channel to your smartcard…",
            (Stage::Channel, true) => "Opening a secure channel to their smartcard…",
            (Stage::Keys, false) => "Generating keys on your card…",
            (Stage::Keys, true) => "Generating keys on their card…",
            (Stage::Reading, _) => "Finishing your card's certificate renewal…",
            (Stage::Certificates, false) => "Writing certificates to your card…",
            (Stage::Certificates, true) => "Writing certificates to their card…",
        }
    }
}

async fn relay(
    bridge: &Bridge,
    relay: SignedRelay,
    recovery: &Option<LoginId>,
) -> Result<CardAnswers, Problem> {
    let relayed: RelayResponse = bridge.post(PATH_RELAY, &RelayRequest::from(relay)).await?;
    BoundedVec::new(relayed.responses)
        .map(|card_answers| CardAnswers {
            card_answers,
            recovery: recovery.clone(),
        })
        .map_err(|_| Problem::from_code(ErrorCode::CardError))
}

/// From an opened channel to the card holding its new certificates; `recovery`: the
/// sign-in kept to finish a cut-off renewal, when there is no session.
pub(crate) async fn on_card(
    bridge: &Bridge,
    opened: RenewalOpened,
    stage: RwSignal<Option<Stage>>,
    recovery: Option<LoginId>,
) -> Result<RenewalDone, Problem> {
    let id = opened.renewal_id;
    let opening = relay(bridge, opened.relay, &recovery).await?;
    stage.set(Some(if recovery.is_some() {
        Stage::Reading
    } else {
        Stage::Keys
    }));
    let keys = api::call::<RenewalKeys>(&id, &opening).await?;
    let generated = relay(bridge, keys.relay, &recovery).await?;
    stage.set(Some(Stage::Certificates));
    let writes = api::call::<RenewalCertificates>(&id, &generated).await?;
    let written = relay(bridge, writes.relay, &recovery).await?;
    api::call::<RenewalComplete>(&id, &written).await
}
