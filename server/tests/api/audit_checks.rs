//! RA-4 (issue 17, item 4): the trail is checked incrementally from MACed per-chain
//! checkpoints — by the RA's page (a bounded number of new events) and the background
//! check — reading only what is new, while `audit verify` still walks every chain from its
//! start. Whoever can write the database but lacks the audit key is found out either way.

use api_types::ra::{Audit, AuditFilter, ChainState, Role};
use server::store::audit::Verified;
use server::store::audit_check::{verify_counted, Checked, BATCH};

use crate::audit::{bypass_guards, history};
use crate::both;
use crate::helpers::*;
use crate::ra::{as_ra, signed_in};

/// The background check, as the sweeper runs it.
async fn check(app: &TestApp) -> (Checked, u64) {
    let (checked, reads) = app.state.check_audit_trail().await.unwrap();
    assert!(reads.most_at_once <= BATCH as u64);
    (checked, reads.rows)
}

async fn total(app: &TestApp) -> u64 {
    app.count("audit_log").await as u64
}

/// What the RA's first page of the trail says.
async fn page(app: &TestApp, cookie: &str) -> ChainState {
    let page = as_ra::<Audit>(app, cookie, &(), &AuditFilter::default()).await;
    page.unwrap().chain.unwrap()
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    chain: i64,
    chain_seq: i64,
}

/// The newest event: in no checkpoint yet after [`checked_then_more`].
async fn newest(app: &TestApp) -> Row {
    sqlx::query_as::<_, Row>(
        "SELECT seq, chain, chain_seq FROM audit_log ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&app.state.store.pool)
    .await
    .unwrap()
}

/// Runs a tamperer's statement on a row's chain (`$1`) and place in it (`$2`).
async fn tamper(app: &TestApp, statement: &str, row: &Row) {
    sqlx::query(statement)
        .bind(row.chain)
        .bind(row.chain_seq)
        .execute(&app.state.store.pool)
        .await
        .unwrap();
}

// RA-4: a checkpoint advances as the check goes, and the next check reads only the events
// after it — none when nothing happened, exactly the new ones when something did.
async fn ra_4_the_checkpoint_advances_and_the_next_check_reads_only_new_events(db: Db) {
    let app = TestApp::spawn(db).await;
    history(&app).await;
    let before = total(&app).await;
    let (checked, _) = check(&app).await;
    assert_eq!(
        checked,
        Checked::UpTo {
            verified: before,
            unchecked: 0
        }
    );
    assert_eq!(check(&app).await.1, 0, "nothing new, nothing read");
    history(&app).await;
    let after = total(&app).await;
    assert!(after > before);
    let (checked, read) = check(&app).await;
    assert_eq!(read, after - before, "only the new events are read");
    assert_eq!(
        checked,
        Checked::UpTo {
            verified: after,
            unchecked: 0
        }
    );
    #[derive(sqlx::FromRow)]
    struct Sum {
        verified: i64,
    }
    let Sum { verified } = sqlx::query_as::<_, Sum>(
        "SELECT CAST(SUM(chain_seq) AS BIGINT) AS verified FROM audit_checkpoints",
    )
    .fetch_one(&app.state.store.pool)
    .await
    .unwrap();
    assert_eq!(verified as u64, after);
    // The page reports the checkpoints, having checked what came since (its own sign-in).
    let (_, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let signed_in_at = total(&app).await;
    assert_eq!(
        page(&app, &cookie).await,
        ChainState::Intact {
            rows: signed_in_at,
            unchecked: 0
        }
    );
    // The database refuses to move a checkpoint back or remove it.
    for statement in [
        "UPDATE audit_checkpoints SET chain_seq = 0",
        "DELETE FROM audit_checkpoints",
    ] {
        let refused = sqlx::query(statement).execute(&app.state.store.pool).await;
        assert!(refused.is_err(), "{statement} was allowed");
    }
}
both!(ra_4_the_checkpoint_advances_and_the_next_check_reads_only_new_events);

/// Some history checked, then more not yet checked: what a tamperer finds.
async fn checked_then_more(db: Db) -> (TestApp, String) {
    let app = TestApp::spawn(db).await;
    let (_, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    history(&app).await;
    assert!(matches!(
        check(&app).await.0,
        Checked::UpTo { unchecked: 0, .. }
    ));
    history(&app).await;
    bypass_guards(&app, db).await;
    (app, cookie)
}

/// The background check, `audit verify` and the page each find the fault. The page goes
/// last: reading the trail is itself an event (RA-4), written after its check, and it may
/// land on the very chain that was cut.
async fn all_find(app: &TestApp, cookie: &str, seq: Option<i64>, chain: i64, reason: &'static str) {
    assert_eq!(check(app).await.0, Checked::Broken { seq, chain, reason });
    let (verified, reads) = verify_counted(&app.state.store.pool, &app.state.audit_key)
        .await
        .unwrap();
    assert_eq!(verified, Verified::Broken { seq, chain, reason });
    assert!(reads.most_at_once <= BATCH as u64);
    assert_eq!(
        page(app, cookie).await,
        ChainState::Broken {
            seq,
            chain,
            reason: reason.to_owned()
        }
    );
}

// RA-4: an event edited after the last checkpoint is found at its row, by the page, the
// background check and `audit verify` alike.
async fn ra_4_an_edited_event_is_found_by_every_check(db: Db) {
    let (app, cookie) = checked_then_more(db).await;
    let row = newest(&app).await;
    tamper(
        &app,
        "UPDATE audit_log SET outcome = 'ok' WHERE chain = $1 AND chain_seq = $2",
        &row,
    )
    .await;
    let edited = "its contents do not match its MAC";
    all_find(&app, &cookie, Some(row.seq), row.chain, edited).await;
}
both!(ra_4_an_edited_event_is_found_by_every_check);

// RA-4: the last event of a chain removed (its head still counts it) is found as the chain
// stopping short, by every check.
async fn ra_4_a_removed_last_event_is_found_by_every_check(db: Db) {
    let (app, cookie) = checked_then_more(db).await;
    let row = newest(&app).await;
    tamper(
        &app,
        "DELETE FROM audit_log WHERE chain = $1 AND chain_seq = $2",
        &row,
    )
    .await;
    let short = "its rows stop short of the chain's head";
    all_find(&app, &cookie, None, row.chain, short).await;
}
both!(ra_4_a_removed_last_event_is_found_by_every_check);

// RA-4: a checkpoint moved forward over events never checked, by someone without the audit
// key, is not trusted: its MAC fails, and every check says so.
async fn ra_4_a_forged_checkpoint_is_found_by_every_check(db: Db) {
    let (app, cookie) = checked_then_more(db).await;
    let row = newest(&app).await;
    tamper(
        &app,
        "INSERT INTO audit_checkpoints (chain, chain_seq, mac, checked_at, checkpoint_mac) \
         SELECT chain, chain_seq, mac, 0, '00' FROM audit_log WHERE chain = $1 AND chain_seq = $2 \
         ON CONFLICT (chain) DO UPDATE SET chain_seq = excluded.chain_seq, mac = excluded.mac",
        &row,
    )
    .await;
    let forged = "its checkpoint's MAC does not hold";
    all_find(&app, &cookie, None, row.chain, forged).await;
}
both!(ra_4_a_forged_checkpoint_is_found_by_every_check);

// RA-4: a chain cut back past its checkpoint, its head moved back to match (what the full
// walk alone could not tell from a shorter trail), is found: the checkpoint vouches for
// events that are gone.
async fn ra_4_a_chain_cut_back_past_its_checkpoint_is_found_by_every_check(db: Db) {
    let (app, cookie) = checked_then_more(db).await;
    #[derive(sqlx::FromRow)]
    struct Checkpoint {
        chain: i64,
        chain_seq: i64,
    }
    let checkpoint = sqlx::query_as::<_, Checkpoint>(
        "SELECT chain, chain_seq FROM audit_checkpoints WHERE chain_seq > 1 \
         ORDER BY chain_seq DESC LIMIT 1",
    )
    .fetch_one(&app.state.store.pool)
    .await
    .unwrap();
    let cut = Row {
        seq: 0,
        chain: checkpoint.chain,
        chain_seq: checkpoint.chain_seq,
    };
    tamper(
        &app,
        "DELETE FROM audit_log WHERE chain = $1 AND chain_seq >= $2",
        &cut,
    )
    .await;
    tamper(
        &app,
        "UPDATE audit_chain_heads SET chain_seq = $2 - 1, mac = (SELECT mac FROM audit_log \
         WHERE chain = $1 AND chain_seq = $2 - 1) WHERE chain = $1",
        &cut,
    )
    .await;
    let behind = "its head is behind its verified checkpoint";
    all_find(&app, &cookie, None, cut.chain, behind).await;
}
both!(ra_4_a_chain_cut_back_past_its_checkpoint_is_found_by_every_check);
