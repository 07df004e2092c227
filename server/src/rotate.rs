//! CARD-3 / ALL-7: `smartcard-server rotate-kek` re-seals every card secret (and the CA's
//! key) under the current KEK. Run it with the new key as `kek_hex`/`kek_version` and the old one in
//! `previous_keks`, while the servers run with the same settings (so both stay
//! readable); once it reports nothing left, drop the old key from the settings.

use crate::flow::{Outcome, Subject};
use crate::secrets::{Kek, SealPurpose};
use crate::store::cards::{self, Card};
use crate::store::certificates;
use crate::store::StoreError;
use crate::{AppError, AppState};
use api_types::audit::AuditAction;

/// What a rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotated {
    pub cards: usize,
    pub resealed: usize,
    /// Cards that changed under the rotation in its last pass (run it again).
    pub changed: usize,
}

fn stale(kek: &Kek, card: &Card) -> bool {
    let current = Some(kek.current_version());
    let stale = |sealed: Option<&[u8]>| sealed.is_some_and(|s| Kek::version_of(s) != current);
    stale(Some(&card.puk_enc))
        || stale(card.puk_next_enc.as_deref())
        || stale(card.scp03_keys_enc.as_deref())
}

const ROTATE: AuditAction = AuditAction::KekRotate;

/// Re-seals every stale card and the CA's key, and records it (RA-4) through `finish`.
pub async fn rotate_kek(state: &AppState) -> Result<Rotated, AppError> {
    let rotated = reseal_all(state).await;
    let outcome = decide_rotation(state.kek.current_version(), &rotated);
    let tx = state.store.begin().await?;
    let now = state.clock.now();
    match (state.finish_offline(tx, now, outcome).await, rotated) {
        (_, Err(failed)) => Err(failed),
        (Ok(()), rotated) => rotated,
        (Err(unrecorded), Ok(_)) => Err(unrecorded),
    }
}

/// Each stale card in its own short transaction (compare-and-set, so an unlock running
/// meanwhile is never overwritten); a few passes pick up those that changed under it.
async fn reseal_all(state: &AppState) -> Result<Rotated, AppError> {
    let kek = &state.kek;
    let mut rotated = Rotated {
        cards: 0,
        resealed: 0,
        changed: 0,
    };
    for _pass in 0..3 {
        let mut conn = state.store.pool.acquire().await.map_err(StoreError::from)?;
        let all = cards::all(&mut conn).await?;
        drop(conn);
        rotated.cards = all.len();
        rotated.changed = 0;
        for card in all.iter().filter(|card| stale(kek, card)) {
            let guid = card.guid;
            let again = |sealed: Option<&[u8]>, purpose: SealPurpose| {
                sealed
                    .map(|s| kek.reseal(s, &guid, purpose, purpose))
                    .transpose()
            };
            let puk = kek.reseal(&card.puk_enc, &guid, SealPurpose::Puk, SealPurpose::Puk)?;
            let pending = again(card.puk_next_enc.as_deref(), SealPurpose::PendingPuk)?;
            let channel = again(card.scp03_keys_enc.as_deref(), SealPurpose::ChannelKeys)?;
            let after = cards::Sealed {
                puk_enc: &puk,
                puk_next_enc: pending.as_deref(),
                scp03_keys_enc: channel.as_deref(),
            };
            let mut tx = state.store.begin().await?;
            if cards::reseal(&mut tx, card, &after).await? {
                rotated.resealed += 1;
            } else {
                rotated.changed += 1;
            }
            tx.commit().await.map_err(StoreError::from)?;
        }
        if rotated.changed == 0 {
            break;
        }
    }
    reseal_ca_key(state).await?;
    Ok(rotated)
}

/// The CA's key too (CERT-1), if an older KEK sealed it.
async fn reseal_ca_key(state: &AppState) -> Result<(), AppError> {
    let kek = &state.kek;
    let mut tx = state.store.begin().await?;
    if let Some(stored) = certificates::find_authority(&mut tx).await? {
        if Kek::version_of(&stored.key_enc) != Some(kek.current_version()) {
            let key = kek.open_ca_key(&stored.key_enc)?;
            certificates::set_authority_key(&mut tx, &kek.seal_ca_key(&key)?).await?;
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// RA-4: the rotation is a security event too, whether it finished, left cards for
/// another run, or failed.
fn decide_rotation(kek_version: u32, rotated: &Result<Rotated, AppError>) -> Outcome<()> {
    let outcome = Outcome::new(ROTATE, Subject::anonymous()).by("operator".into());
    match rotated {
        Ok(rotated) => outcome
            .detail(format!(
                "KEK version {kek_version}: {} of {} cards re-sealed, {} changed meanwhile",
                rotated.resealed, rotated.cards, rotated.changed
            ))
            .ok(
                if rotated.changed == 0 {
                    "ok"
                } else {
                    "incomplete"
                },
                (),
            ),
        Err(failed) => outcome
            .detail(format!("KEK version {kek_version}: {failed}"))
            .refuse(AppError::Invariant("rotation failed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_4_a_rotation_is_recorded_done_incomplete_or_failed() {
        let done = Rotated {
            cards: 3,
            resealed: 3,
            changed: 0,
        };
        let outcome = decide_rotation(2, &Ok(done));
        assert!(outcome.reply.is_ok());
        assert_eq!(
            outcome.audit_detail(),
            "KEK version 2: 3 of 3 cards re-sealed, 0 changed meanwhile"
        );
        let failed = decide_rotation(2, &Err(AppError::Invariant("a test")));
        assert!(failed.reply.is_err());
        assert!(failed.audit_detail().contains("a test"));
    }
}
