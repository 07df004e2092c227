//! The server's end of the secure channel to a card (CARD-3): each card's SCP03 static
//! keys, sealed with the KEK at enrolment, opened only to start a channel. (Wiring the
//! unlock through the channel is the next step of the sealed-channel work.)

use card_protocol::scp03::{HostHandshake, StaticKeys};
use rand::rngs::OsRng;

use crate::secrets::{Kek, SealPurpose};
use crate::store::cards::Card;
use crate::store::StoreError;
use crate::AppError;

/// Starts a channel handshake with a card, from its sealed keys.
pub fn handshake(kek: &Kek, card: &Card) -> Result<HostHandshake, AppError> {
    let corrupt = |column| StoreError::Corrupt {
        table: "cards",
        column,
    };
    let guid = card.card_guid()?;
    let sealed = card
        .scp03_keys_enc
        .as_deref()
        .ok_or_else(|| corrupt("scp03_keys_enc"))?;
    let version = card
        .scp03_key_version
        .and_then(|v| u8::try_from(v).ok())
        .ok_or_else(|| corrupt("scp03_key_version"))?;
    let bytes = kek.open(sealed, &guid, SealPurpose::ChannelKeys)?;
    let keys = StaticKeys::from_bytes(&bytes).map_err(|_| corrupt("scp03_keys_enc"))?;
    Ok(HostHandshake::random(keys, version, &mut OsRng))
}
