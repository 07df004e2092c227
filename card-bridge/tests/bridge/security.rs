//! BRG-1 / BRG-2: who may talk to the bridge, and how.

use api_types::bridge::{
    PATH_CARD_LOGIN, PATH_CHANGE_PIN, PATH_SIGN_CHALLENGE, PATH_STATUS, PATH_VERIFY_PIN,
};
use bridge_grant::Operation;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::*;

#[tokio::test]
async fn brg_1_listens_on_loopback_only() {
    let bridge = start_simulated(false).await;
    // Not reachable on another local address of the machine.
    let other = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("10.255.255.255:9").map(|_| s))
        .and_then(|s| s.local_addr());
    if let Ok(addr) = other {
        if !addr.ip().is_loopback() && !addr.ip().is_unspecified() {
            let refused = std::net::TcpStream::connect((addr.ip(), bridge.port));
            assert!(refused.is_err(), "bridge reachable on {}", addr.ip());
        }
    }
}

#[tokio::test]
async fn brg_2_host_must_be_the_bridges_own_loopback_name() {
    let bridge = start_simulated(false).await;
    let port = bridge.port;
    for host in [
        format!("evil.example:{port}"),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        "127.0.0.1".to_owned(),
        format!("localhost.evil.example:{port}"),
    ] {
        let (status, text) = raw_http(
            port,
            &format!(
                "GET /v1/status HTTP/1.1\r\nHost: {host}\r\nOrigin: {ORIGIN}\r\n\
                 Content-Type: application/json\r\nx-card-bridge: 1\r\nConnection: close\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(status, 403, "host {host}");
        assert!(text.contains("host_not_allowed"), "{text}");
        assert!(!text
            .to_ascii_lowercase()
            .contains("access-control-allow-origin"));
    }
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let (status, _) = raw_http(
            port,
            &format!(
                "GET /v1/status HTTP/1.1\r\nHost: {host}\r\nOrigin: {ORIGIN}\r\n\
                 Content-Type: application/json\r\nx-card-bridge: 1\r\nConnection: close\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(status, 200, "host {host}");
    }
}

#[tokio::test]
async fn brg_2_origin_must_be_exactly_on_the_allow_list() {
    let bridge = start_simulated(false).await;
    let missing = bridge
        .client
        .get(bridge.url(PATH_STATUS))
        .header("content-type", "application/json")
        .header("x-card-bridge", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 403);
    assert_eq!(error_code(missing).await, "origin_not_allowed");

    for origin in [
        "http://evil.example",
        "http://127.0.0.1:8080.evil.example",
        "http://127.0.0.1:80800",
        "https://127.0.0.1:8080",
        "http://127.0.0.1:8080/",
        "null",
        "*",
    ] {
        let response = bridge
            .client
            .get(bridge.url(PATH_STATUS))
            .header("origin", origin)
            .header("content-type", "application/json")
            .header("x-card-bridge", "1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "origin {origin}");
        assert!(response
            .headers()
            .get("access-control-allow-origin")
            .is_none());
        assert_eq!(error_code(response).await, "origin_not_allowed");
    }

    let allowed = bridge.get(PATH_STATUS).send().await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(allowed.headers()["access-control-allow-origin"], ORIGIN);
    let vary: Vec<_> = allowed.headers().get_all("vary").iter().collect();
    assert!(vary.iter().any(|v| v.to_str().unwrap().contains("Origin")));
}

#[tokio::test]
async fn brg_2_no_simple_request_reaches_a_handler() {
    let bridge = start_simulated(false).await;
    // A form post: text/plain, no custom header.
    let form = bridge
        .client
        .post(bridge.url(PATH_SIGN_CHALLENGE))
        .header("origin", ORIGIN)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 403);
    assert_eq!(error_code(form).await, "missing_bridge_header");

    let wrong_type = bridge
        .client
        .post(bridge.url(PATH_SIGN_CHALLENGE))
        .header("origin", ORIGIN)
        .header("x-card-bridge", "1")
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 415);
    // The allowed page can read why.
    assert_eq!(wrong_type.headers()["access-control-allow-origin"], ORIGIN);
    assert_eq!(error_code(wrong_type).await, "unsupported_media_type");

    let get_without_type = bridge
        .client
        .get(bridge.url(PATH_STATUS))
        .header("origin", ORIGIN)
        .header("x-card-bridge", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(get_without_type.status(), 415);
}

#[tokio::test]
async fn brg_2_body_limit_and_unknown_fields() {
    let bridge = start_simulated(false).await;
    let huge = "a".repeat(64 * 1024);
    let response = bridge
        .post(
            PATH_SIGN_CHALLENGE,
            &serde_json::json!({ "challenge": huge }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(error_code(response).await, "payload_too_large");

    let response = bridge
        .post(
            PATH_SIGN_CHALLENGE,
            &serde_json::json!({ "challenge": "00".repeat(32), "apdu": "00A4" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "bad_request");

    let response = bridge
        .post(
            PATH_SIGN_CHALLENGE,
            &serde_json::json!({ "challenge": "zz" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    let response = bridge.get("/v1/nothing-here").send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(error_code(response).await, "not_found");
}

/// Malformed values a page (or anything else) might put in the typed fields.
const BAD_HEX: [&str; 5] = ["", "0", "zz", "0g", "\u{e9}\u{e9}"];
const BAD_PINS: [&str; 5] = ["", "123", "123456789", "12\u{e9}4", "12\t4"];

#[tokio::test]
async fn brg_2_a_malformed_challenge_guid_or_pin_is_a_bad_request_before_the_card_is_used() {
    let bridge = start_simulated(false).await;
    let before = bridge.card_state();
    let grant = bridge.grant(Operation::ChangePin, None);
    let challenge = "5a".repeat(32);
    let guid = hex::encode(bridge.guid());
    let login = json!({ "challenge": challenge, "pin": PIN, "expected_guid": guid });
    let sign = json!({ "challenge": challenge, "expected_guid": guid });
    let change = json!({ "grant": grant, "current_pin": PIN, "new_pin": "4321" });
    let with = |good: &Value, field: &str, value: Value| {
        let mut request = good.clone();
        request[field] = value;
        request
    };
    let mut bad: Vec<(&str, &str, Value)> = Vec::new();
    let challenges = BAD_HEX
        .iter()
        .map(|&hex| hex.to_owned())
        .chain(["5a".repeat(31), "5a".repeat(33)]);
    let guids = BAD_HEX
        .iter()
        .map(|&hex| hex.to_owned())
        .chain(["00".repeat(15), "00".repeat(17)]);
    for value in challenges.map(Value::from).chain([json!(7), json!(null)]) {
        bad.push((
            PATH_SIGN_CHALLENGE,
            "challenge",
            with(&sign, "challenge", value.clone()),
        ));
        bad.push((
            PATH_CARD_LOGIN,
            "challenge",
            with(&login, "challenge", value),
        ));
    }
    for value in guids.map(Value::from).chain([json!(7)]) {
        bad.push((
            PATH_SIGN_CHALLENGE,
            "expected_guid",
            with(&sign, "expected_guid", value.clone()),
        ));
        bad.push((
            PATH_CARD_LOGIN,
            "expected_guid",
            with(&login, "expected_guid", value),
        ));
    }
    for value in BAD_PINS.map(Value::from).into_iter().chain([json!(1234)]) {
        bad.push((PATH_CARD_LOGIN, "pin", with(&login, "pin", value.clone())));
        bad.push((PATH_VERIFY_PIN, "pin", json!({ "pin": value })));
        bad.push((
            PATH_CHANGE_PIN,
            "current_pin",
            with(&change, "current_pin", value.clone()),
        ));
        bad.push((PATH_CHANGE_PIN, "new_pin", with(&change, "new_pin", value)));
    }
    for (path, field, request) in &bad {
        let response = bridge.post(path, request).send().await.unwrap();
        let (status, error) = refusal(response).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (400, Some("bad_request")),
            "{path} {request}"
        );
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{path} {request}: {message}");
    }
    assert!(bridge.take_sent().is_empty(), "the card was used");
    assert_eq!(bridge.card_state(), before);
    // The same bodies with good values are served (the grant was not spent above).
    for (path, request) in [(PATH_SIGN_CHALLENGE, sign), (PATH_CHANGE_PIN, change)] {
        let response = bridge.post(path, &request).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
}

fn preflight(bridge: &TestBridge, origin: &str, headers: &str) -> reqwest::RequestBuilder {
    bridge
        .client
        .request(reqwest::Method::OPTIONS, bridge.url(PATH_SIGN_CHALLENGE))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", headers)
        .header("access-control-request-private-network", "true")
}

#[tokio::test]
async fn brg_2_preflight_and_private_network_access_only_for_allowed_origins() {
    let bridge = start_simulated(false).await;
    let ok = preflight(&bridge, ORIGIN, "content-type,x-card-bridge")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 204);
    let headers = ok.headers();
    assert_eq!(headers["access-control-allow-origin"], ORIGIN);
    assert_eq!(headers["access-control-allow-private-network"], "true");
    assert!(headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("x-card-bridge"));
    assert!(headers.get_all("vary").iter().any(|v| v == "Origin"));

    let evil = preflight(&bridge, "http://evil.example", "content-type,x-card-bridge")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    assert!(evil
        .headers()
        .get("access-control-allow-private-network")
        .is_none());

    let odd_header = preflight(&bridge, ORIGIN, "content-type,x-card-bridge,authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(odd_header.status(), 400);
}

async fn websocket(
    bridge: &TestBridge,
    origin: Option<&str>,
    host: Option<&str>,
) -> Result<serde_json::Value, u16> {
    let mut request = format!("ws://127.0.0.1:{}/v1/events", bridge.port)
        .into_client_request()
        .unwrap();
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
    }
    if let Some(host) = host {
        request.headers_mut().insert("host", host.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((mut socket, _)) => {
            let message = socket.next().await.unwrap().unwrap();
            Ok(serde_json::from_str(message.to_text().unwrap()).unwrap())
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(other) => panic!("unexpected websocket error {other}"),
    }
}

#[tokio::test]
async fn brg_2_websocket_upgrade_checks_origin_and_host_too() {
    let bridge = start_simulated(false).await;
    let snapshot = websocket(&bridge, Some(ORIGIN), None).await.unwrap();
    assert_eq!(snapshot["event"], "snapshot");
    assert_eq!(snapshot["status"]["backend"], "simulated");

    assert_eq!(websocket(&bridge, None, None).await, Err(403));
    assert_eq!(
        websocket(&bridge, Some("http://evil.example"), None).await,
        Err(403)
    );
    let rebound = format!("evil.example:{}", bridge.port);
    assert_eq!(
        websocket(&bridge, Some(ORIGIN), Some(&rebound)).await,
        Err(403)
    );
}
