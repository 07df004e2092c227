//! ALL-2: bad input anywhere gets a clear error, and nothing half-written stays.

use api_types::pages::SETTINGS_ELEMENT_ID;
use api_types::unlock::{Answer, Answers, AnswersRequest, CardProofRequest, Code, Config, Start};
use api_types::values::{BoundedVec, CardSignature, SecurityAnswer};
use api_types::{Endpoint, ErrorCode};
use serde_json::json;

use crate::both;
use crate::helpers::*;

async fn all_2_malformed_input_is_refused_and_nothing_is_written(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let attempts = app.count("unlock_attempts").await;
    let audit = app.count("audit_log").await;
    // Bodies no typed request can be (a bad GUID, an unknown field, not an object): raw
    // JSON on purpose.
    for (body, status) in [
        (json!({ "card_guid": "zz" }), 400),
        (json!({ "card_guid": "abcd" }), 400),
        (json!({ "card_guid": "ab".repeat(200) }), 400),
        (json!({ "card_guid": card.guid.to_hex(), "extra": 1 }), 400),
        (json!({ "guid": card.guid.to_hex() }), 400),
        (json!([1, 2, 3]), 400),
    ] {
        let (got, error) = app.post_raw(Start::ROUTE, &body).await;
        assert_eq!(got, status, "{body} → {error}");
        assert_eq!(error["code"], "bad_request", "{error}");
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    // Larger than the body limit, whatever it holds: raw JSON on purpose.
    let huge = app
        .client
        .post(app.url(Start::ROUTE))
        .header("origin", ORIGIN)
        .json(&json!({ "card_guid": "a".repeat(20_000) }))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    // Paths no attempt id can fill (and one well-formed id of no attempt).
    let proof = CardProofRequest {
        signature: CardSignature::from_bytes(vec![0]).unwrap(),
    };
    for path in [
        "/api/unlock/not-an-id/card-proof",
        "/api/unlock/0123456789abcdef0123456789abcdef/card-proof",
        "/api/unlock/../../etc/passwd/card-proof",
    ] {
        let (status, error) = app.post_raw(path, &proof).await;
        assert_eq!(status, 404, "{path} → {error}");
        assert_eq!(error["code"], "not_found");
    }
    assert_eq!(app.count("unlock_attempts").await, attempts);
    let (id, proof) = app.start_and_prove(&card).await;
    let proof = proof.unwrap();
    // Answers to questions that were not asked, or twice, are refused without counting.
    let unasked = AnswersRequest {
        answers: BoundedVec::new(vec![Answer {
            question_id: 19,
            answer: SecurityAnswer::parse("x").unwrap(),
        }])
        .unwrap(),
    };
    let refused = app.step::<Answers>(&id, &unasked).await.unwrap_err();
    assert_eq!(refused.status, 400, "{refused:?}");
    // An answer too long, too many answers, a code with a letter: no typed request can
    // hold them, so raw JSON on purpose.
    for body in [
        json!({ "answers": [{ "question_id": 1, "answer": "x".repeat(201) }] }),
        json!({ "answers": vec![json!({ "question_id": 1, "answer": "x" }); 5] }),
    ] {
        let (status, _) = app.post_raw(&Answers::path(&id), &body).await;
        assert_eq!(status, 400);
    }
    let (status, _) = app
        .post_raw(&Code::path(&id), &json!({ "code": "12a456" }))
        .await;
    assert_eq!(status, 400);
    assert_eq!(app.count("unlock_attempts").await, attempts + 1);
    assert!(app.count("audit_log").await > audit);
    // Nothing counted against the user.
    assert_eq!(proof.attempts_left, 3);
    assert_eq!(app.counters(&card).await.answer_failures, 0);
    app.answer(&id, &proof, true).await.unwrap();
}
both!(all_2_malformed_input_is_refused_and_nothing_is_written);

// RA-4 / ALL-5: a step on an attempt that does not exist is refused and still recorded —
// tied to nobody, as one more in its window's tally, which becomes an audit event when
// the window closes.
async fn ra_4_a_step_on_an_unknown_attempt_is_tallied_then_rolled_into_the_trail(db: Db) {
    let app = TestApp::spawn(db).await;
    let before = app.count("audit_log").await;
    let unknown = api_types::AttemptId::from_bytes([7; 16]);
    let refused = app.channel(&unknown).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NotFound);
    assert_eq!(app.count("refusal_tally").await, 1);
    app.clock
        .advance(i64::from(app.state.settings.rate_limit_window_secs));
    app.state.sweep_rate_limits().await.unwrap();
    assert_eq!(app.count("audit_log").await, before + 1);
    let events = app.anonymous_events().await;
    assert!(events
        .iter()
        .any(|(action, outcome, detail)| action == "unlock.channel"
            && outcome == "not_found"
            && detail.starts_with("refused 1 times")));
}
both!(ra_4_a_step_on_an_unknown_attempt_is_tallied_then_rolled_into_the_trail);

#[tokio::test]
async fn all_2_serves_each_audiences_page_with_real_404s_for_missing_assets() {
    let dir = std::env::temp_dir().join(format!("scss-spa-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let html = |page: &str| format!("<html><head></head><body>{page}</body></html>");
    std::fs::write(dir.join("index.html"), html("spa")).unwrap();
    std::fs::write(dir.join("app.js"), "export default 1").unwrap();
    let db = std::sync::Arc::new(TestApp::spawn(Db::Sqlite).await.db.clone());
    let app = TestApp::on(
        (*db).clone(),
        std::sync::Arc::new(server::TestClock::new(START)),
        Some(dir.clone()),
    )
    .await;
    let get = |path: &str| app.client.get(app.url(path)).send();
    // Issue 18: every page carries the organisation's settings, as `/api/config` answers
    // them, so its first screen needs no round trip.
    let config = get(Config::ROUTE).await.unwrap().text().await.unwrap();
    let with_settings = |page: &str| {
        format!(
            "<html><head><script type=\"application/json\" id=\"{SETTINGS_ELEMENT_ID}\">{config}</script></head><body>{page}</body></html>"
        )
    };
    let page = get("/unlock").await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("connect-src 'self' http://127.0.0.1:9981 ws://127.0.0.1:9981"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(page.headers()["cross-origin-opener-policy"], "same-origin");
    let permissions = page.headers()["permissions-policy"].to_str().unwrap();
    for feature in ["camera=()", "microphone=()", "geolocation=()", "usb=()"] {
        assert!(permissions.contains(feature), "{permissions}");
    }
    assert_eq!(page.headers()["cache-control"], "no-cache");
    assert_eq!(page.text().await.unwrap(), with_settings("spa"));
    // Issue 18: each audience's paths get its own entry's page, and so its own WASM: the
    // unlock page never loads the RA console.
    std::fs::write(dir.join("account.html"), html("account")).unwrap();
    std::fs::write(dir.join("ra.html"), html("ra")).unwrap();
    std::fs::write(dir.join("renew.html"), html("renew")).unwrap();
    for (path, page) in [
        ("/index.html", "spa"),
        ("/account.html", "account"),
        ("/", "spa"),
        ("/unlock", "spa"),
        ("/nowhere", "spa"),
        ("/login?next=/ra", "account"),
        ("/my-card", "account"),
        ("/register", "account"),
        ("/not-me", "account"),
        ("/check-setup", "account"),
        ("/renew", "renew"),
        ("/ra", "ra"),
        ("/ra/users/555555555501", "ra"),
        ("/ra/audit?user=555555555501", "ra"),
        ("/ra/reports", "ra"),
    ] {
        let served = get(path).await.unwrap();
        assert_eq!(served.status(), 200, "{path}");
        assert_eq!(served.text().await.unwrap(), with_settings(page), "{path}");
    }
    assert_eq!(
        app.client
            .post(app.url("/unlock"))
            .header("origin", ORIGIN)
            .json(&1)
            .send()
            .await
            .unwrap()
            .status(),
        405
    );
    assert_eq!(get("/app.js").await.unwrap().status(), 200);
    assert_eq!(get("/nope.js").await.unwrap().status(), 404);
    let wrong_method = get(Start::ROUTE).await.unwrap();
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(
        wrong_method.json::<serde_json::Value>().await.unwrap()["code"],
        "method_not_allowed"
    );
    let api = get("/api/nope").await.unwrap();
    assert_eq!(api.status(), 404);
    assert_eq!(
        api.json::<serde_json::Value>().await.unwrap()["code"],
        "not_found"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn all_2_bad_settings_are_clear_startup_errors() {
    let mut settings = settings("sqlite://x.db");
    settings.kek_hex = "abc".into();
    assert!(settings
        .validate()
        .unwrap_err()
        .to_string()
        .contains("kek_hex"));
    let mut settings = crate::helpers::settings("sqlite://x.db");
    settings.questions_per_unlock = 5;
    assert!(settings
        .validate()
        .unwrap_err()
        .to_string()
        .contains("questions_per_unlock"));
    let mut settings = crate::helpers::settings("mysql://x");
    assert!(settings.validate().is_err());
    settings.database_url = "sqlite://x.db".into();
    settings.bridge_url = "javascript:alert(1)".into();
    assert!(settings
        .validate()
        .unwrap_err()
        .to_string()
        .contains("bridge_url"));
}

// ALL-6 (issue 17, item 11): a public origin on plain http:// anywhere but this computer
// is a start-up error — its cookies could be neither __Host- nor Secure.
#[test]
fn all_6_a_plain_http_public_origin_is_refused_unless_on_this_computer() {
    let mut settings = settings("sqlite://x.db");
    for refused in [
        "http://selfservice.example.nhs.uk",
        "http://10.0.0.5:8080",
        "http://127.0.0.1.evil.example",
    ] {
        settings.public_origin = refused.into();
        let error = settings.validate().unwrap_err().to_string();
        assert!(
            error.contains("public_origin") && error.contains("https://"),
            "{refused}: {error}"
        );
    }
    for accepted in [
        "https://selfservice.example.nhs.uk",
        "http://localhost",
        "http://127.0.0.1:8080",
        "http://[::1]:8080",
    ] {
        settings.public_origin = accepted.into();
        assert!(settings.validate().is_ok(), "{accepted}");
    }
}

/// A request line sent as it is (HTTP clients tidy `..` away before sending).
async fn raw_status(app: &TestApp, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = format!("127.0.0.1:{}", app.port);
    let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn all_2_a_path_out_of_the_spa_is_404_whether_or_not_the_file_exists() {
    let base = std::env::temp_dir().join(format!("scss-probe-{}", rand::random::<u64>()));
    let dir = base.join("spa");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<html>spa</html>").unwrap();
    std::fs::write(dir.join("app.js"), "export default 1").unwrap();
    // A file beside the SPA's folder, which no request may find out about.
    std::fs::write(base.join("secret.conf"), "x").unwrap();
    let db = std::sync::Arc::new(TestApp::spawn(Db::Sqlite).await.db.clone());
    let app = TestApp::on(
        (*db).clone(),
        std::sync::Arc::new(server::TestClock::new(START)),
        Some(dir.clone()),
    )
    .await;
    assert_eq!(raw_status(&app, "/app.js").await, 200);
    for probe in [
        "/../secret.conf",
        "/../missing.conf",
        "/%2e%2e/secret.conf",
        "/%2E%2E/missing.conf",
        "/x/../../secret.conf",
        "/..%2fsecret.conf",
        "/../../etc/ld.so.conf",
    ] {
        assert_eq!(raw_status(&app, probe).await, 404, "{probe}");
    }
    let _ = std::fs::remove_dir_all(&base);
}

// ALL-2 / ALL-5 (issue 17, item 11): a client that connects and sends nothing (or half a
// request) is cut off after the header timeout, and no more than `max_connections` are
// served at once — so idle sockets cannot pile up; the one waiting is served once a
// place frees.
async fn all_2_idle_connections_are_cut_off_and_capped(db: Db) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(db, |s| s.max_connections = 1).await;
    let host = format!("127.0.0.1:{}", app.port);
    let started = std::time::Instant::now();
    let mut idle = tokio::net::TcpStream::connect(&host).await.unwrap();
    idle.write_all(b"GET /api/config HTTP/1.1\r\nHost: ")
        .await
        .unwrap();
    // The only place is taken: a real request waits for it.
    let waiting = tokio::spawn({
        let url = app.url("/api/config");
        async move { reqwest::get(url).await.map(|r| r.status()) }
    });
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        idle.read_to_end(&mut rest),
    );
    closed
        .await
        .expect("the idle connection is closed")
        .unwrap();
    let cut_off_after = started.elapsed();
    assert!(
        cut_off_after >= std::time::Duration::from_secs(9),
        "{cut_off_after:?}"
    );
    let status = waiting.await.unwrap().unwrap();
    assert_eq!(status, 200);
}
both!(all_2_idle_connections_are_cut_off_and_capped);
