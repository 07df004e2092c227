//! PASS-1 / PASS-2 / PASS-3: Manage Passcodes through the real server, the card's part
//! done by the in-process card as the bridge would: one Update sets what is chosen
//! together, the current passcode proven on the card; a new card passcode waits for the
//! card, and a card that refuses it leaves every passcode as it was; the last five of
//! each server-side passcode are refused; the hashes are argon2id under a pepper.

use api_types::auth::{LoginStart, LoginStartRequest};
use api_types::passcodes::{
    AccountPasscode, FinishPasscodeUpdate, PasscodeChange, PasscodeUpdateFinish,
    PasscodeUpdateRequest, PasscodeUpdateStarted, PasscodesView, UpdatePasscodes, ViewPasscodes,
};
use api_types::values::CardSignature;
use api_types::ErrorCode;
use bridge_grant::{Expected, GrantVerifier, Operation};
use card_protocol::{Pin, PivClient, PivError};
use server::mail::passcodes::CHANGED_SUBJECT;
use server::Clock;

use crate::auth::{card_signs, login};
use crate::both;
use crate::helpers::*;

fn set(passcode: &str) -> PasscodeChange {
    PasscodeChange::Set(AccountPasscode::parse(passcode).unwrap())
}

/// One Update as the page sends it, the current passcode signed by `signs`.
async fn update_signed(
    app: &TestApp,
    card: &TestCard,
    cookie: &str,
    (account_recovery, verification, new_card_passcode): (PasscodeChange, PasscodeChange, bool),
    signs: impl Fn(&[u8; 32]) -> CardSignature,
) -> Result<PasscodeUpdateStarted, Refused> {
    let start = LoginStartRequest {
        card_guid: card.guid,
    };
    let (_, started) = app.send::<LoginStart>(None, &(), &start).await?;
    let request = PasscodeUpdateRequest {
        signature: signs(started.challenge.as_bytes()),
        login_id: started.login_id,
        account_recovery,
        verification,
        new_card_passcode,
    };
    app.send::<UpdatePasscodes>(Some(cookie), &(), &request)
        .await
        .map(|(_, started)| started)
}

pub(crate) async fn update(
    app: &TestApp,
    card: &TestCard,
    cookie: &str,
    changes: (PasscodeChange, PasscodeChange, bool),
) -> Result<PasscodeUpdateStarted, Refused> {
    update_signed(app, card, cookie, changes, |c| card_signs(card, c)).await
}

async fn view(app: &TestApp, cookie: &str) -> PasscodesView {
    app.send::<ViewPasscodes>(Some(cookie), &(), &())
        .await
        .unwrap()
        .1
}

/// The stored hashes: (kind, hash).
async fn stored(app: &TestApp, card: &TestCard) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT p.kind, p.hash FROM account_passcodes p JOIN cards c ON c.user_uuid = p.user_uuid \
         WHERE c.guid = $1 ORDER BY p.kind",
    )
    .bind(card.guid.to_hex())
    .fetch_all(&app.state.store.pool)
    .await
    .unwrap()
}

/// The bridge's part: CHANGE REFERENCE DATA from the current passcode to `new`.
fn card_changes_pin(card: &TestCard, new: &str) -> Result<(), PivError> {
    let mut piv = PivClient::new(card.card.clone());
    piv.select().unwrap();
    piv.change_pin(&Pin::parse(PIN).unwrap(), &Pin::parse(new).unwrap())
}

async fn pass_1_pass_2_one_update_sets_and_blanks_the_server_side_passcodes(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let (_, cookie) = login(&app, &card).await.unwrap();
    let before = view(&app, &cookie).await;
    assert!(!before.account_recovery_set && !before.verification_set);

    let both_set = (set("Recovery pass 1"), set("Verify pass 1"), false);
    let Ok(PasscodeUpdateStarted::Updated(after)) = update(&app, &card, &cookie, both_set).await
    else {
        panic!("server-side passcodes alone are set at once");
    };
    assert!(after.account_recovery_set && after.verification_set);
    assert_eq!(after.last_set_at, Some(app.clock.now()));
    assert_eq!(view(&app, &cookie).await, after);
    // Stored as peppered argon2id, never as typed.
    for (kind, hash) in stored(&app, &card).await {
        assert!(hash.starts_with("$argon2id$"), "{kind}: {hash}");
        assert!(!hash.contains("pass 1"), "{kind}");
    }
    let text = wait_for_mail(&card.email, CHANGED_SUBJECT).await;
    assert!(
        text.contains("Account Recovery Passcode, Verification Passcode"),
        "{text}"
    );
    assert!(!text.contains("pass 1"), "{text}");

    // "Blank passcode" removes one; leaving fields empty keeps the other.
    let blank = (PasscodeChange::Keep, PasscodeChange::Blank, false);
    let Ok(PasscodeUpdateStarted::Updated(blanked)) = update(&app, &card, &cookie, blank).await
    else {
        panic!("a blank is set at once");
    };
    assert!(blanked.account_recovery_set && !blanked.verification_set);
    assert_eq!(stored(&app, &card).await.len(), 1);

    // Nothing chosen: refused, and the card proof is spent for nothing else.
    let nothing = (PasscodeChange::Keep, PasscodeChange::Keep, false);
    let refused = update(&app, &card, &cookie, nothing).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NothingToUpdate);
}
both!(pass_1_pass_2_one_update_sets_and_blanks_the_server_side_passcodes);

async fn pass_2_a_new_card_passcode_waits_for_the_card_then_everything_is_set(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let (_, cookie) = login(&app, &card).await.unwrap();
    let all = (set("Recovery pass 1"), set("Verify pass 1"), true);
    let Ok(PasscodeUpdateStarted::CardNext { update_id, grant }) =
        update(&app, &card, &cookie, all).await
    else {
        panic!("a new card passcode is the card's to take first");
    };
    // Nothing is set until the card took it.
    assert!(stored(&app, &card).await.is_empty());
    // BRG-5: the grant is for changing this card's passcode, for this Update only.
    let verifier = GrantVerifier::from_hex(&app.state.grants.public_key_hex()).unwrap();
    let claims = verifier
        .check(
            Some(&grant),
            &Expected {
                origin: ORIGIN,
                operations: &[Operation::ChangePin],
                apdus: None,
                now: app.clock.now(),
            },
        )
        .unwrap();
    claims.check_card(card.guid.as_bytes()).unwrap();
    assert_eq!(claims.attempt, update_id.as_str());

    // CARD-5: the card refuses its current passcode as the new one; the page stops there.
    assert!(matches!(
        card_changes_pin(&card, PIN),
        Err(PivError::PinReused)
    ));
    assert!(stored(&app, &card).await.is_empty());
    // It takes a new one; then the rest of the Update is set, once.
    card_changes_pin(&card, "5678").unwrap();
    let finish = PasscodeUpdateFinish {};
    let (_, after) = app
        .send::<FinishPasscodeUpdate>(Some(&cookie), &update_id, &finish)
        .await
        .unwrap();
    assert!(after.account_recovery_set && after.verification_set);
    assert_eq!(stored(&app, &card).await.len(), 2);
    let text = wait_for_mail(&card.email, CHANGED_SUBJECT).await;
    assert!(text.contains("Smartcard Passcode"), "{text}");
    let again = app
        .send::<FinishPasscodeUpdate>(Some(&cookie), &update_id, &finish)
        .await
        .unwrap_err();
    assert_eq!(again.code(), ErrorCode::AttemptEnded);
    let mut piv = PivClient::new(card.card.clone());
    piv.select().unwrap();
    piv.verify_pin(&Pin::parse("5678").unwrap()).unwrap();
}
both!(pass_2_a_new_card_passcode_waits_for_the_card_then_everything_is_set);

async fn pass_2_an_update_the_card_never_took_lapses_and_is_no_one_elses(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let other = app.enroll_unlocked().await;
    let (_, cookie) = login(&app, &card).await.unwrap();
    let (_, others_cookie) = login(&app, &other).await.unwrap();
    let chosen = (PasscodeChange::Keep, set("Verify pass 1"), true);
    let Ok(PasscodeUpdateStarted::CardNext { update_id, .. }) =
        update(&app, &card, &cookie, chosen).await
    else {
        panic!("card next");
    };
    let finish = PasscodeUpdateFinish {};
    let theirs = app
        .send::<FinishPasscodeUpdate>(Some(&others_cookie), &update_id, &finish)
        .await
        .unwrap_err();
    assert_eq!(theirs.code(), ErrorCode::NotFound);
    app.clock.advance(10 * 60);
    let late = app
        .send::<FinishPasscodeUpdate>(Some(&cookie), &update_id, &finish)
        .await
        .unwrap_err();
    assert_eq!(late.code(), ErrorCode::AttemptExpired);
    assert!(stored(&app, &card).await.is_empty());
}
both!(pass_2_an_update_the_card_never_took_lapses_and_is_no_one_elses);

async fn pass_3_a_passcode_of_the_last_five_is_refused_per_passcode(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let (_, cookie) = login(&app, &card).await.unwrap();
    let verification = |n: u32| {
        (
            PasscodeChange::Keep,
            set(&format!("Verify pass {n}")),
            false,
        )
    };
    for n in 1..=5 {
        app.clock.advance(60);
        update(&app, &card, &cookie, verification(n)).await.unwrap();
    }
    for n in 1..=5 {
        let refused = update(&app, &card, &cookie, verification(n))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::VerificationPasscodeReused, "{n}");
    }
    // History is per passcode: the other may take the same value.
    let recovery = (set("Verify pass 1"), PasscodeChange::Keep, false);
    update(&app, &card, &cookie, recovery).await.unwrap();
    // A sixth pushes the first out of the five.
    app.clock.advance(60);
    update(&app, &card, &cookie, verification(6)).await.unwrap();
    app.clock.advance(60);
    update(&app, &card, &cookie, verification(1)).await.unwrap();
    // The five now: 3, 4, 5, 6 and 1 again.
    let refused = update(&app, &card, &cookie, verification(3))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::VerificationPasscodeReused);
    app.clock.advance(60);
    update(&app, &card, &cookie, verification(2)).await.unwrap();
}
both!(pass_3_a_passcode_of_the_last_five_is_refused_per_passcode);

async fn pass_2_without_the_cards_passcode_or_a_session_nothing_changes(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let other = app.enroll_unlocked().await;
    let (_, cookie) = login(&app, &card).await.unwrap();
    let chosen = || (set("Recovery pass 1"), PasscodeChange::Keep, true);
    let forged = update_signed(&app, &card, &cookie, chosen(), |c| card_signs(&other, c))
        .await
        .unwrap_err();
    assert_eq!(forged.code(), ErrorCode::CardNotGenuine);
    let forged_cookie = format!("{}=forged", cookie.split('=').next().unwrap());
    let signed_out = update_signed(&app, &card, &forged_cookie, chosen(), |c| {
        card_signs(&card, c)
    })
    .await
    .unwrap_err();
    assert_eq!(signed_out.code(), ErrorCode::NotSignedIn);
    assert!(stored(&app, &card).await.is_empty());
}
both!(pass_2_without_the_cards_passcode_or_a_session_nothing_changes);

async fn pass_2_every_combination_of_one_update_ends_as_chosen(db: Db) {
    let app = TestApp::spawn(db).await;
    let choices = ["keep", "blank", "set"];
    let mut n = 0;
    for recovery in choices {
        for verification in choices {
            for card_too in [false, true] {
                n += 1;
                let card = app.enroll_unlocked().await;
                let (_, cookie) = login(&app, &card).await.unwrap();
                // Both set first, so a blank has something to remove.
                let both = (set("Recovery pass 0"), set("Verify pass 0"), false);
                update(&app, &card, &cookie, both).await.unwrap();
                let change = |choice: &str, value: String| match choice {
                    "keep" => PasscodeChange::Keep,
                    "blank" => PasscodeChange::Blank,
                    _ => set(&value),
                };
                let chosen = (
                    change(recovery, format!("Recovery pass {n}")),
                    change(verification, format!("Verify pass {n}")),
                    card_too,
                );
                let nothing = recovery == "keep" && verification == "keep" && !card_too;
                let started = update(&app, &card, &cookie, chosen).await;
                if nothing {
                    assert_eq!(started.unwrap_err().code(), ErrorCode::NothingToUpdate);
                    continue;
                }
                let label = format!("{recovery}/{verification}/{card_too}");
                let view = match started.unwrap() {
                    PasscodeUpdateStarted::Updated(view) => {
                        assert!(!card_too, "{label}");
                        view
                    }
                    PasscodeUpdateStarted::CardNext { update_id, .. } => {
                        assert!(card_too, "{label}");
                        card_changes_pin(&card, "5678").unwrap();
                        app.send::<FinishPasscodeUpdate>(
                            Some(&cookie),
                            &update_id,
                            &PasscodeUpdateFinish {},
                        )
                        .await
                        .unwrap()
                        .1
                    }
                };
                assert_eq!(view.account_recovery_set, recovery != "blank", "{label}");
                assert_eq!(view.verification_set, verification != "blank", "{label}");
                let kinds: Vec<String> = stored(&app, &card)
                    .await
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect();
                assert_eq!(
                    kinds.len(),
                    view.account_recovery_set as usize + view.verification_set as usize,
                    "{label}"
                );
            }
        }
    }
}
both!(pass_2_every_combination_of_one_update_ends_as_chosen);
