//! ALL-7, tried as a database reader and a log reader would: after a whole unlock, with
//! the real server binary logging at debug level, neither the database (every table,
//! every byte of the SQLite file) nor the log holds the unlock code, the one-time PIN,
//! either PUK or the new passcode, in clear or as hex.

use std::sync::Arc;
use std::time::Duration;

use server::config::LogFormat;
use server::{AppState, TestClock};
use sqlx::{Connection, Row};

use crate::both;
use crate::helpers::*;
use crate::process::ServerProcess;

/// What a reader must not find: each secret as text and as hex.
fn patterns(secrets: &[Vec<u8>]) -> Vec<(String, Vec<u8>)> {
    secrets
        .iter()
        .flat_map(|secret| {
            let text = String::from_utf8_lossy(secret).into_owned();
            [
                (text.clone(), secret.clone()),
                (format!("hex of {text}"), hex::encode(secret).into_bytes()),
            ]
        })
        .collect()
}

/// `log` with each line's RFC 3339 timestamp blanked: its microseconds are six digits,
/// which a six-digit code matches by chance about once in a million lines.
fn without_timestamps(log: &[u8]) -> Vec<u8> {
    const SHAPE: &[u8] = b"0000-00-00T00:00:00.";
    let fits = |at: usize| {
        log.get(at..at + SHAPE.len()).is_some_and(|part| {
            part.iter().zip(SHAPE).all(|(byte, shape)| match shape {
                b'0' => byte.is_ascii_digit(),
                _ => byte == shape,
            })
        })
    };
    let mut out = log.to_vec();
    let mut at = 0;
    while at < log.len() {
        if fits(at) {
            let mut end = at + SHAPE.len();
            while log.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
            out[at..end].fill(b' ');
            at = end;
        } else {
            at += 1;
        }
    }
    out
}

#[test]
fn all_7_the_log_search_skips_only_timestamps() {
    let log = b"2026-12-04T21:50:01.686754Z INFO code=686754 at 2026-12-04T21:50:01.1Z";
    let blanked = without_timestamps(log);
    assert_eq!(blanked.len(), log.len());
    let text = String::from_utf8(blanked).unwrap();
    assert_eq!(text.matches("686754").count(), 1, "{text}");
    assert!(!text.contains("2026"), "{text}");
}

fn assert_absent(place: &str, haystack: &[u8], patterns: &[(String, Vec<u8>)]) {
    for (name, needle) in patterns {
        assert!(
            !haystack
                .windows(needle.len())
                .any(|w| w == needle.as_slice()),
            "{name} found in {place}"
        );
    }
}

/// Every row of every table, as PostgreSQL renders it (bytea as hex).
async fn postgres_dump(url: &str) -> Vec<u8> {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|row| row.get::<String, _>("name"))
    .collect();
    assert!(tables.iter().any(|t| t == "outbox"));
    let mut dump = Vec::new();
    for table in tables {
        let rows = sqlx::query(&format!(
            "SELECT row_to_json(t)::text AS row FROM {table} t"
        ))
        .fetch_all(&mut conn)
        .await
        .unwrap();
        for row in rows {
            dump.extend(row.get::<String, _>("row").into_bytes());
        }
    }
    dump
}

async fn all_7_a_full_unlock_leaves_no_secret_in_the_database_or_the_log(db: Db) {
    full_unlock_leaves_no_secret(db, LogFormat::Text).await;
}
both!(all_7_a_full_unlock_leaves_no_secret_in_the_database_or_the_log);

/// OPS-3 and ALL-7: the JSON log says each request's id, route, status, latency and
/// client on one line, and no more of a secret than the text log does.
async fn ops_3_the_json_log_has_a_line_per_request_and_no_secret(db: Db) {
    full_unlock_leaves_no_secret(db, LogFormat::Json).await;
}
both!(ops_3_the_json_log_has_a_line_per_request_and_no_secret);

async fn full_unlock_leaves_no_secret(db: Db, log_format: LogFormat) {
    let test_db = Arc::new(TestDb::new(db).await);
    let log_path = std::env::temp_dir().join(format!("scss-log-{}.txt", rand::random::<u64>()));
    let format = match log_format {
        LogFormat::Text => "text",
        LogFormat::Json => "json",
    };
    let (_server, port) = ServerProcess::start(
        &test_db.url,
        &log_path,
        &[("RUST_LOG", "debug"), ("SCSS_LOG_FORMAT", format)],
    )
    .await;
    // The test enrolls through the library (as seed-demo does) and drives the binary, which
    // keeps real time: the card's certificates are issued now, so the binary finds them
    // current (CERT-5: the unlock's card proof needs a current 9E certificate).
    let now = server::Clock::now(&server::SystemClock);
    let state = AppState::new(settings(&test_db.url), Arc::new(TestClock::new(now)))
        .await
        .unwrap();
    let app = TestApp::attach(port, state, test_db.clone()).await;
    let card = app.enroll(true).await;
    let first_puk = card.puk_bytes();
    let (id, code) = app.up_to_code(&card).await;
    app.code(&id, &code).await.unwrap();
    let script = app.update_card(&card, &id).await;
    let passcode = "Pr1v@te!";
    card.change_pin(&script, passcode);
    assert!(app.complete(&id, Vec::new(), true).await.unwrap().unlocked);
    wait_for_mail(&card.email, "Your smartcard has been unlocked").await;
    let new_puk = card.puk_bytes();
    assert_ne!(new_puk, first_puk);
    for _ in 0..50 {
        if server::store::outbox::bodies_kept(&app.state.store.pool)
            .await
            .unwrap()
            == 0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let secrets = patterns(&[
        code.expose().as_bytes().to_vec(),
        script.one_time_pin.expose().as_bytes().to_vec(),
        first_puk,
        new_puk,
        passcode.as_bytes().to_vec(),
        app.state.ca.key_bytes().to_vec(),
    ]);
    drop(_server);
    let log = std::fs::read(&log_path).unwrap();
    assert!(log.len() > 1000, "the server logged at debug level");
    assert_absent("the server log", &without_timestamps(&log), &secrets);
    if log_format == LogFormat::Json {
        assert_each_request_logged_as_json(&log);
    }
    let _ = std::fs::remove_file(&log_path);
    match db {
        Db::Sqlite => {
            let file = test_db.url.trim_start_matches("sqlite://");
            let file = file.split('?').next().unwrap();
            app.state.store.pool.close().await;
            assert_absent("the SQLite file", &std::fs::read(file).unwrap(), &secrets);
        }
        Db::Postgres => {
            let dump = postgres_dump(&test_db.url).await;
            assert_absent("the PostgreSQL tables", &dump, &secrets);
        }
    }
}

/// Every line is one JSON object; each answered request's line carries its span.
fn assert_each_request_logged_as_json(log: &[u8]) {
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(log)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let answered: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|line| line["message"] == "answered")
        .collect();
    assert!(
        answered.len() >= 5,
        "one line per request: {}",
        answered.len()
    );
    for line in answered {
        let span = &line["span"];
        assert!(
            span["request_id"].as_str().is_some_and(|id| id.len() >= 8),
            "{line}"
        );
        assert!(
            span["route"].as_str().is_some_and(|r| r.starts_with('/')),
            "{line}"
        );
        assert_eq!(span["client"], "127.0.0.1", "{line}");
        assert!(line["status"].as_u64().is_some(), "{line}");
        assert!(line["latency_ms"].as_u64().is_some(), "{line}");
    }
}
