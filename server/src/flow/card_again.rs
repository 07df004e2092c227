//! AUTH-1 / REG-1 / REG-5: the card proves who holds it — a signature over a fresh,
//! single-use login challenge by the 9A key named in the current certificate our CA
//! issued to that card (so the PIN was verified on it). Login uses [`check_card_signature`];
//! a signed-in step that needs the passcode entered again (registration, a contact change)
//! uses [`AppState::card_proven_again`], for the session's own card only.

use std::ops::ControlFlow;

use api_types::auth::LoginId;
use api_types::values::CardSignature;
use api_types::CardGuid;
use card_protocol::{KeySlot, SignedFor};
use p256::ecdsa::VerifyingKey;

use super::login_challenge::LoginChallenge;
use super::{Outcome, Write};
use crate::ca::CertificateAuthority;
use crate::store::certificates::{self, CardCertificate};
use crate::store::{spent_logins, Tx};
use crate::{AppError, AppState};

/// Who vouches for a card's signature: our CA's certificate for its key, over the digest
/// the bridge computes for our own public origin ([`SignedFor`], issue 17 item 10) — a
/// signature made for any other page, or over raw bytes, proves nothing here.
#[derive(Clone, Copy)]
pub(crate) struct CardTrust<'a> {
    pub(crate) ca: &'a CertificateAuthority,
    pub(crate) origin: &'a str,
}

impl AppState {
    pub(crate) fn card_trust(&self) -> CardTrust<'_> {
        CardTrust {
            ca: &self.ca,
            origin: &self.settings.public_origin,
        }
    }
}

/// RA-5: how long a card proof — signing in, or the passcode entered again — lets an RA's
/// actions that give someone access go ahead.
pub(crate) const CARD_PROOF_WINDOW: i64 = 5 * 60;

/// RA-5: the session's card proved itself within [`CARD_PROOF_WINDOW`].
pub(crate) fn card_proven_recently(card_proven_at: i64, now: i64) -> Result<(), AppError> {
    if now.saturating_sub(card_proven_at) < CARD_PROOF_WINDOW {
        Ok(())
    } else {
        Err(AppError::CardProofRequired)
    }
}

/// The card's answer to a challenge for a signed-in step: the challenge it spent (spent
/// whatever the verdict) and whether it proved the session's card.
#[derive(Debug)]
#[must_use]
pub(crate) struct CardProvenAgain {
    spent: Option<Write>,
    verdict: Result<(), AppError>,
}

impl CardProvenAgain {
    /// The outcome with the spent challenge written, to go on with if the card proved
    /// itself; else (`Break`) the same outcome refused, ready to finish.
    pub(crate) fn gate<T>(self, outcome: Outcome<T>) -> ControlFlow<Outcome<T>, Outcome<T>> {
        let outcome = match self.spent {
            Some(spent) => outcome.write(spent),
            None => outcome,
        };
        match self.verdict {
            Ok(()) => ControlFlow::Continue(outcome),
            Err(refused) => ControlFlow::Break(outcome.refuse(refused)),
        }
    }

    #[cfg(test)]
    pub(crate) fn proven() -> Self {
        let seal = super::login_challenge::LoginSeal::new(&[1; 32]).unwrap_or_else(|_| panic!());
        let challenge = seal.seal([5; 16], CardGuid::from_bytes([6; 16]), 1000);
        Self {
            spent: Some(challenge.spend()),
            verdict: Ok(()),
        }
    }

    #[cfg(test)]
    pub(crate) fn refused(error: AppError) -> Self {
        Self {
            spent: None,
            verdict: Err(error),
        }
    }
}

impl AppState {
    /// REG-1 / REG-5: the passcode entered again and verified on the session's own card —
    /// a fresh login challenge for that card, signed by its 9A key. A challenge for
    /// another card (or one this server did not seal) proves nothing and is left alone.
    pub(crate) async fn card_proven_again(
        &self,
        tx: &mut Tx,
        card_guid: CardGuid,
        login_id: &LoginId,
        signature: &CardSignature,
        now: i64,
    ) -> Result<CardProvenAgain, AppError> {
        Ok(match self.login_seal.open(login_id) {
            Some(challenge) if challenge.card_guid == card_guid => {
                let spent = spent_logins::is_spent(tx, &challenge.nonce).await?;
                let challenge = challenge.spent(spent);
                let certs = certificates::for_card(tx, &card_guid).await?;
                let trust = self.card_trust();
                let verdict = check_card_signature(&challenge, &certs, trust, signature, now);
                CardProvenAgain {
                    spent: Some(challenge.spend()),
                    verdict,
                }
            }
            Some(_) => CardProvenAgain {
                spent: None,
                verdict: Err(AppError::CardNotGenuine),
            },
            None => CardProvenAgain {
                spent: None,
                verdict: Err(AppError::NotFound),
            },
        })
    }
}

/// The card's 9A key, from a certificate our CA issued it that is current and not
/// revoked (the CA checks the certificate itself again).
fn login_key(
    certificates: &[CardCertificate],
    ca: &CertificateAuthority,
    now: i64,
) -> Option<VerifyingKey> {
    certificates
        .iter()
        .filter(|c| c.slot == KeySlot::PivAuth && c.revoked_at.is_none() && now < c.not_after)
        .find_map(|stored| ca.current_key(&stored.certificate, now))
}

/// AUTH-1 / REG-1: a signature over an unused, current challenge, by the 9A key of the
/// challenge's card, as its current certificate from our CA names it.
pub(crate) fn check_card_signature(
    challenge: &LoginChallenge,
    certificates: &[CardCertificate],
    trust: CardTrust<'_>,
    signature: &CardSignature,
    now: i64,
) -> Result<(), AppError> {
    if challenge.spent || now >= challenge.expires_at {
        return Err(AppError::LoginExpired);
    }
    let key = login_key(certificates, trust.ca, now).ok_or(AppError::CertificateNotValid)?;
    if signed_login(
        &key,
        trust.origin,
        &challenge.challenge,
        signature.as_bytes(),
    ) {
        Ok(())
    } else {
        Err(AppError::CardNotGenuine)
    }
}

/// Whether `der_signature` is `key`'s over the login `challenge` as the bridge signs it
/// for `origin` (the key trusted however the caller trusts it).
pub(crate) fn signed_login(
    key: &VerifyingKey,
    origin: &str,
    challenge: &[u8; 32],
    der_signature: &[u8],
) -> bool {
    card_signed(key, SignedFor::Login, (origin, challenge), der_signature)
}

/// Whether `der_signature` is `key`'s over what a card signs `signed_for` a page of
/// `origin` and `challenge`. Checked by ring, whose P-256 is several times faster than
/// p256's: one such check is a card sign-in's largest cost on the server (issue 22).
pub(crate) fn card_signed(
    key: &VerifyingKey,
    signed_for: SignedFor,
    (origin, challenge): (&str, &[u8; 32]),
    der_signature: &[u8],
) -> bool {
    use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};
    let point = key.to_encoded_point(false);
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point.as_bytes())
        .verify(&signed_for.message(origin, challenge), der_signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_5_a_card_proof_lets_access_giving_actions_go_ahead_for_5_minutes() {
        assert!(card_proven_recently(1000, 1000).is_ok());
        assert!(card_proven_recently(1000, 1000 + CARD_PROOF_WINDOW - 1).is_ok());
        assert!(matches!(
            card_proven_recently(1000, 1000 + CARD_PROOF_WINDOW),
            Err(AppError::CardProofRequired)
        ));
        // A session from before the proof was recorded never counts as proven.
        assert!(card_proven_recently(0, 1000).is_err());
    }
}
