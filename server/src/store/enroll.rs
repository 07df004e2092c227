//! Creates (or replaces) a user with their security answers and card, in one
//! transaction. Used by the demo seed and the tests; registration proper is a later flow.

use api_types::ra::UserUuid;
use api_types::CardGuid;
use card_protocol::pin::Puk;
use card_protocol::scp03::StaticKeys;

use super::users::NewUser;
use super::{answers, attempts, cards, jobs, passcodes, phone_codes, renewals, users, Store};
use crate::secrets::{AnswerHasher, Kek, SealPurpose};
use crate::AppError;

pub struct Enrolment<'a> {
    pub user: NewUser<'a>,
    /// Question id → answer as typed; hashed here (REG-2).
    pub answers: &'a [(i64, &'a str)],
    pub card_guid: CardGuid,
    pub card_auth_public_key: Vec<u8>,
    pub puk: Puk,
    /// The card's SCP03 static keys and their key version (CARD-3), from the issuer.
    pub channel_keys: StaticKeys,
    pub channel_key_version: u8,
}

pub async fn enroll(
    store: &Store,
    kek: &Kek,
    hasher: &AnswerHasher,
    now: i64,
    enrolment: &Enrolment<'_>,
) -> Result<(), AppError> {
    // Parsed before anything is written: a row every later read would refuse is never made.
    let uuid = &UserUuid::parse(enrolment.user.uuid)
        .map_err(|_| AppError::Invariant("an enrolment's UUID is not 12 digits"))?;
    let mut hashed = Vec::new();
    for (question, answer) in enrolment.answers {
        hashed.push((*question, hasher.hash(answer)?));
    }
    let guid = &enrolment.card_guid;
    let puk_enc = kek.seal(enrolment.puk.as_bytes(), guid, SealPurpose::Puk)?;
    let keys = enrolment.channel_keys.to_bytes();
    let scp03_keys_enc = kek.seal(&keys, guid, SealPurpose::ChannelKeys)?;
    let mut tx = store.begin().await?;
    answers::delete_for_user(&mut tx, uuid).await?;
    attempts::delete_for_user(&mut tx, uuid).await?;
    phone_codes::delete_for_user(&mut tx, uuid).await?;
    renewals::delete_for_user(&mut tx, &enrolment.card_guid, uuid).await?;
    // A new card: its reminders start afresh.
    jobs::delete_reminders_for_user(&mut tx, uuid).await?;
    passcodes::delete_for_user(&mut tx, uuid).await?;
    cards::delete(&mut tx, &enrolment.card_guid, uuid).await?;
    users::delete(&mut tx, uuid).await?;
    let user = NewUser {
        uuid: uuid.as_str(),
        ..enrolment.user.clone()
    };
    users::insert(&mut tx, &user).await?;
    // PASS-4: the passcodes are set at enrolment (the card's own among them).
    passcodes::set_last_set(&mut tx, uuid, now).await?;
    for (question, hash) in &hashed {
        answers::insert(&mut tx, uuid, *question, hash).await?;
    }
    cards::insert(
        &mut tx,
        &cards::NewCard {
            guid: &enrolment.card_guid,
            user_uuid: uuid,
            card_auth_public_key: &enrolment.card_auth_public_key,
            puk_enc: &puk_enc,
            scp03_keys_enc: &scp03_keys_enc,
            scp03_key_version: enrolment.channel_key_version,
            created_at: now,
        },
    )
    .await?;
    tx.commit().await.map_err(crate::store::StoreError::from)?;
    Ok(())
}
