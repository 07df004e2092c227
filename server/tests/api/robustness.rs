//! ALL-2: bad input anywhere gets a clear error, and nothing half-written stays.

use serde_json::json;

use crate::both;
use crate::helpers::*;

async fn malformed_input_is_refused_and_nothing_is_written(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let attempts = app.count("unlock_attempts").await;
    let audit = app.count("audit_log").await;
    for (body, status) in [
        (json!({ "card_guid": "zz" }), 400),
        (json!({ "card_guid": "abcd" }), 400),
        (json!({ "card_guid": "ab".repeat(200) }), 400),
        (json!({ "card_guid": card.guid, "extra": 1 }), 400),
        (json!({ "guid": card.guid }), 400),
        (json!([1, 2, 3]), 400),
    ] {
        let (got, error) = app.post("/api/unlock/start", body.clone()).await;
        assert_eq!(got, status, "{body} → {error}");
        assert_eq!(error["code"], "bad_request", "{error}");
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    let not_json = app
        .client
        .post(app.url("/api/unlock/start"))
        .header("content-type", "text/plain")
        .body("card_guid=1")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let huge = app
        .client
        .post(app.url("/api/unlock/start"))
        .json(&json!({ "card_guid": "a".repeat(20_000) }))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    for path in [
        "/api/unlock/not-an-id/card-proof",
        "/api/unlock/0123456789abcdef0123456789abcdef/card-proof",
        "/api/unlock/../../etc/passwd/card-proof",
    ] {
        let (status, error) = app.post(path, json!({ "signature": "00" })).await;
        assert!(status == 404 || status == 400, "{path} → {status} {error}");
    }
    let (id, proof) = app.start_and_prove(&card).await;
    let attempts = attempts + 1;
    // Answers to questions that were not asked, or twice, are refused without counting.
    let (status, _) = app
        .post(
            &format!("/api/unlock/{id}/answers"),
            json!({ "answers": [{ "question_id": 19, "answer": "x" }] }),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = app
        .post(
            &format!("/api/unlock/{id}/code"),
            json!({ "code": "12a456" }),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(app.count("unlock_attempts").await, attempts);
    assert!(app.count("audit_log").await > audit);
    // Nothing counted against the user.
    assert_eq!(proof["body"]["attempts_left"], 3);
    let (status, _) = app.answer(&id, &proof, true).await;
    assert_eq!(status, 200);
}
both!(malformed_input_is_refused_and_nothing_is_written);

#[tokio::test]
async fn serves_the_spa_with_real_404s_for_missing_assets() {
    let dir = std::env::temp_dir().join(format!("scss-spa-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<html>spa</html>").unwrap();
    std::fs::write(dir.join("app.js"), "export default 1").unwrap();
    let db = std::sync::Arc::new(TestApp::spawn(Db::Sqlite).await.db.clone());
    let app = TestApp::on(
        (*db).clone(),
        std::sync::Arc::new(server::TestClock::new(START)),
        Some(dir.clone()),
    )
    .await;
    let get = |path: &str| app.client.get(app.url(path)).send();
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
    assert_eq!(page.text().await.unwrap(), "<html>spa</html>");
    assert_eq!(get("/app.js").await.unwrap().status(), 200);
    assert_eq!(get("/nope.js").await.unwrap().status(), 404);
    let wrong_method = get("/api/unlock/start").await.unwrap();
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
fn bad_settings_are_clear_startup_errors() {
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
