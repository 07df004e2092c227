//! RA-4: the audit trail is append-only in the database, and `audit verify` finds any
//! row edited or removed by someone who could get round that (the file's owner, a DBA).

use server::store::audit::{verify, Verified};

use crate::both;
use crate::helpers::*;

/// Some audited history: a whole unlock and a refused stranger.
pub async fn history(app: &TestApp) -> TestCard {
    let card = app.enroll(true).await;
    let (id, code) = app.up_to_code(&card).await;
    app.finish_unlock(&card, &id, &code, "hist1").await;
    app.start(api_types::CardGuid::from_bytes([0xEE; 16]))
        .await
        .unwrap_err();
    card
}

/// What the owner of the database can always do: switch the guards off.
pub async fn bypass_guards(app: &TestApp, db: Db) {
    let pool = &app.state.store.pool;
    let statements: &[&str] = match db {
        Db::Sqlite => &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
            "DROP TRIGGER audit_chain_heads_forward_only",
            "DROP TRIGGER audit_checkpoints_forward_only",
        ],
        Db::Postgres => &[
            "ALTER TABLE audit_log DISABLE TRIGGER USER",
            "ALTER TABLE audit_chain_heads DISABLE TRIGGER USER",
            "ALTER TABLE audit_checkpoints DISABLE TRIGGER USER",
        ],
    };
    for statement in statements {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
}

async fn second_event_of_a_chain(app: &TestApp) -> i64 {
    #[derive(sqlx::FromRow)]
    struct Seq {
        seq: i64,
    }
    sqlx::query_as::<_, Seq>("SELECT seq FROM audit_log WHERE chain_seq = 2 ORDER BY seq LIMIT 1")
        .fetch_one(&app.state.store.pool)
        .await
        .unwrap()
        .seq
}

// RA-4: the database itself refuses to change or remove an audit event.
async fn ra_4_the_audit_log_refuses_updates_and_deletes(db: Db) {
    let app = TestApp::spawn(db).await;
    history(&app).await;
    let pool = &app.state.store.pool;
    let before = app.count("audit_log").await;
    for statement in [
        "UPDATE audit_log SET outcome = 'ok'",
        "DELETE FROM audit_log",
        "DELETE FROM audit_chain_heads",
        "UPDATE audit_chain_heads SET chain_seq = 0",
    ] {
        let refused = sqlx::query(statement).execute(pool).await;
        assert!(refused.is_err(), "{statement} was allowed");
    }
    assert_eq!(app.count("audit_log").await, before);
    assert_eq!(
        verify(pool, &app.state.audit_key).await.unwrap(),
        Verified::Intact {
            rows: usize::try_from(before).unwrap()
        }
    );
}
both!(ra_4_the_audit_log_refuses_updates_and_deletes);

// RA-4: an edited event is found, by its row, even by someone who recomputed plain hashes
// (the links are keyed); a removed event is found at the row after the gap.
async fn ra_4_audit_verify_names_the_first_edited_or_removed_row(db: Db) {
    let app = TestApp::spawn(db).await;
    history(&app).await;
    bypass_guards(&app, db).await;
    let pool = &app.state.store.pool;
    let key = &app.state.audit_key;
    let target = second_event_of_a_chain(&app).await;
    sqlx::query("UPDATE audit_log SET outcome = 'unlocked' WHERE seq = $1")
        .bind(target)
        .execute(pool)
        .await
        .unwrap();
    assert!(matches!(
        verify(pool, key).await.unwrap(),
        Verified::Broken { seq: Some(seq), .. } if seq == target
    ));

    let app = TestApp::spawn(db).await;
    history(&app).await;
    bypass_guards(&app, db).await;
    let pool = &app.state.store.pool;
    #[derive(sqlx::FromRow)]
    struct Link {
        chain: i64,
    }
    let target = second_event_of_a_chain(&app).await;
    let Link { chain } = sqlx::query_as::<_, Link>("SELECT chain FROM audit_log WHERE seq = $1")
        .bind(target)
        .fetch_one(pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(target)
        .execute(pool)
        .await
        .unwrap();
    let verified = verify(pool, &app.state.audit_key).await.unwrap();
    assert!(
        matches!(verified, Verified::Broken { chain: c, .. } if c == chain),
        "{verified:?}"
    );
}
both!(ra_4_audit_verify_names_the_first_edited_or_removed_row);

/// Appends `actor`'s event to `chain` as the code before migration 0028 did (into the first
/// chains, by the actor's first digest byte modulo 16), linked under the audit key.
async fn append_as_before_0028(app: &TestApp, chain: i64, actor: &str) {
    use server::store::audit::{locked_head, write_link, AuditEntry, Link};
    let (backend, key) = (app.state.store.backend, &app.state.audit_key);
    let mut conn = app.state.store.acquire().await.unwrap();
    let entry = AuditEntry {
        actor: actor.to_owned(),
        action: "auth.login".into(),
        outcome: "ok".into(),
        card_guid: None,
        user_uuid: None,
        client_addr: None,
        detail: String::new(),
    };
    let head = locked_head(&mut conn, backend, chain).await.unwrap();
    let link = Link::after(key, head, 1_700_000_000, &entry);
    write_link(&mut conn, backend, &link).await.unwrap();
}

// RA-4 (issue 22): events written into the first 16 chains before there were 256 more
// still verify there, beside the new ones; in any other first chain they are found.
async fn ra_4_events_from_before_the_256_chains_verify_in_their_first_chain(db: Db) {
    use sha2::{Digest, Sha256};
    let app = TestApp::spawn(db).await;
    history(&app).await;
    let pool = &app.state.store.pool;
    let actor = "0123456789abcdef0123456789abcdef";
    let first_chain = i64::from(Sha256::digest(actor)[0]) % 16;
    append_as_before_0028(&app, first_chain, actor).await;
    let Verified::Intact { rows } = verify(pool, &app.state.audit_key).await.unwrap() else {
        panic!("the trail with an event from before 0028 did not verify");
    };
    assert_eq!(rows, app.count("audit_log").await as usize);

    let elsewhere = (first_chain + 1) % 16;
    append_as_before_0028(&app, elsewhere, actor).await;
    let verified = verify(pool, &app.state.audit_key).await.unwrap();
    assert!(
        matches!(verified, Verified::Broken { chain, .. } if chain == elsewhere),
        "{verified:?}"
    );
}
both!(ra_4_events_from_before_the_256_chains_verify_in_their_first_chain);

// RA-4: `smartcard-server audit verify`, as an operator runs it: exit 0 on an intact
// trail; non-zero, naming the row, once an event was edited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ra_4_the_audit_verify_command_exits_non_zero_naming_the_bad_row() {
    let app = TestApp::spawn(Db::Sqlite).await;
    history(&app).await;
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_smartcard-server"))
            .args(["audit", "verify"])
            .env("SCSS_DATABASE_URL", &app.db.url)
            .env("SCSS_KEK_HEX", "11".repeat(32))
            .env("SCSS_AUDIT_KEY_HEX", "22".repeat(32))
            .env("SCSS_CODE_PEPPER_HEX", "33".repeat(32))
            .env("SCSS_GRANT_KEY_HEX", "44".repeat(32))
            .output()
            .unwrap()
    };
    let intact = run();
    assert!(intact.status.success(), "{intact:?}");
    assert!(String::from_utf8_lossy(&intact.stdout).contains("audit trail intact"));
    bypass_guards(&app, Db::Sqlite).await;
    let target = second_event_of_a_chain(&app).await;
    sqlx::query("UPDATE audit_log SET client_addr = '10.9.9.9' WHERE seq = $1")
        .bind(target)
        .execute(&app.state.store.pool)
        .await
        .unwrap();
    let broken = run();
    assert!(!broken.status.success());
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(
        stderr.contains(&format!("broken at row {target} ")),
        "{stderr}"
    );
    // A different key cannot vouch for the trail either.
    let wrong_key = std::process::Command::new(env!("CARGO_BIN_EXE_smartcard-server"))
        .args(["audit", "verify"])
        .env("SCSS_DATABASE_URL", &app.db.url)
        .env("SCSS_KEK_HEX", "11".repeat(32))
        .env("SCSS_AUDIT_KEY_HEX", "44".repeat(32))
        .env("SCSS_CODE_PEPPER_HEX", "33".repeat(32))
        .env("SCSS_GRANT_KEY_HEX", "44".repeat(32))
        .output()
        .unwrap();
    assert!(!wrong_key.status.success());
}

// RA-4, OPS-6: deployed as deploy/postgres/grants.sql says, the service runs as a role
// that can add to the audit trail but not change it, nor change the schema: a whole
// unlock works, every table has its grant, and that role's UPDATE, DELETE and TRUNCATE on
// the log are refused by the database's rights (not only by the triggers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ra_4_the_postgres_service_role_cannot_change_the_audit_trail() {
    use sqlx::{Connection, Row};
    let owner = TestApp::spawn(Db::Postgres).await; // migrates as the owner
    let role = format!("scss_app_{}", rand::random::<u32>());
    let db_name = owner.db.url.rsplit('/').next().unwrap().to_owned();
    let mut admin = sqlx::PgConnection::connect(&owner.db.url).await.unwrap();
    sqlx::query(&format!("CREATE ROLE {role} LOGIN"))
        .execute(&mut admin)
        .await
        .unwrap();
    let granted = std::process::Command::new("psql")
        .args([owner.db.url.as_str(), "-q", "-v", "ON_ERROR_STOP=1", "-v"])
        .arg(format!("app={role}"))
        .arg("-f")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../deploy/postgres/grants.sql"
        ))
        .output()
        .expect("psql (cargo xtask setup installs postgresql-client)");
    assert!(
        granted.status.success(),
        "{}",
        String::from_utf8_lossy(&granted.stderr)
    );
    // A migration's new table needs its line in grants.sql: one missed fails here.
    let ungranted: Vec<String> = sqlx::query(
        "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public' \
         AND NOT has_table_privilege($1, format('%I.%I', schemaname, tablename), 'SELECT')",
    )
    .bind(&role)
    .fetch_all(&mut admin)
    .await
    .unwrap()
    .iter()
    .map(|row| row.get("name"))
    .collect();
    assert!(ungranted.is_empty(), "not in grants.sql: {ungranted:?}");
    let as_role = format!("postgres://{role}@127.0.0.1:5432/{db_name}");
    let app = owner
        .restart_with(|s| {
            s.database_url = as_role.clone();
            s.migrate_on_start = false;
        })
        .await;
    let card = app.enroll(true).await;
    let (id, code) = app.up_to_code(&card).await;
    app.finish_unlock(&card, &id, &code, "role1").await;
    // The background check moves the checkpoints as this role.
    let (checked, _) = app.state.check_audit_trail().await.unwrap();
    assert!(matches!(
        checked,
        server::store::audit_check::Checked::UpTo { unchecked: 0, .. }
    ));
    let mut conn = sqlx::PgConnection::connect(&as_role).await.unwrap();
    for statement in [
        "UPDATE audit_log SET outcome = 'ok'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER USER",
        "DELETE FROM audit_checkpoints",
        "CREATE TABLE mine (id BIGINT)",
        "DROP TABLE users",
    ] {
        let error = sqlx::query(statement).execute(&mut conn).await.unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("permission denied") || message.contains("must be owner"),
            "{statement}: {message}"
        );
    }
    drop(conn);
    app.state.store.pool.close().await;
    sqlx::query(&format!("DROP OWNED BY {role}"))
        .execute(&mut admin)
        .await
        .unwrap();
    drop(admin);
    let mut cluster = sqlx::PgConnection::connect("postgres://postgres@127.0.0.1:5432/test")
        .await
        .unwrap();
    let _ = sqlx::query(&format!("DROP DATABASE {db_name} WITH (FORCE)"))
        .execute(&mut cluster)
        .await;
    sqlx::query(&format!("DROP ROLE {role}"))
        .execute(&mut cluster)
        .await
        .unwrap();
}
