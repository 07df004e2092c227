//! ALL-2 / BRG-2: arbitrary request bodies and headers to every endpoint, straight into
//! the router. Whatever arrives, the answer is a JSON error with a stable code (or a
//! success), never a panic, never a 5xx other than the card's own state.

use std::sync::Arc;

use api_types::bridge::{
    BRIDGE_HEADER, PATH_CHANGE_PIN, PATH_RUN_SCRIPT, PATH_SIGN_CHALLENGE, PATH_STATUS,
};
use axum::body::Body;
use axum::http::Request;
use card_bridge::routes::{router, AppState};
use card_bridge::security::Security;
use card_bridge::simulated::SimulatedAccess;
use card_bridge::CardWorker;
use proptest::prelude::*;
use tokio::sync::broadcast;
use tower::ServiceExt;

use crate::helpers::{new_card, ORIGIN};

const PORT: u16 = 9981;

fn app() -> axum::Router {
    let (events, _) = broadcast::channel(4);
    let card = new_card(false);
    router(AppState {
        worker: CardWorker::spawn(Box::new(SimulatedAccess::new(card))).unwrap(),
        events,
        security: Arc::new(Security::new(PORT, vec![ORIGIN.to_owned()])),
    })
}

fn json_field() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        any::<String>().prop_map(serde_json::Value::from),
        "[0-9a-f]{0,80}".prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
        prop::collection::vec("[0-9a-fA-F]{0,40}", 0..12)
            .prop_map(|v| serde_json::json!({ "apdus": v })),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        prop::collection::btree_map(
            prop_oneof![
                Just("challenge".to_owned()),
                Just("expected_guid".to_owned()),
                Just("script".to_owned()),
                Just("current_pin".to_owned()),
                Just("new_pin".to_owned()),
                "[a-z_]{1,12}",
            ],
            json_field(),
            0..5,
        )
        .prop_map(|m| serde_json::to_vec(&m).unwrap_or_default()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    #[test]
    fn any_request_gets_a_clear_answer(
        path in prop::sample::select(vec![PATH_STATUS, PATH_SIGN_CHALLENGE, PATH_RUN_SCRIPT, PATH_CHANGE_PIN, "/v1/x"]),
        method in prop::sample::select(vec!["GET", "POST", "PUT", "OPTIONS"]),
        content_type in prop::sample::select(vec!["application/json", "text/plain", "application/json; charset=utf-8", ""]),
        body in body(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let mut request = Request::builder()
                .method(method)
                .uri(path)
                .header("host", format!("127.0.0.1:{PORT}"))
                .header("origin", ORIGIN)
                .header(BRIDGE_HEADER, "1")
                .header("access-control-request-method", "POST");
            if !content_type.is_empty() {
                request = request.header("content-type", content_type);
            }
            let response = app().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
            let status = response.status();
            prop_assert!(
                !status.is_server_error() || status == 502 || status == 503,
                "{method} {path} gave {status}"
            );
            if status.is_client_error() {
                let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap();
                let error: api_types::ApiError = serde_json::from_slice(&bytes)
                    .map_err(|e| TestCaseError::fail(format!("{method} {path} {status}: not an ApiError: {e}")))?;
                prop_assert!(!error.message.is_empty());
            }
            Ok(())
        })?;
    }
}
