//! CERT-1 / CARD-1 / CARD-3: issuing a card. In one SCP03 session the server opens from
//! the card's sealed static keys, the card generates its own 9A and 9E key pairs (the
//! private keys never leave it), the CA certifies the public keys, and the certificates
//! are written back with PUT DATA — all sealed, so nothing between can swap a key or a
//! certificate. Then the certificates and the new 9E key are recorded, with an audit
//! event. The card speaks through any [`CardTransport`]: the demo seed's in-process
//! virtual card today, the RA console's bridge later. The card's language is
//! `card_protocol::issue`'s; this module only drives it.

use api_types::CardGuid;
use card_protocol::apdu::{CommandApdu, ResponseApdu};
use card_protocol::client::{CardTransport, PivClient, PivError};
use card_protocol::issue::{self, KeySlot};
use card_protocol::scp03::{HostSession, Scp03Error};
use p256::elliptic_curve::sec1::ToEncodedPoint;

use crate::ca::{CaError, CardSlot, Holder, Issued};
use crate::card_channel::{fresh_challenge, handshake};
use crate::store::audit::{self, AuditEntry};
use crate::store::certificates::{self, NewCardCertificate};
use crate::store::{cards, users, StoreError};
use crate::{AppError, AppState};

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("the card is not enrolled")]
    NotEnrolled,
    #[error("a different card is in the reader")]
    WrongCard,
    #[error("the card: {0}")]
    Card(#[from] PivError),
    #[error("the secure channel: {0}")]
    Channel(#[from] Scp03Error),
    #[error("the certificate authority: {0}")]
    Ca(#[from] CaError),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StoreError> for IssueError {
    fn from(e: StoreError) -> Self {
        Self::App(e.into())
    }
}

/// What issuance wrote to the card.
#[derive(Debug, Clone)]
pub struct IssuedCard {
    pub piv_auth: Issued,
    pub card_auth: Issued,
    /// The new 9E public key, SEC1 uncompressed (CARD-6 checks signatures with it).
    pub card_auth_public_key: Vec<u8>,
}

/// Sends one sealed command and opens the card's answer.
fn sealed<T: CardTransport>(
    card: &mut PivClient<T>,
    session: &mut HostSession,
    command: CommandApdu,
) -> Result<ResponseApdu, IssueError> {
    let wrapped = session.wrap(command)?;
    let answer = card.transmit(&wrapped)?;
    Ok(session.unwrap(answer)?)
}

fn ca_slot(slot: KeySlot) -> CardSlot {
    match slot {
        KeySlot::PivAuth => CardSlot::PivAuthentication,
        KeySlot::CardAuth => CardSlot::CardAuthentication,
    }
}

impl AppState {
    /// Issues the enrolled card in `transport` to its holder (see the module docs).
    pub async fn issue_card<T: CardTransport>(
        &self,
        transport: T,
        guid: &CardGuid,
    ) -> Result<IssuedCard, IssueError> {
        let now = self.clock.now();
        let mut conn = self.store.pool.acquire().await.map_err(StoreError::from)?;
        let card_row = cards::find(&mut conn, guid)
            .await?
            .ok_or(IssueError::NotEnrolled)?;
        let user = users::find(&mut conn, &card_row.user_uuid)
            .await?
            .ok_or(IssueError::NotEnrolled)?;
        drop(conn);
        let holder = Holder {
            display_name: &user.display_name,
            uuid: &user.uuid,
            organisation: &self.settings.organisation_name,
        };

        let mut card = PivClient::new(transport);
        card.select()?;
        if card.read_chuid()?.guid != *guid.as_bytes() {
            return Err(IssueError::WrongCard);
        }
        let handshake = handshake(&self.kek, &card_row, fresh_challenge())?;
        let answer = card.transmit(&handshake.initialize_update())?;
        let (external_authenticate, mut session) =
            handshake.authenticate(&answer, card_protocol::unlock::LEVEL)?;
        session.confirm_external_authenticate(&card.transmit(&external_authenticate)?)?;

        let mut issued = Vec::new();
        for slot in KeySlot::ALL {
            let answer = sealed(&mut card, &mut session, issue::generate_key_pair(slot))?;
            let public_key = issue::public_key(&answer)?;
            let certificate = self.ca.issue(ca_slot(slot), &holder, &public_key, now)?;
            issued.push((slot, public_key, certificate));
        }
        for (slot, _, certificate) in &issued {
            let parts = issue::put_certificate(*slot, &certificate.der)?;
            let count = parts.len();
            let mut answers = Vec::with_capacity(count);
            for part in parts {
                answers.push(sealed(&mut card, &mut session, part)?);
            }
            issue::written(count, &answers)?;
        }

        let mut by_slot = issued.into_iter();
        let (Some((_, _, piv_auth)), Some((_, card_key, card_auth))) =
            (by_slot.next(), by_slot.next())
        else {
            return Err(AppError::Invariant("issuance fills two slots").into());
        };
        let result = IssuedCard {
            piv_auth,
            card_auth,
            card_auth_public_key: card_key.to_encoded_point(false).as_bytes().to_vec(),
        };
        self.record_issue(guid, &user.uuid, &result, now).await?;
        Ok(result)
    }

    async fn record_issue(
        &self,
        guid: &CardGuid,
        user_uuid: &str,
        issued: &IssuedCard,
        now: i64,
    ) -> Result<(), IssueError> {
        let mut tx = self.store.begin().await?;
        for (slot, certificate) in [
            (CardSlot::PivAuthentication, &issued.piv_auth),
            (CardSlot::CardAuthentication, &issued.card_auth),
        ] {
            certificates::insert_card_certificate(
                &mut tx,
                &NewCardCertificate {
                    serial: &certificate.serial,
                    card_guid: guid,
                    slot: slot.as_str(),
                    certificate: &certificate.der,
                    issued_at: now,
                    not_after: certificate.not_after,
                },
            )
            .await?;
        }
        cards::set_card_auth_key(&mut tx, guid, &issued.card_auth_public_key).await?;
        let entry = AuditEntry {
            actor: "issuer".into(),
            action: "card.issue".into(),
            outcome: "ok".into(),
            card_guid: Some(guid.to_hex()),
            user_uuid: Some(user_uuid.to_owned()),
            client_addr: None,
            detail: format!(
                "9A certificate {}, 9E certificate {}",
                issued.piv_auth.serial, issued.card_auth.serial
            ),
        };
        audit::append(&mut tx, self.store.backend, &self.audit_key, now, &entry).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }
}
