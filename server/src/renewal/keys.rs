//! CERT-3: the card makes its new keys, and the CA certifies them. On the card's answer
//! to the opening, EXTERNAL AUTHENTICATE and GENERATE for 9A and 9E, sealed; on the
//! card's MACed answers (the new public keys), a certificate for each — same holder, new
//! serial — as sealed PUT DATA on the same channel. The certificates are kept with the
//! renewal, not yet the card's: the old ones stay in force until the card confirms.
//!
//! A channel that finishes a cut-off renewal reads the keys instead (GET METADATA), and
//! certifies them only if the kept sign-in's signature is the reported 9A key's.

use api_types::audit::AuditAction;
use api_types::renewal::{CardAnswers, RenewalScript};
use api_types::values::RenewalId;
use bridge_grant::Operation;
use card_protocol::renew;
use card_protocol::KeySlot;
use p256::ecdsa::VerifyingKey;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::PublicKey;

use super::rules::check_open;
use super::{hex_all, Channel};
use crate::ca::Holder;
use crate::card_channel::{handshake, parse_answers};
use crate::flow::card_again::signed_login;
use crate::flow::{Client, Outcome, Subject, Write};
use crate::secrets::FlowSecret;
use crate::store::attempts::HexBytes;
use crate::store::cards::Card;
use crate::store::renewals::{PendingCertificate, Renewal, RenewalChannel};
use crate::store::{corrupt, users};
use crate::{AppError, AppState};

const KEYS: AuditAction = AuditAction::RenewKeys;
const CERTIFICATES: AuditAction = AuditAction::RenewCertificates;

/// Which step of the channel a request's answers belong to.
#[derive(Clone, Copy)]
enum Round {
    Keys,
    Certificates,
}

impl AppState {
    pub async fn renewal_keys(
        &self,
        id: &RenewalId,
        secret: Option<&FlowSecret>,
        request: CardAnswers,
        client: &Client,
    ) -> Result<RenewalScript, AppError> {
        let recovery = request.recovery.as_ref();
        let (now, tx, _, found) = self
            .renewal_step(KEYS, id, secret, recovery, client)
            .await?;
        let outcome = match found {
            Ok((renewal, card)) => {
                let built = waiting(&renewal, Round::Keys)
                    .map(|channel| self.key_generation(&renewal, &card, channel, &request, now));
                decide(KEYS, renewal, built, now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }

    pub async fn renewal_certificates(
        &self,
        id: &RenewalId,
        secret: Option<&FlowSecret>,
        request: CardAnswers,
        client: &Client,
    ) -> Result<RenewalScript, AppError> {
        let recovery = request.recovery.as_ref();
        let (now, mut tx, _, found) = self
            .renewal_step(CERTIFICATES, id, secret, recovery, client)
            .await?;
        let outcome = match found {
            Ok((renewal, card)) => {
                // The cardholder's, whoever drives it (the RA at the desk too).
                let user = users::find(&mut tx, &renewal.user_uuid)
                    .await?
                    .ok_or_else(|| corrupt("renewals", "user_uuid"))?;
                let holder = Holder {
                    display_name: &user.display_name,
                    uuid: user.uuid.as_str(),
                    organisation: &self.settings.organisation_name,
                };
                let built = waiting(&renewal, Round::Certificates).map(|channel| {
                    self.certificate_writes(&renewal, &card, channel, &holder, &request, now)
                });
                decide(CERTIFICATES, renewal, built, now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }

    /// EXTERNAL AUTHENTICATE and the sealed key generation (or reading), on the card's
    /// answer to the opening; refused if that answer does not authenticate the card.
    fn key_generation(
        &self,
        renewal: &Renewal,
        card: &Card,
        channel: &RenewalChannel,
        request: &CardAnswers,
        now: i64,
    ) -> Result<(RenewalChannel, RenewalScript), AppError> {
        let answers = parse_answers(request.card_answers.as_slice().iter().map(|a| a.as_bytes()))?;
        let [card_answer] = answers.as_slice() else {
            return Err(AppError::ChannelFailed);
        };
        let handshake = handshake(&self.kek, card, channel.host_challenge)?;
        let sent = if channel.reading {
            renew::key_reading(handshake, card_answer)
        } else {
            renew::key_generation(handshake, card_answer)
        }
        .map_err(|_| AppError::ChannelFailed)?;
        let script = self.sealed_relay(renewal, &sent, now)?;
        let channel = RenewalChannel {
            card_answer: Some(HexBytes(card_answer.to_bytes())),
            sent: hex_all(&sent),
            ..channel.clone()
        };
        Ok((channel, script))
    }

    /// The new keys from the card's MACed answers (read back: only if the kept sign-in is
    /// the 9A key's), a certificate for each, and their sealed PUT DATA on the same
    /// channel.
    fn certificate_writes(
        &self,
        renewal: &Renewal,
        card: &Card,
        channel: &RenewalChannel,
        holder: &Holder<'_>,
        request: &CardAnswers,
        now: i64,
    ) -> Result<(RenewalChannel, RenewalScript), AppError> {
        let answers = parse_answers(request.card_answers.as_slice().iter().map(|a| a.as_bytes()))?;
        let kept = Channel::parse(channel)?;
        let keys = if channel.reading {
            let keys = renew::keys_read(kept.kept(self, card, channel)?, &answers)
                .map_err(|_| AppError::CardUpdateFailed)?;
            self.check_recovery_claim(renewal, &keys)?;
            keys
        } else {
            renew::new_keys(kept.kept(self, card, channel)?, &answers)
                .map_err(|_| AppError::CardUpdateFailed)?
        };
        let mut issued = Vec::new();
        for (slot, key) in KeySlot::ALL.into_iter().zip(&keys) {
            let certificate = self
                .ca
                .issue(slot, holder, key, now)
                .map_err(|_| AppError::Invariant("the CA could not issue"))?;
            issued.push(PendingCertificate {
                slot: slot.as_str().to_owned(),
                serial: certificate.serial,
                der: HexBytes(certificate.der),
                issued_at: now,
                not_after: certificate.not_after,
            });
        }
        let to_write: Vec<(KeySlot, &[u8])> = KeySlot::ALL
            .into_iter()
            .zip(issued.iter().map(|c| c.der.0.as_slice()))
            .collect();
        let writes =
            renew::certificate_writes(kept.kept(self, card, channel)?, &answers, &to_write)
                .map_err(|_| AppError::ChannelFailed)?;
        let script = self.sealed_relay(renewal, &writes, now)?;
        let card_auth_key = keys
            .iter()
            .zip(KeySlot::ALL)
            .find(|(_, slot)| *slot == KeySlot::CardAuth)
            .map(|(key, _)| HexBytes(key.to_encoded_point(false).as_bytes().to_vec()));
        let mut sent = channel.sent.clone();
        sent.extend(hex_all(&writes));
        let channel = RenewalChannel {
            sent,
            key_answers: answers.iter().map(|a| HexBytes(a.to_bytes())).collect(),
            issued,
            card_auth_key,
            ..channel.clone()
        };
        Ok((channel, script))
    }

    /// CERT-3: the kept sign-in was signed by the 9A key the card reports — the passcode
    /// was entered on this card for it.
    fn check_recovery_claim(&self, renewal: &Renewal, keys: &[PublicKey]) -> Result<(), AppError> {
        let claim = renewal.recovery.as_ref().ok_or(AppError::CardNotGenuine)?;
        let login_key = KeySlot::ALL
            .into_iter()
            .zip(keys)
            .find(|(slot, _)| *slot == KeySlot::PivAuth)
            .map(|(_, key)| VerifyingKey::from(key))
            .ok_or(AppError::CardNotGenuine)?;
        let origin = &self.settings.public_origin;
        if signed_login(&login_key, origin, &claim.challenge, &claim.signature.0) {
            Ok(())
        } else {
            Err(AppError::CardNotGenuine)
        }
    }

    fn sealed_relay(
        &self,
        renewal: &Renewal,
        commands: &[card_protocol::apdu::CommandApdu],
        now: i64,
    ) -> Result<RenewalScript, AppError> {
        let guid = *renewal.card_guid.as_bytes();
        let relay = self.relay(
            renewal.id.as_str(),
            guid,
            Operation::SealedScript,
            commands,
            now,
        )?;
        Ok(RenewalScript { relay })
    }
}

/// The channel, if it waits for this round's answers: the opening's answer for the keys
/// (nothing sealed yet), the key generation's for the certificates (nothing issued yet).
fn waiting(renewal: &Renewal, round: Round) -> Option<&RenewalChannel> {
    let channel = renewal.channel.as_ref()?;
    let waits = match round {
        Round::Keys => channel.card_answer.is_none(),
        Round::Certificates => channel.card_answer.is_some() && channel.issued.is_empty(),
    };
    waits.then_some(channel)
}

/// `built`: none when the channel does not wait for this step. A failure uses the
/// channel up: the page opens a new one for the same renewal.
fn decide(
    action: AuditAction,
    renewal: Renewal,
    built: Option<Result<(RenewalChannel, RenewalScript), AppError>>,
    now: i64,
) -> Outcome<RenewalScript> {
    let outcome = Outcome::new(
        action,
        Subject::card_of(renewal.card_guid, &renewal.user_uuid),
    )
    .unaudited_if_ok();
    if let Err(refused) = check_open(&renewal, now) {
        return outcome.refuse(refused);
    }
    let Some(built) = built else {
        return outcome
            .detail("the channel does not wait for this step".into())
            .refuse(AppError::WrongStep);
    };
    match built {
        Ok((channel, script)) => outcome
            .write(Write::Renewal(Renewal {
                channel: Some(channel),
                ..renewal
            }))
            .ok("ok", script),
        Err(failed) => outcome
            .write(Write::Renewal(Renewal {
                channel: None,
                ..renewal
            }))
            .refuse(failed),
    }
}
