//! OPS-3 request tracing: a request id on every response (the caller's only when it is
//! short and plain), one log line per request in its span, a 5xx with its cause chain —
//! and never a secret in the log (ALL-7).

use std::sync::Mutex;

use api_types::unlock::{Code, CodeRequest, Config, Health, Start, StartRequest};
use api_types::Endpoint;
use reqwest::header::HeaderValue;
use reqwest::{RequestBuilder, Response};
use serde_json::json;

use crate::both;
use crate::helpers::*;

const REQUEST_ID: &str = "x-request-id";

/// The id a response carries; it must be there.
fn request_id(response: &Response) -> String {
    let id = response
        .headers()
        .get(REQUEST_ID)
        .unwrap_or_else(|| panic!("{} has no request id", response.url()));
    id.to_str().unwrap().to_owned()
}

/// An id the server made itself: a UUID.
fn is_fresh(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok()
}

async fn ops_3_every_response_carries_a_request_id(db: Db) {
    let dir = std::env::temp_dir().join(format!("scss-spa-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<html>spa</html>").unwrap();
    std::fs::write(dir.join("app.js"), "export default 1").unwrap();
    let spa = dir.clone();
    let app = TestApp::spawn_with(db, move |s| s.static_dir = Some(spa)).await;
    let get = |path: &str| app.client.get(app.url(path));
    let post = |path: &str| app.client.post(app.url(path));
    let requests: Vec<(RequestBuilder, u16)> = vec![
        (get(Health::ROUTE), 200),
        (get("/unlock"), 200),
        (get("/app.js"), 200),
        (get("/nope.js"), 404),
        (get("/api/nope"), 404),
        (get(Start::ROUTE), 405),
        (post(Start::ROUTE).body("{}"), 415),
        // An empty object where a card's GUID belongs (malformed JSON on purpose), from
        // another origin and then from ours.
        (
            post(Start::ROUTE)
                .header("origin", "https://elsewhere.example")
                .json(&json!({})),
            403,
        ),
        (
            post(Start::ROUTE).header("origin", ORIGIN).json(&json!({})),
            400,
        ),
    ];
    let mut ids = Vec::new();
    for (request, status) in requests {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{}", response.url());
        let id = request_id(&response);
        assert!(is_fresh(&id), "{id}");
        ids.push(id);
    }
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "each request has its own id");
    let _ = std::fs::remove_dir_all(dir);
}
both!(ops_3_every_response_carries_a_request_id);

async fn ops_3_a_safe_incoming_request_id_is_echoed(db: Db) {
    let app = TestApp::spawn(db).await;
    let longest = "x".repeat(64);
    for (path, status) in [
        (Health::ROUTE, 200),
        ("/api/nope", 404),
        ("/elsewhere", 404),
    ] {
        for id in ["helpdesk-42", "A.b_c-9", longest.as_str()] {
            let response = app
                .client
                .get(app.url(path))
                .header(REQUEST_ID, id)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), status);
            assert_eq!(request_id(&response), id, "{path}");
        }
    }
}
both!(ops_3_a_safe_incoming_request_id_is_echoed);

async fn ops_3_an_unsafe_incoming_request_id_is_replaced(db: Db) {
    let app = TestApp::spawn(db).await;
    let too_long = "x".repeat(65);
    let unsafe_ids: Vec<HeaderValue> = [
        too_long.as_bytes(),
        b"two words",
        b"tab\there",
        b"a;b=c",
        b"<script>",
        b"\"quoted\"",
        "café".as_bytes(),
        b"",
    ]
    .into_iter()
    .map(|id| HeaderValue::from_bytes(id).unwrap())
    .collect();
    for id in &unsafe_ids {
        let response = app
            .client
            .get(app.url(Health::ROUTE))
            .header(REQUEST_ID, id.clone())
            .send()
            .await
            .unwrap();
        let answered = request_id(&response);
        assert!(is_fresh(&answered), "{id:?} came back as {answered}");
    }
    // Two ids, even plain ones: neither is taken.
    let response = app
        .client
        .get(app.url("/api/nope"))
        .header(REQUEST_ID, "first")
        .header(REQUEST_ID, "second")
        .send()
        .await
        .unwrap();
    assert!(is_fresh(&request_id(&response)));
}
both!(ops_3_an_unsafe_incoming_request_id_is_replaced);

/// Everything the server logs in this test process, as the real binary would at its
/// default level (nextest runs each test in its own process).
static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        LOG.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_log() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            server::trace::DEFAULT_LOG_FILTER,
        ))
        .with_ansi(false)
        .without_time()
        .with_writer(|| LogWriter)
        .try_init();
}

fn log_text() -> String {
    String::from_utf8_lossy(&LOG.lock().unwrap()).into_owned()
}

// OPS-3 / ALL-7: the helpdesk finds a request's line by its id — route template, attempt
// id, status, client — and a 5xx's cause under the same id; the flow cookie, the code, the
// answers and the query string are nowhere in the log.
async fn ops_3_the_log_finds_a_request_by_its_id_and_holds_no_secret(db: Db) {
    capture_log();
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, code) = app.up_to_code(&card).await;
    let cookie = app.flow_cookie(&id).unwrap();
    let flow_secret = cookie.split_once('=').unwrap().1.to_owned();
    let step_id = format!("ops3-{}", rand::random::<u64>());
    let response = app
        .request::<Code>(
            Some(&cookie),
            &id,
            &CodeRequest {
                code: code.clone().into(),
            },
        )
        .header(REQUEST_ID, &step_id)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(request_id(&response), step_id);
    let query_secret = format!("query-secret-{}", rand::random::<u64>());
    // A query the endpoint does not take, carrying a secret.
    let path = format!("{}?code={query_secret}", Config::ROUTE);
    let config = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(config.status(), 200);

    // A failure inside: the database goes away under the server.
    app.state.store.pool.close().await;
    let failed_id = format!("ops3-failed-{}", rand::random::<u64>());
    let start = StartRequest {
        card_guid: card.guid,
        route: Default::default(),
    };
    let failed = app
        .request::<Start>(None, &(), &start)
        .header(REQUEST_ID, &failed_id)
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 500);
    assert_eq!(request_id(&failed), failed_id);

    let log = log_text();
    let lines = |id: &str| -> Vec<String> {
        log.lines()
            .filter(|line| line.contains(&format!("request_id=\"{id}\"")))
            .map(str::to_owned)
            .collect()
    };
    let step = lines(&step_id);
    assert_eq!(step.len(), 1, "one line per request: {step:?}");
    assert!(step[0].trim_start().starts_with("INFO "), "{}", step[0]);
    for part in [
        "method=POST",
        "route=\"/api/unlock/{id}/code\"",
        &format!("id=\"{}\"", id.as_str()),
        "client=127.0.0.1",
        "answered",
        "status=200",
        "latency_ms=",
    ] {
        assert!(step[0].contains(part), "{part} missing from {}", step[0]);
    }
    let failure = lines(&failed_id);
    assert!(
        failure.iter().any(|line| line.starts_with("ERROR ")
            && line.contains("route=\"/api/unlock/start\"")
            && line.contains("closed pool")),
        "the cause is logged under the request id: {failure:?}"
    );
    assert!(failure.iter().any(|line| line.contains("status=500")));
    assert!(log.contains("route=\"/api/config\""), "{log}");
    let mut secrets = vec![flow_secret, code.expose().to_owned(), query_secret];
    secrets.extend(ANSWERS.iter().map(|(_, answer)| answer.to_uppercase()));
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "{secret} is in the log:\n{log}"
        );
    }
}
both!(ops_3_the_log_finds_a_request_by_its_id_and_holds_no_secret);
