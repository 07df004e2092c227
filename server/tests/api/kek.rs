//! CARD-3 / ALL-7: the KEK rotates without losing a card: values sealed under the old key
//! stay readable during the rotation, `rotate-kek` re-seals them all, and afterwards the
//! new key alone unlocks every card.

use server::secrets::Kek;
use server::store::cards;

use crate::both;
use crate::helpers::*;

const NEW_KEK: &str = "44444444444444444444444444444444444444444444444444444444444444aa";

async fn kek_versions(app: &TestApp) -> Vec<Option<u32>> {
    let mut conn = app.state.store.pool.acquire().await.unwrap();
    cards::all(&mut conn)
        .await
        .unwrap()
        .iter()
        .flat_map(|card| {
            std::iter::once(Kek::version_of(&card.puk_enc))
                .chain(card.puk_next_enc.as_deref().map(Kek::version_of))
        })
        .chain(std::iter::once(
            server::store::certificates::find_authority(&mut conn)
                .await
                .unwrap()
                .and_then(|ca| Kek::version_of(&ca.key_enc)),
        ))
        .collect()
}

// ALL-7: a full rotation, with a pending PUK mid-unlock, keeps every card unlockable.
async fn all_7_kek_rotation_keeps_every_card_unlockable(db: Db) {
    let old = TestApp::spawn(db).await;
    let calm = old.enroll(true).await;
    let busy = old.enroll(true).await;
    // An unlock half done under the old KEK: a pending PUK sealed with version 1.
    let (busy_id, busy_code) = old.up_to_code(&busy).await;
    old.code(&busy_id, &busy_code).await.unwrap();
    let busy_script = old.sealed_script(&busy, &busy_id).await;
    assert!(kek_versions(&old).await.iter().all(|v| *v == Some(1)));

    let rotating = old
        .restart_with(|s| {
            s.kek_hex = NEW_KEK.into();
            s.kek_version = 2;
            s.previous_keks = format!("1:{}", "11".repeat(32)).into();
        })
        .await;
    let rotated = server::rotate::rotate_kek(&rotating.state).await.unwrap();
    assert_eq!(
        (rotated.cards, rotated.resealed, rotated.changed),
        (2, 2, 0)
    );
    assert!(kek_versions(&rotating).await.iter().all(|v| *v == Some(2)));
    // Nothing left on a second run.
    let again = server::rotate::rotate_kek(&rotating.state).await.unwrap();
    assert_eq!(again.resealed, 0);

    // The new key alone: the half-done unlock finishes (adopting its pending PUK), and a
    // fresh unlock of the other card works end to end.
    let new_only = old
        .restart_with(|s| {
            s.kek_hex = NEW_KEK.into();
            s.kek_version = 2;
        })
        .await;
    new_only.adopt_flow(&old, &busy_id);
    let responses = busy.relay(&busy_script.relay);
    let updated = new_only.complete(&busy_id, responses, false).await.unwrap();
    assert!(updated.card_updated);
    busy.change_pin(&busy_script, "rot8");
    let done = new_only.complete(&busy_id, Vec::new(), true).await.unwrap();
    assert!(done.unlocked);
    let (id, code) = new_only.up_to_code(&calm).await;
    new_only.finish_unlock(&calm, &id, &code, "after1").await;
    calm.card.with_card(|c| assert!(c.pin_matches("after1")));

    // The old key alone can no longer read the cards, nor the CA's key: a server with
    // only that key refuses to start, saying why.
    let stale = server::AppState::new(
        (*old.state.settings).clone(),
        std::sync::Arc::new(server::TestClock::new(START)),
    )
    .await;
    assert!(matches!(stale, Err(server::StartError::Ca(_))));
}
both!(all_7_kek_rotation_keeps_every_card_unlockable);
