//! Operating an instance (OPS-2, OPS-4, OPS-5), tried as an operator and a load balancer
//! would: probe it, scrape it after a flow, and stop it with SIGTERM mid-request.

use std::time::Duration;

use api_types::ops::{Check, Readiness, HEALTHZ, READYZ};
use api_types::unlock::{Start, StartRequest};
use api_types::{CardGuid, Endpoint, ErrorCode};
use server::mail::templates::Mail;
use server::ops::health::QUEUE_STUCK_AFTER_SECS;
use server::store::outbox;
use server::Clock;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::both;
use crate::helpers::*;
use crate::process::ServerProcess;

/// A port nothing listens on: an SMTP relay that is down.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn readiness(app: &TestApp) -> (u16, Readiness) {
    let response = app.client.get(app.url(READYZ)).send().await.unwrap();
    let status = response.status().as_u16();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (status, response.json().await.unwrap())
}

async fn ops_4_readyz_is_ready_until_a_queue_is_stuck_and_says_which(db: Db) {
    let app = TestApp::spawn_with(db, |s| s.smtp_port = closed_port()).await;
    let health = app.client.get(app.url(HEALTHZ)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let (status, ready) = readiness(&app).await;
    assert_eq!(status, 200, "{ready:?}");
    assert!(ready.ready && !ready.draining);
    assert_eq!(
        [
            ready.database,
            ready.schema,
            ready.email_queue,
            ready.sms_queue
        ],
        [Check::Ok; 4]
    );

    // A mail the relay never takes: moving, then stuck.
    let now = app.clock.now();
    let mut tx = app.state.store.begin().await.unwrap();
    let mail = Mail {
        to: "someone@nhs.net".into(),
        subject: "Your smartcard has been unlocked".into(),
        text: "text".into(),
        html: "<p>text</p>".into(),
        expires_at: None,
    };
    outbox::queue(&mut tx, now, &mail).await.unwrap();
    tx.commit().await.unwrap();
    app.clock.advance(QUEUE_STUCK_AFTER_SECS);
    assert_eq!(readiness(&app).await.0, 200, "waiting, not yet stuck");
    app.clock.advance(60);
    let (status, stuck) = readiness(&app).await;
    assert_eq!(status, 503);
    assert!(!stuck.ready);
    assert_eq!(
        (stuck.database, stuck.email_queue, stuck.sms_queue),
        (Check::Ok, Check::Stuck, Check::Ok)
    );
}
both!(ops_4_readyz_is_ready_until_a_queue_is_stuck_and_says_which);

/// One sample's value: the line of `name` whose labels include every one of `labels`.
fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let (labelled, value) = match rest.strip_prefix('{') {
            Some(rest) => rest.split_once("} ")?,
            None => ("", rest.strip_prefix(' ')?),
        };
        labels
            .iter()
            .all(|(label, want)| labelled.contains(&format!("{label}=\"{want}\"")))
            .then(|| value.trim().parse().ok())?
    })
}

async fn ops_2_metrics_are_scraped_apart_from_the_api_after_a_flow(db: Db) {
    let app = TestApp::spawn_with(db, |s| {
        s.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let card = app.enroll(true).await;
    let (id, proof) = app.start_and_prove(&card).await;
    let refused = app.answer(&id, &proof.unwrap(), false).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::WrongAnswers);
    app.state.run_jobs().await.unwrap();

    let port = app.metrics_port.expect("a metrics listener");
    let scraped = app
        .client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = scraped.text().await.unwrap();
    let has = |name: &str, labels: &[(&str, &str)]| {
        sample(&text, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?} in\n{text}"))
    };
    let start = [
        ("route", Start::ROUTE),
        ("method", "POST"),
        ("status", "201"),
    ];
    assert!(has("http_requests_total", &start) >= 1.0);
    let buckets = [("route", Start::ROUTE), ("le", "+Inf")];
    assert!(has("http_request_duration_seconds_bucket", &buckets) >= 1.0);
    let wrong = [
        ("flow", "unlock"),
        ("step", "/api/unlock/{id}/answers"),
        ("outcome", "wrong_answers"),
    ];
    assert!(has("flow_outcomes_total", &wrong) >= 1.0);
    let proved = [
        ("flow", "unlock"),
        ("step", "/api/unlock/{id}/card-proof"),
        ("outcome", "ok"),
    ];
    assert!(has("flow_outcomes_total", &proved) >= 1.0, "{text}");
    assert_eq!(has("outbox_unsent", &[("channel", "sms")]), 0.0);
    has("outbox_oldest_age_seconds", &[("channel", "email")]);
    assert!(has("db_pool_max_connections", &[]) >= 1.0);
    has("db_pool_connections", &[("state", "idle")]);
    has("kdf_tasks", &[("state", "running")]);
    has("job_lag_seconds", &[]);
    has("job_last_run_failed", &[]);

    let on_the_api = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(
        on_the_api.status(),
        404,
        "metrics are not on the public port"
    );
}
both!(ops_2_metrics_are_scraped_apart_from_the_api_after_a_flow);

/// A `POST /api/unlock/start` whose body is sent in two halves: the request is in flight
/// between them.
fn start_request_halves() -> (Vec<u8>, Vec<u8>) {
    let body = serde_json::to_vec(&StartRequest {
        card_guid: CardGuid::from_bytes([7; 16]),
        route: Default::default(),
    })
    .unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nhost: 127.0.0.1\r\norigin: {ORIGIN}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n",
        Start::ROUTE,
        body.len()
    );
    let (first, second) = body.split_at(body.len() / 2);
    ([head.as_bytes(), first].concat(), second.to_vec())
}

async fn ops_5_sigterm_answers_the_request_in_flight_then_exits(db: Db) {
    let test_db = TestDb::new(db).await;
    let log = std::env::temp_dir().join(format!("scss-stop-{}.txt", rand::random::<u64>()));
    let (mut server, port) = ServerProcess::start(
        &test_db.url,
        &log,
        &[
            ("SCSS_SHUTDOWN_GRACE_SECS", "10"),
            ("SCSS_LOG_FORMAT", "json"),
        ],
    )
    .await;
    let (head, rest) = start_request_halves();
    let mut in_flight = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    in_flight.write_all(&head).await.unwrap();
    let mut idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0; 512];
    let mut healthy = Vec::new();
    while !healthy.ends_with(b"\r\n\r\nok") {
        let read = idle.read(&mut answer).await.unwrap();
        assert!(read > 0, "{}", String::from_utf8_lossy(&healthy));
        healthy.extend_from_slice(&answer[..read]);
    }
    assert!(healthy.starts_with(b"HTTP/1.1 200"));
    tokio::time::sleep(Duration::from_millis(200)).await;

    server.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        TcpStream::connect(("127.0.0.1", port)).await.is_err(),
        "a stopping instance takes no new connection"
    );
    let closed = tokio::time::timeout(Duration::from_secs(2), idle.read(&mut answer)).await;
    assert!(
        matches!(closed, Ok(Ok(0))),
        "an idle connection is closed: {closed:?}"
    );
    assert!(
        server
            .exited_within(Duration::from_millis(300))
            .await
            .is_none(),
        "it waits for the request in flight"
    );

    in_flight.write_all(&rest).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), in_flight.read_to_end(&mut response))
        .await
        .expect("the answer comes, then the connection closes")
        .unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 "), "{response}");
    assert!(response.contains("x-request-id: "), "{response}");
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(body).expect("the whole JSON answer");

    let exited = server.exited_within(Duration::from_secs(5)).await;
    assert!(exited.is_some_and(|status| status.success()), "{exited:?}");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("told to stop"), "{log}");
    assert!(log.contains("stopped cleanly"), "{log}");
}
both!(ops_5_sigterm_answers_the_request_in_flight_then_exits);

async fn ops_5_a_request_that_never_ends_is_cut_off_at_the_deadline(db: Db) {
    let test_db = TestDb::new(db).await;
    let log = std::env::temp_dir().join(format!("scss-stop-{}.txt", rand::random::<u64>()));
    let (mut server, port) =
        ServerProcess::start(&test_db.url, &log, &[("SCSS_SHUTDOWN_GRACE_SECS", "1")]).await;
    let (head, _never_sent) = start_request_halves();
    let mut stuck = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stuck.write_all(&head).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let told = std::time::Instant::now();
    server.terminate();
    let exited = server.exited_within(Duration::from_secs(10)).await;
    assert!(exited.is_some_and(|status| status.success()), "{exited:?}");
    assert!(
        told.elapsed() >= Duration::from_millis(900),
        "it waited the grace period"
    );
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("stopped at the deadline"), "{log}");
}
both!(ops_5_a_request_that_never_ends_is_cut_off_at_the_deadline);

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a serde_json::Value, found: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner.as_str()) {
                    ("$ref", Some(target)) => found.push(target),
                    _ => refs(inner, found),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
        _ => {}
    }
}

async fn ops_1_the_openapi_document_describes_every_endpoint(db: Db) {
    let app = TestApp::spawn(db).await;
    let response = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let document: serde_json::Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    let operations: Vec<(&String, &String, &serde_json::Value)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .iter()
                .map(move |(method, operation)| (path, method, operation))
        })
        .collect();
    assert!(operations.len() >= 53, "{} operations", operations.len());
    let mut ids: Vec<&str> = operations
        .iter()
        .map(|(_, _, op)| op["operationId"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "operation ids are unique");

    let start = &paths[Start::ROUTE]["post"];
    assert!(start["responses"]["201"].is_object(), "{start}");
    assert!(
        start["summary"].as_str().unwrap().starts_with("UNL-1"),
        "{start}"
    );
    let code = &paths["/api/unlock/{id}/code"]["post"];
    assert_eq!(code["parameters"][0]["in"], "path");
    assert_eq!(code["parameters"][0]["name"], "id");
    let limited = &code["responses"]["429"];
    assert!(limited["headers"]["Retry-After"].is_object(), "{limited}");
    let users = &paths["/api/ra/users"]["get"];
    assert!(
        users["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["in"] == "query"),
        "{users}"
    );
    assert!(paths["/readyz"]["get"]["responses"]["503"].is_object());

    let schemas = document["components"]["schemas"].as_object().unwrap();
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(found.len() > 100);
    for target in found {
        let name = target.strip_prefix("#/components/schemas/").unwrap();
        assert!(schemas.contains_key(name), "{target} is not defined");
    }
    let guid = &schemas["StartRequest"]["properties"]["card_guid"];
    let guid = guid.get("$ref").map_or(guid, |r| {
        &schemas[r
            .as_str()
            .unwrap()
            .trim_start_matches("#/components/schemas/")]
    });
    assert_eq!(guid["pattern"], "^[0-9a-fA-F]{32}$", "{guid}");
}
both!(ops_1_the_openapi_document_describes_every_endpoint);
