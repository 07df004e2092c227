//! CERT-3: a renewal's steps after its channel opened, as the cardholder's page and the
//! RA's desk both drive them: the opening relayed to the card, the card's new keys, the
//! certificates written, the card's word that it holds them — each relayed through the
//! bridge under the server's grant, each stage said as it happens.

use api_types::bridge::{RelayRequest, RelayResponse, SignedRelay, PATH_RELAY};
use api_types::renewal::{
    CardAnswers, RenewalCertificates, RenewalComplete, RenewalDone, RenewalKeys, RenewalOpened,
};
use api_types::values::BoundedVec;
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
            (Stage::Certificates, false) => "Writing certificates to your card…",
            (Stage::Certificates, true) => "Writing certificates to their card…",
        }
    }
}

/// The card's answers as the server takes them.
fn answers(relayed: RelayResponse) -> Result<CardAnswers, Problem> {
    BoundedVec::new(relayed.responses)
        .map(|card_answers| CardAnswers { card_answers })
        .map_err(|_| Problem::from_code(ErrorCode::CardError))
}

async fn relay(bridge: &Bridge, relay: SignedRelay) -> Result<CardAnswers, Problem> {
    answers(bridge.post(PATH_RELAY, &RelayRequest::from(relay)).await?)
}

/// From an opened channel to the card holding its new certificates.
pub(crate) async fn on_card(
    bridge: &Bridge,
    opened: RenewalOpened,
    stage: RwSignal<Option<Stage>>,
) -> Result<RenewalDone, Problem> {
    let id = opened.renewal_id;
    let opening = relay(bridge, opened.relay).await?;
    stage.set(Some(Stage::Keys));
    let keys = api::call::<RenewalKeys>(&id, &opening).await?;
    let generated = relay(bridge, keys.relay).await?;
    stage.set(Some(Stage::Certificates));
    let writes = api::call::<RenewalCertificates>(&id, &generated).await?;
    let written = relay(bridge, writes.relay).await?;
    api::call::<RenewalComplete>(&id, &written).await
}
