//! RA-4 (issue 17, item 4), load-shaped: a million-event trail. The RA's first audit page
//! answers at once, however far behind the check is, and both the background check and
//! `audit verify` walk it a batch at a time, in flat memory.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use api_types::ra::{Audit, AuditFilter, AuditPage, ChainState, Role, EVENTS_PER_PAGE};
use server::ra::PAGE_CHECK;
use server::store::audit::{chain_of, link_mac, AuditEntry, Verified};
use server::store::audit_check::{verify_counted, Checked, BATCH};

use crate::both;
use crate::helpers::*;
use crate::ra::{as_ra, signed_in};

/// Rows per INSERT, and per transaction, of the bulk load.
const ROWS_PER_INSERT: u64 = 1_000;
const ROWS_PER_TX: u64 = 100_000;
/// How far memory may rise while a check walks the trail: a few batches' worth. Holding
/// the whole trail, as the check did before, takes hundreds of megabytes.
const FLAT: u64 = 64 << 20;

/// Appends `n` (a multiple of [`ROWS_PER_INSERT`]) events as `audit::append` would — each
/// linked under the audit key onto its chain's head — but a thousand rows per INSERT and
/// each head moved once at the end, which needs the heads' one-step guard lifted: done
/// here as the database's owner, and put back.
async fn bulk_append(app: &TestApp, db: Db, n: u64) {
    let pool = &app.state.store.pool;
    let key = &app.state.audit_key;
    #[derive(sqlx::FromRow)]
    struct Head {
        chain: i64,
        chain_seq: i64,
        mac: String,
    }
    let heads = sqlx::query_as::<_, Head>("SELECT chain, chain_seq, mac FROM audit_chain_heads")
        .fetch_all(pool)
        .await
        .unwrap();
    let mut tips: BTreeMap<i64, (i64, String)> = heads
        .into_iter()
        .map(|h| (h.chain, (h.chain_seq, h.mac)))
        .collect();
    let actors: Vec<(String, i64)> = (0..1024)
        .map(|i| format!("load:{i:04}"))
        .map(|actor| {
            let chain = chain_of(&actor);
            (actor, chain)
        })
        .collect();
    // SQLite looks a `$N` up by name in a list (quadratic in a statement's parameters);
    // anonymous `?` it takes by position.
    let groups: Vec<String> = (0..ROWS_PER_INSERT)
        .map(|r| {
            let params: Vec<String> = (1..=12)
                .map(|p| match db {
                    Db::Sqlite => "?".to_owned(),
                    Db::Postgres => format!("${}", r * 12 + p),
                })
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    let insert = format!(
        "INSERT INTO audit_log (at, actor, action, outcome, card_guid, user_uuid, client_addr, \
         detail, chain, chain_seq, prev_mac, mac) VALUES {}",
        groups.join(", ")
    );
    let mut tx = pool.begin().await.unwrap();
    let mut rows = Vec::with_capacity(ROWS_PER_INSERT as usize);
    for i in 0..n {
        let (actor, chain) = &actors[(i % 1024) as usize];
        let at = START + (i / 100) as i64;
        let entry = AuditEntry {
            actor: actor.clone(),
            action: "auth.login".into(),
            outcome: "ok".into(),
            card_guid: None,
            user_uuid: None,
            client_addr: Some("10.1.2.3".into()),
            detail: String::new(),
        };
        let tip = tips.get_mut(chain).unwrap();
        let chain_seq = tip.0 + 1;
        let mac = link_mac(key, &tip.1, *chain, chain_seq, at, &entry);
        let prev_mac = std::mem::replace(tip, (chain_seq, mac.clone())).1;
        rows.push((at, entry, *chain, chain_seq, prev_mac, mac));
        if rows.len() as u64 == ROWS_PER_INSERT {
            let mut query = sqlx::query(&insert);
            for (at, e, chain, chain_seq, prev_mac, mac) in rows.drain(..) {
                query = query
                    .bind(at)
                    .bind(e.actor)
                    .bind(e.action)
                    .bind(e.outcome)
                    .bind(e.card_guid)
                    .bind(e.user_uuid)
                    .bind(e.client_addr)
                    .bind(e.detail)
                    .bind(chain)
                    .bind(chain_seq)
                    .bind(prev_mac)
                    .bind(mac);
            }
            query.execute(&mut *tx).await.unwrap();
            if (i + 1) % ROWS_PER_TX == 0 {
                tx.commit().await.unwrap();
                tx = pool.begin().await.unwrap();
            }
        }
    }
    assert!(
        rows.is_empty(),
        "{n} is not a multiple of {ROWS_PER_INSERT}"
    );
    let (lift, restore): (&[&str], &[&str]) = match db {
        Db::Sqlite => (
            &["DROP TRIGGER audit_chain_heads_forward_only"],
            &[
                "CREATE TRIGGER audit_chain_heads_forward_only BEFORE UPDATE ON audit_chain_heads \
               WHEN NEW.chain_seq <> OLD.chain_seq + 1 OR NEW.chain <> OLD.chain \
               BEGIN SELECT RAISE(ABORT, 'audit chain heads only move forward by one'); END",
            ],
        ),
        Db::Postgres => (
            &["ALTER TABLE audit_chain_heads DISABLE TRIGGER USER"],
            &["ALTER TABLE audit_chain_heads ENABLE TRIGGER USER"],
        ),
    };
    for statement in lift {
        sqlx::query(statement).execute(&mut *tx).await.unwrap();
    }
    for (chain, (chain_seq, mac)) in tips {
        sqlx::query("UPDATE audit_chain_heads SET chain_seq = $1, mac = $2 WHERE chain = $3")
            .bind(chain_seq)
            .bind(mac)
            .bind(chain)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for statement in restore {
        sqlx::query(statement).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// This process's resident memory, in bytes.
fn resident() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib << 10
}

/// Runs `work` while sampling resident memory: its result and how far memory rose above
/// where it started, at the most.
async fn memory_rise<T>(work: impl Future<Output = T>) -> (T, u64) {
    let start = resident();
    let (peak, stop) = (
        Arc::new(AtomicU64::new(start)),
        Arc::new(AtomicBool::new(false)),
    );
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(resident(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let result = work.await;
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    (result, peak.load(Ordering::Relaxed).saturating_sub(start))
}

/// How many events each backend's trail gets. PostgreSQL gets 200,000: a million there
/// takes twice the minute a test may take on the 2-core test machine (loading 200,000
/// took 7 s, walking them 5–8 s), and what is shown — the page's bounded work, the walks'
/// batches — is the same code on both.
fn events(db: Db) -> u64 {
    match db {
        Db::Sqlite => 1_000_000,
        Db::Postgres => 200_000,
    }
}

/// A server whose trail holds [`events`] more events than its RA agent's sign-in, none
/// checked yet: the app, the agent's cookie, the events in all, and how long loading took.
async fn with_a_long_trail(db: Db) -> (TestApp, String, u64, Duration) {
    let app = TestApp::spawn(db).await;
    let (_, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let started = Instant::now();
    bulk_append(&app, db, events(db)).await;
    let built = started.elapsed();
    let total = app.count("audit_log").await as u64;
    assert!(total > events(db));
    (app, cookie, total, built)
}

/// The RA's first page of the whole trail, and how long it took to answer.
async fn first_page(app: &TestApp, cookie: &str) -> (AuditPage, Duration) {
    let started = Instant::now();
    let page = as_ra::<Audit>(app, cookie, &(), &AuditFilter::default()).await;
    let took = started.elapsed();
    (page.unwrap(), took)
}

// RA-4 (issue 17): with a million events none of them checked, the RA's first audit page
// answers well under a second — it checks a bounded part and says how much is left. The
// background check then walks the rest a batch at a time in flat memory, a page opened
// meanwhile still answers at once (SQLite's one connection is never held for more than a
// batch), and the next page says every event is verified.
async fn ra_4_a_million_event_trail_answers_its_first_page_at_once_and_checks_in_batches(db: Db) {
    let (app, cookie, total, built) = with_a_long_trail(db).await;
    let (page, first) = first_page(&app, &cookie).await;
    assert!(first < Duration::from_secs(1), "first page: {first:?}");
    assert_eq!(page.events.len(), EVENTS_PER_PAGE as usize);
    let Some(ChainState::Intact { rows, unchecked }) = page.chain else {
        panic!("{:?}", page.chain);
    };
    assert_eq!(rows + unchecked, total);
    let before = total - events(db);
    assert!(rows <= before + PAGE_CHECK, "the page checked {rows}");

    let started = Instant::now();
    let background = tokio::spawn({
        let state = app.state.clone();
        async move { state.check_audit_trail().await.unwrap() }
    });
    let meanwhile = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        first_page(&app, &cookie).await
    };
    let ((checked, during), rise) =
        memory_rise(async { tokio::join!(async { background.await.unwrap() }, meanwhile) }).await;
    let walked = started.elapsed();
    let ((checked, reads), (page, meanwhile)) = (checked, during);
    // Each of its reads may wait behind one batch's read: a few milliseconds in a release
    // build, tens in this debug one on a busy machine.
    assert!(
        meanwhile < Duration::from_secs(2),
        "a page meanwhile: {meanwhile:?}"
    );
    assert!(
        matches!(page.chain, Some(ChainState::Intact { .. })),
        "{:?}",
        page.chain
    );
    // Every event there, the two pages' own readings (RA-4) among them once written.
    let Checked::UpTo {
        verified,
        unchecked: 0,
    } = checked
    else {
        panic!("{checked:?}");
    };
    let now_there = app.count("audit_log").await as u64;
    assert!(
        total < verified && verified <= now_there,
        "{verified} of {total}..{now_there}"
    );
    assert!(reads.most_at_once <= BATCH as u64, "{reads:?}");
    assert!(rise < FLAT, "the background check took {rise} bytes more");

    let now_there = app.count("audit_log").await as u64;
    let (page, second) = first_page(&app, &cookie).await;
    assert!(second < Duration::from_secs(1), "second page: {second:?}");
    let verified = Some(ChainState::Intact {
        rows: now_there,
        unchecked: 0,
    });
    assert_eq!(page.chain, verified);
    eprintln!(
        "{db:?}: {total} events loaded in {built:?}; first page {first:?} ({rows} verified); \
         background check {walked:?} ({} rows in {} batches, memory +{} KiB), a page \
         meanwhile {meanwhile:?}; next page {second:?}",
        reads.rows,
        reads.batches,
        rise >> 10,
    );
}
both!(ra_4_a_million_event_trail_answers_its_first_page_at_once_and_checks_in_batches);

// RA-4 (issue 17): `audit verify` walks a million-event trail from the start of every
// chain, a batch at a time, in flat memory.
async fn ra_4_audit_verify_walks_a_million_event_trail_in_batches(db: Db) {
    let (app, _, total, _) = with_a_long_trail(db).await;
    let started = Instant::now();
    let pool = &app.state.store.pool;
    let (verified, rise) = memory_rise(verify_counted(pool, &app.state.audit_key)).await;
    let walked = started.elapsed();
    let (verified, reads) = verified.unwrap();
    assert_eq!(
        verified,
        Verified::Intact {
            rows: total as usize
        }
    );
    assert_eq!(reads.rows, total);
    assert!(reads.most_at_once <= BATCH as u64, "{reads:?}");
    assert!(rise < FLAT, "audit verify took {rise} bytes more");
    eprintln!(
        "{db:?}: audit verify {walked:?} ({} rows in {} batches, memory +{} KiB)",
        reads.rows,
        reads.batches,
        rise >> 10,
    );
}
both!(ra_4_audit_verify_walks_a_million_event_trail_in_batches);
