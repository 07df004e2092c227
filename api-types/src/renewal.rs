//! Certificate renewal on the card (CERT-2…CERT-4), spoken by a signed-in page to the
//! server. Steps, each one call that moves one persisted renewal one step:
//! 1. `POST /api/renewal` with the passcode entered on the card (a fresh login challenge
//!    signed by its 9A key) → the opening of a secure channel (SCP03 INITIALIZE UPDATE)
//!    with a grant for the bridge to relay it.
//! 2. `POST /api/renewal/{id}/keys` with the card's answers → EXTERNAL AUTHENTICATE and
//!    GENERATE ASYMMETRIC KEY PAIR for 9A and 9E, sealed: the card makes new keys.
//! 3. `POST /api/renewal/{id}/certificates` with the card's sealed answers (the new public
//!    keys) → the CA's certificates for them, as sealed PUT DATA commands.
//! 4. `POST /api/renewal/{id}/complete` with the card's sealed answers → the new
//!    certificates are the card's, the old ones revoked (CERT-5), and the session ends:
//!    the user signs in again with the new certificate.
//!
//! Until step 4 the old certificates stay the card's; if anything fails between (card
//! pulled, bridge stopped, page reloaded), `POST /api/renewal/{id}/channel` opens a new
//! channel for the same renewal and the card makes its keys again.
//!
//! Cut off after the card made its keys and left until the session ended, the card signs
//! in with a key the server has not certified: sign-in answers `renewal_unfinished` and
//! keeps that sign-in. `POST /api/renewal/recover` with its login id opens a channel that
//! reads the card's keys instead of making them; steps 2–4 follow with the login id in
//! each body (`recovery`) and no session, and the user then signs in again.

use serde::{Deserialize, Serialize};

use crate::bridge::SignedRelay;
use crate::endpoints;
use crate::values::{BoundedVec, CardGuid, CardSignature, LoginId, RenewalId, ResponseHex};

endpoints! {
    /// CERT-3: the passcode entered on the card; a renewal and its channel's opening.
    RenewalStart = POST "/api/renewal", RenewalStartRequest => RenewalOpened,
        refuses [NotSignedIn, PasscodesLocked, NotFound, LoginExpired, CertificateNotValid,
            CardNotGenuine, RenewalNotDue, RenewalByRa, RateLimited];
    /// CERT-3: a sign-in kept because the card's renewal was cut off; a channel that
    /// reads the card's keys to finish it.
    RenewalRecover = POST "/api/renewal/recover", RenewalRecoverRequest => RenewalOpened,
        refuses [NotFound, RateLimited];
    /// CARD-3: a new channel for a renewal not finished (after any failure).
    RenewalChannel = POST "/api/renewal/{id}/channel" RenewalId, RenewalChannelRequest => RenewalOpened,
        refuses [NotSignedIn, PasscodesLocked, AttemptEnded, AttemptExpired, RateLimited];
    /// CERT-3: the card's answers to the opening; the sealed key generation.
    RenewalKeys = POST "/api/renewal/{id}/keys" RenewalId, CardAnswers => RenewalScript,
        refuses [NotSignedIn, PasscodesLocked, AttemptEnded, AttemptExpired, WrongStep,
            ChannelFailed, RateLimited];
    /// CERT-3: the card's new public keys; their certificates, sealed for the card.
    RenewalCertificates = POST "/api/renewal/{id}/certificates" RenewalId, CardAnswers => RenewalScript,
        refuses [NotSignedIn, PasscodesLocked, AttemptEnded, AttemptExpired, WrongStep,
            ChannelFailed, CardUpdateFailed, CardNotGenuine, RateLimited];
    /// CERT-3 / CERT-5: the card wrote the certificates; renewed, the old ones revoked.
    RenewalComplete = POST "/api/renewal/{id}/complete" RenewalId, CardAnswers => RenewalDone,
        refuses [NotSignedIn, PasscodesLocked, AttemptEnded, AttemptExpired, WrongStep,
            ChannelFailed, CardUpdateFailed, RateLimited];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenewalStartRequest {
    pub login_id: LoginId,
    pub signature: CardSignature,
}

/// The sign-in `login/finish` answered `renewal_unfinished`, and the card it was for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenewalRecoverRequest {
    pub card_guid: CardGuid,
    pub login_id: LoginId,
}

/// Asks for a fresh channel opening for a renewal not finished.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenewalChannelRequest {}

/// A renewal's secure channel, opening: the commands for the bridge to relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenewalOpened {
    pub renewal_id: RenewalId,
    pub card_guid: CardGuid,
    pub relay: SignedRelay,
}

/// The bridge's `RelayResponse.responses` for the last relay, as returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CardAnswers {
    pub card_answers: BoundedVec<ResponseHex, 8>,
    /// Finishing a cut-off renewal without a session: the kept sign-in's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<LoginId>,
}

/// Sealed commands for the bridge to relay on the renewal's channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenewalScript {
    pub relay: SignedRelay,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenewalDone {
    /// When the new login certificate ends, Unix seconds.
    pub not_after: i64,
}
