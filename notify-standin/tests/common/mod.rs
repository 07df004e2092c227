//! What the stand-in's HTTP tests share: the keys and templates they start it with, and
//! a client's calls. The JWTs are signed here with hmac and sha2, apart from both the
//! stand-in's check (jsonwebtoken) and the server's client.

// Each test file uses its own part of this module.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use notify_standin::auth::ApiKey;
use notify_standin::templates::Templates;
use notify_standin::Standin;
use serde_json::{json, Value};
use sha2::Sha256;

pub const KEY: &str =
    "tests-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0";
pub const SERVICE: &str = "26785a09-ab16-4eb0-8407-a37497a57506";
pub const SECRET: &str = "3d844edf-8d35-48ac-975b-e847b4f122b0";
pub const OTHER_KEY: &str =
    "other-9b1f3c2e-5a4d-4e6f-8a7b-1c2d3e4f5a6b-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
pub const OTHER_SERVICE: &str = "9b1f3c2e-5a4d-4e6f-8a7b-1c2d3e4f5a6b";
pub const OTHER_SECRET: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
pub const TEMPLATE: &str = "4a3b9a10-6d1e-4c5e-9d7a-2f1b8c3e5a01";
pub const EMAIL_TEMPLATE: &str = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";

pub fn templates_toml() -> String {
    format!(
        "[[template]]\nid = \"{TEMPLATE}\"\ntype = \"sms\"\nname = \"otp\"\n\
         body = \"Code ((code)) for ((minutes)) minutes\"\n\n\
         [[template]]\nid = \"{EMAIL_TEMPLATE}\"\ntype = \"email\"\nname = \"otp mail\"\n\
         subject = \"Your code, ((name))\"\nbody = \"Code ((code))\"\n"
    )
}

pub async fn standin() -> String {
    let templates = Templates::parse(&templates_toml()).unwrap();
    let keys = vec![
        ApiKey::parse(KEY).unwrap(),
        ApiKey::parse(OTHER_KEY).unwrap(),
    ];
    let (addr, _) = notify_standin::spawn(
        Standin::new(keys, templates),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    format!("http://{addr}")
}

/// An HS256 JWT as Notify's documentation describes it, signed by hand.
pub fn jwt_for(service: &str, secret: &str, iat: i64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
    let claims = URL_SAFE_NO_PAD.encode(json!({"iss": service, "iat": iat}).to_string());
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{header}.{claims}").as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{header}.{claims}.{signature}")
}

pub fn jwt(secret: &str, iat: i64) -> String {
    jwt_for(SERVICE, secret, iat)
}

pub async fn post(base: &str, kind: &str, token: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/v2/notifications/{kind}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

pub async fn sms(base: &str, token: &str, body: Value) -> (u16, Value) {
    post(base, "sms", token, body).await
}

pub async fn get(base: &str, token: &str, id: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{base}/v2/notifications/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

pub async fn listed(base: &str, query: &str) -> Value {
    reqwest::get(format!("{base}/_standin/messages{query}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub fn text_to(number: &str) -> Value {
    json!({
        "phone_number": number,
        "template_id": TEMPLATE,
        "personalisation": {"code": "<script>ABC</script>", "minutes": 10},
        "reference": "row-1",
    })
}

pub fn first_error(body: &Value) -> (&str, &str) {
    (
        body["errors"][0]["error"].as_str().unwrap_or_default(),
        body["errors"][0]["message"].as_str().unwrap_or_default(),
    )
}
