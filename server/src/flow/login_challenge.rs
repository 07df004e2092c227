//! AUTH-1 / REG-1: login challenges sealed, not stored. `login/start` writes nothing: the
//! [`LoginId`] it hands out carries a random nonce, the card, the challenge's end and the
//! server's MAC over them, and the challenge the card signs is derived from them under
//! the same key. Single use is the spending's row (`spent_logins`, kept until the
//! challenge's end), written with whatever answers the challenge.
//!
//! Why (issue 22): a stored challenge cost every sign-in a second write transaction —
//! the row, its three index entries, its COMMIT, then its update — the largest part of
//! the database's share. ALL-5 still holds: a known card's challenge writes nothing, so
//! asking for them cannot grow the database; an unknown card's is a charged refusal, and
//! answers are charged per address and per card as before.

use api_types::auth::LoginId;
use api_types::values::LOGIN_ID_BYTES;
use api_types::CardGuid;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::Write;
use crate::auth::LOGIN_CHALLENGE_TTL;
use crate::secrets::SecretsError;

const NONCE: usize = 16;
const BODY: usize = NONCE + 16 + 8;
const TAG: usize = LOGIN_ID_BYTES - BODY;

/// The key login challenges are sealed with: derived from the code pepper, which every
/// instance shares, under a label nothing else uses. Never printed.
#[derive(Clone)]
pub struct LoginSeal(Hmac<Sha256>);

impl LoginSeal {
    pub fn new(pepper: &[u8; 32]) -> Result<Self, SecretsError> {
        let mut derive = hmac_over(pepper)?;
        derive.update(b"smartcard self-service: login challenge seal, v1");
        Ok(Self(hmac_over(&derive.finalize().into_bytes())?))
    }

    /// A new challenge for `card`, ending [`LOGIN_CHALLENGE_TTL`] after `now`.
    pub fn seal(&self, nonce: [u8; NONCE], card: CardGuid, now: i64) -> LoginChallenge {
        let expires_at = now + LOGIN_CHALLENGE_TTL;
        let mut body = [0u8; BODY];
        body[..NONCE].copy_from_slice(&nonce);
        body[NONCE..NONCE + 16].copy_from_slice(card.as_bytes());
        body[NONCE + 16..].copy_from_slice(&expires_at.to_be_bytes());
        let mut id = [0u8; LOGIN_ID_BYTES];
        id[..BODY].copy_from_slice(&body);
        id[BODY..].copy_from_slice(&self.tag(&body));
        self.challenge_of(LoginId::from_bytes(id), &body)
    }

    /// The challenge `id` seals, if this server sealed it (its end not yet checked), as
    /// not spent: the caller reads that.
    pub fn open(&self, id: &LoginId) -> Option<LoginChallenge> {
        let bytes: [u8; LOGIN_ID_BYTES] = hex::decode(id.as_str()).ok()?.try_into().ok()?;
        let (body, tag) = bytes.split_at(BODY);
        let body: [u8; BODY] = body.try_into().ok()?;
        if !bool::from(self.tag(&body).ct_eq(tag)) {
            return None;
        }
        Some(self.challenge_of(id.clone(), &body))
    }

    /// The challenge `body` lays out (nonce, card, end), as not spent.
    fn challenge_of(&self, id: LoginId, body: &[u8; BODY]) -> LoginChallenge {
        let mut card = [0u8; 16];
        card.copy_from_slice(&body[NONCE..NONCE + 16]);
        let mut end = [0u8; 8];
        end.copy_from_slice(&body[NONCE + 16..]);
        LoginChallenge {
            id,
            nonce: hex::encode(&body[..NONCE]),
            card_guid: CardGuid::from_bytes(card),
            challenge: self.challenge(body),
            expires_at: i64::from_be_bytes(end),
            spent: false,
        }
    }

    fn tag(&self, body: &[u8; BODY]) -> [u8; TAG] {
        let mac = self.keyed(b"id", body);
        let mut tag = [0u8; TAG];
        tag.copy_from_slice(&mac[..TAG]);
        tag
    }

    fn challenge(&self, body: &[u8; BODY]) -> [u8; 32] {
        self.keyed(b"challenge", body)
    }

    fn keyed(&self, purpose: &[u8], body: &[u8; BODY]) -> [u8; 32] {
        let mut mac = self.0.clone();
        mac.update(purpose);
        mac.update(body);
        mac.finalize().into_bytes().into()
    }
}

fn hmac_over(key: &[u8]) -> Result<Hmac<Sha256>, SecretsError> {
    <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| SecretsError::CodePepper)
}

impl std::fmt::Debug for LoginSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginSeal(****)")
    }
}

/// An opened login challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginChallenge {
    pub id: LoginId,
    /// What its spending is kept under.
    pub nonce: String,
    pub card_guid: CardGuid,
    /// What the card signs (through [`card_protocol::SignedFor::Login`]).
    pub challenge: [u8; 32],
    pub expires_at: i64,
    /// Already answered (read from `spent_logins`).
    pub spent: bool,
}

impl LoginChallenge {
    /// The challenge as read: spent or not.
    pub fn spent(self, spent: bool) -> Self {
        Self { spent, ..self }
    }

    /// Single use: the write that spends it.
    pub(crate) fn spend(&self) -> Write {
        Write::UseLoginChallenge(self.spending())
    }

    /// Its spending's row.
    pub fn spending(&self) -> Spent {
        Spent {
            nonce: self.nonce.clone(),
            expires_at: self.expires_at,
        }
    }
}

/// A spent challenge's row: kept until the challenge's end, when it could no longer be
/// answered anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spent {
    pub nonce: String,
    pub expires_at: i64,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn card() -> CardGuid {
        CardGuid::from_bytes([9; 16])
    }

    #[test]
    fn auth_1_a_sealed_challenge_opens_as_it_was_sealed() {
        let seal = LoginSeal::new(&[1; 32]).unwrap();
        let sealed = seal.seal([2; 16], card(), 1000);
        assert_eq!(sealed.expires_at, 1000 + LOGIN_CHALLENGE_TTL);
        assert_eq!(seal.open(&sealed.id), Some(sealed.clone()));
        // Another nonce, another challenge for the card to sign.
        assert_ne!(seal.seal([3; 16], card(), 1000).challenge, sealed.challenge);
    }

    #[test]
    fn auth_1_a_challenge_another_key_sealed_or_anyone_changed_does_not_open() {
        let seal = LoginSeal::new(&[1; 32]).unwrap();
        let sealed = seal.seal([2; 16], card(), 1000);
        assert_eq!(LoginSeal::new(&[4; 32]).unwrap().open(&sealed.id), None);
        let text = sealed.id.as_str();
        for at in [0, 40, 70, 100, 111] {
            let mut changed = text.as_bytes().to_vec();
            changed[at] = if changed[at] == b'0' { b'1' } else { b'0' };
            let changed = LoginId::parse(std::str::from_utf8(&changed).unwrap()).unwrap();
            assert_eq!(seal.open(&changed), None, "changed at {at}");
        }
    }

    #[test]
    fn auth_1_the_challenge_is_not_in_the_login_id() {
        let sealed = LoginSeal::new(&[1; 32])
            .unwrap()
            .seal([2; 16], card(), 1000);
        let id = hex::decode(sealed.id.as_str()).unwrap();
        assert!(!id
            .windows(8)
            .any(|w| sealed.challenge.windows(8).any(|c| c == w)));
    }
}
