//! CERT-1 / CARD-1 / CARD-3: issuing a card. In one SCP03 session the server opens from
//! the card's sealed static keys, the card generates its own 9A and 9E key pairs (the
//! private keys never leave it), the CA certifies the public keys, and the certificates
//! are written back with PUT DATA — all sealed, so nothing between can swap a key or a
//! certificate. Then the certificates and the new 9E key are recorded, with an audit
//! event — and a failed issuance is an audit event too. The card speaks through any [`CardTransport`]: the demo seed's in-process
//! virtual card today, the RA console's bridge later. The card's language is
//! `card_protocol::issue`'s; this module only drives it.

use api_types::audit::AuditAction;
use api_types::ra::UserUuid;
use api_types::CardGuid;
use card_protocol::apdu::{CommandApdu, ResponseApdu};
use card_protocol::client::{CardTransport, PivClient, PivError};
use card_protocol::scp03::{HostSession, Scp03Error};
use card_protocol::{issue, KeySlot};
use p256::elliptic_curve::sec1::ToEncodedPoint;

use crate::ca::{CaError, Holder, Issued};
use crate::card_channel::{fresh_challenge, handshake};
use crate::flow::{Outcome, Subject, Write};
use crate::store::users::{self, User};
use crate::store::{cards, StoreError};
use crate::{AppError, AppState};

const ISSUE: AuditAction = AuditAction::CardIssue;

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

impl AppState {
    /// Issues the enrolled card in `transport` to its holder (see the module docs). Done
    /// or not, the attempt is one audit event (RA-4), through `finish`.
    pub async fn issue_card<T: CardTransport>(
        &self,
        transport: T,
        guid: &CardGuid,
    ) -> Result<IssuedCard, IssueError> {
        let now = self.clock.now();
        let (holder, result) = match self.holder_of(guid).await {
            Ok((card_row, user)) => {
                let result = self.write_to_card(transport, guid, &card_row, &user, now);
                (Some(user.uuid), result)
            }
            Err(refused) => (None, Err(refused)),
        };
        let outcome = decide_issue(*guid, holder.as_ref(), &result);
        let tx = self.store.begin().await?;
        match (self.finish_offline(tx, now, outcome).await, result) {
            (Ok(()), result) => result,
            // The card's own failure says more than the one recording it.
            (Err(_), Err(failed)) => Err(failed),
            (Err(unrecorded), Ok(_)) => Err(unrecorded.into()),
        }
    }

    /// The card's row and its holder, if the card is enrolled.
    async fn holder_of(&self, guid: &CardGuid) -> Result<(cards::Card, User), IssueError> {
        let mut conn = self.store.pool.acquire().await.map_err(StoreError::from)?;
        let card_row = cards::find(&mut conn, guid)
            .await?
            .ok_or(IssueError::NotEnrolled)?;
        let user = users::find(&mut conn, &card_row.user_uuid)
            .await?
            .ok_or(IssueError::NotEnrolled)?;
        Ok((card_row, user))
    }

    /// Generates the keys on the card and writes their certificates, all sealed.
    fn write_to_card<T: CardTransport>(
        &self,
        transport: T,
        guid: &CardGuid,
        card_row: &cards::Card,
        user: &User,
        now: i64,
    ) -> Result<IssuedCard, IssueError> {
        let holder = Holder {
            display_name: &user.display_name,
            uuid: user.uuid.as_str(),
            organisation: &self.settings.organisation_name,
        };
        let mut card = PivClient::new(transport);
        card.select()?;
        if card.read_chuid()?.guid != *guid.as_bytes() {
            return Err(IssueError::WrongCard);
        }
        let handshake = handshake(&self.kek, card_row, fresh_challenge())?;
        let answer = card.transmit(&handshake.initialize_update())?;
        let (external_authenticate, mut session) =
            handshake.authenticate(&answer, card_protocol::unlock::LEVEL)?;
        session.confirm_external_authenticate(&card.transmit(&external_authenticate)?)?;

        let mut issued = Vec::new();
        for slot in KeySlot::ALL {
            let answer = sealed(&mut card, &mut session, issue::generate_key_pair(slot))?;
            let public_key = issue::public_key(&answer)?;
            let certificate = self.ca.issue(slot, &holder, &public_key, now)?;
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
        Ok(IssuedCard {
            piv_auth,
            card_auth,
            card_auth_public_key: card_key.to_encoded_point(false).as_bytes().to_vec(),
        })
    }
}

/// CERT-1 / RA-4: what issuance records — the certificates and the new 9E key when the
/// card took them; else the failure, with the reason for the log (no secret in it).
fn decide_issue(
    guid: CardGuid,
    holder: Option<&UserUuid>,
    result: &Result<IssuedCard, IssueError>,
) -> Outcome<()> {
    let subject = match holder {
        Some(uuid) => Subject::card_of(guid, uuid),
        None => Subject::card(guid),
    };
    let outcome = Outcome::new(ISSUE, subject).by("issuer".into());
    let issued = match result {
        Ok(issued) => issued,
        Err(failed) => {
            let refusal = match failed {
                IssueError::NotEnrolled => AppError::UnknownCard,
                _ => AppError::CardUpdateFailed,
            };
            return outcome.detail(failed.to_string()).refuse(refusal);
        }
    };
    outcome
        .write(Write::CardCertificate {
            card: guid,
            slot: KeySlot::PivAuth,
            issued: issued.piv_auth.clone(),
        })
        .write(Write::CardCertificate {
            card: guid,
            slot: KeySlot::CardAuth,
            issued: issued.card_auth.clone(),
        })
        .write(Write::CardAuthKey {
            card: guid,
            public_key: issued.card_auth_public_key.clone(),
        })
        .detail(format!(
            "9A certificate {}, 9E certificate {}",
            issued.piv_auth.serial, issued.card_auth.serial
        ))
        .ok("ok", ())
}
