//! ALL-2 / BRG-2: arbitrary request bodies and headers to every endpoint, straight into
//! the router. Whatever arrives, the answer is a JSON error with a stable code (or a
//! success), never a panic, never a 5xx other than the card's own state.

use api_types::bridge::{
    BRIDGE_HEADER, PATH_CARD_LOGIN, PATH_CHANGE_PIN, PATH_RELAY, PATH_SIGN_CHALLENGE, PATH_STATUS,
    PATH_VERIFY_PIN,
};
use axum::body::Body;
use axum::http::Request;
use bridge_grant::{GrantRequest, GrantSigner, GrantVerifier, Operation};
use card_bridge::grants::{Clock, Grants};
use card_bridge::routes::{router, AppState};
use card_bridge::security::Security;
use card_bridge::simulated::SimulatedAccess;
use card_bridge::CardWorker;
use proptest::prelude::*;
use tokio::sync::broadcast;
use tower::ServiceExt;

use crate::helpers::{new_card, NOW, ORIGIN};

const PORT: u16 = 9981;

/// The server key every well-signed grant in these cases uses.
fn signer() -> &'static GrantSigner {
    static SIGNER: std::sync::OnceLock<GrantSigner> = std::sync::OnceLock::new();
    SIGNER.get_or_init(GrantSigner::generate)
}

fn app() -> axum::Router {
    let (events, _) = broadcast::channel(4);
    let card = new_card(false);
    let verifier = GrantVerifier::from_hex(&signer().public_key_hex()).unwrap();
    router(AppState::new(
        CardWorker::spawn(Box::new(SimulatedAccess::new(card))).unwrap(),
        events,
        Security::new(PORT, vec![ORIGIN.to_owned()]),
        Grants::new(verifier, Clock::from_fn(|| NOW)),
        None,
    ))
}

/// A grant: well signed (for some card, operation and commands) or any text.
fn grant() -> impl Strategy<Value = serde_json::Value> {
    let operation = prop::sample::select(vec![
        Operation::OpenChannel,
        Operation::SealedScript,
        Operation::ChangePin,
    ]);
    prop_oneof![
        (
            operation,
            any::<[u8; 16]>(),
            prop::collection::vec(prop::collection::vec(any::<u8>(), 4..12), 1..3)
        )
            .prop_map(|(operation, card_guid, apdus)| {
                let apdus = (operation != Operation::ChangePin).then_some(apdus);
                serde_json::to_value(signer().grant(&GrantRequest {
                    origin: ORIGIN,
                    card_guid,
                    attempt: "fuzz",
                    operation,
                    apdus: apdus.as_deref(),
                    now: NOW,
                    lifetime_secs: 60,
                }))
                .unwrap_or_default()
            }),
        (any::<String>(), any::<String>()).prop_map(
            |(claims, signature)| serde_json::json!({ "claims": claims, "signature": signature })
        ),
    ]
}

fn json_field() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        any::<String>().prop_map(serde_json::Value::from),
        "[0-9a-f]{0,80}".prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<bool>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
        prop::collection::vec("[0-9a-fA-F]{0,40}", 0..12).prop_map(serde_json::Value::from),
        grant(),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        prop::collection::btree_map(
            prop_oneof![
                Just("challenge".to_owned()),
                Just("expected_guid".to_owned()),
                Just("apdus".to_owned()),
                Just("grant".to_owned()),
                Just("pin".to_owned()),
                Just("current_pin".to_owned()),
                Just("new_pin".to_owned()),
                Just("confirm_last_try".to_owned()),
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
        path in prop::sample::select(vec![PATH_STATUS, PATH_SIGN_CHALLENGE, PATH_RELAY, PATH_CHANGE_PIN, PATH_VERIFY_PIN, PATH_CARD_LOGIN, "/v1/card/run-script", "/v1/x"]),
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
