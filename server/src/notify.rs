//! SMS-1: GOV.UK Notify's v2 REST API, as its documentation gives it: `POST
//! /v2/notifications/sms` with a template id and personalisation, authenticated by a JWT
//! (HS256, `iss` the service id, `iat` now) signed with the API key's secret. The code
//! travels only as personalisation, and no part of a request reaches a log. Which
//! failures are worth another try is decided here ([`SendError`]); when, by the outbox
//! worker ([`crate::mail`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;

use crate::config::Settings;

/// An API key's two parts: `{key name}-{service id}-{secret}`, both ids UUIDs (36
/// characters), the key name free text.
pub struct ApiKey {
    service_id: String,
    secret: SecretString,
}

impl ApiKey {
    const ID_CHARS: usize = 36;

    pub fn parse(key: &str) -> Option<Self> {
        let len = key.len();
        let secret = key.get(len.checked_sub(Self::ID_CHARS)?..)?;
        let service_start = len.checked_sub(2 * Self::ID_CHARS + 1)?;
        let service_id = key.get(service_start..service_start + Self::ID_CHARS)?;
        let separated = key.get(service_start + Self::ID_CHARS..len - Self::ID_CHARS) == Some("-")
            && (service_start == 0 || key.get(service_start - 1..service_start) == Some("-"));
        let shaped = crate::config::uuid_shaped(service_id).is_some()
            && crate::config::uuid_shaped(secret).is_some();
        (separated && shaped).then(|| Self {
            service_id: service_id.to_owned(),
            secret: SecretString::from(secret.to_owned()),
        })
    }
}

/// Why a text was not sent, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// 429, a 5xx, a timeout or no connection: another try may work.
    #[error("{0}")]
    Retry(String),
    /// Notify refused the request itself (a 4xx other than 429): it never will.
    #[error("{0}")]
    Permanent(String),
}

/// Notify's error body: `{"status_code": 400, "errors": [{"error": …, "message": …}]}`.
#[derive(Deserialize)]
struct ErrorBody {
    errors: Vec<ErrorItem>,
}

#[derive(Deserialize)]
struct ErrorItem {
    error: String,
    message: String,
}

/// Notify's 201 body; only the id is kept (for the outbox's record).
#[derive(Deserialize)]
struct Created {
    id: String,
}

pub struct NotifyClient {
    http: reqwest::Client,
    base_url: String,
    key: ApiKey,
    sms_template_id: String,
}

impl NotifyClient {
    /// The client the settings ask for; none when texts are off.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Option<Self>> {
        if !settings.texts_enabled() {
            return Ok(None);
        }
        let key = ApiKey::parse(settings.notify_api_key.expose_secret())
            .ok_or_else(|| anyhow::anyhow!("notify_api_key is not a Notify API key"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Some(Self {
            http,
            base_url: settings.notify_base_url.clone(),
            key,
            sms_template_id: settings.notify_sms_template_id.clone(),
        }))
    }

    /// The bearer token for a request made at `iat` (Unix seconds).
    fn token(&self, iat: u64) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
        let claims = serde_json::json!({ "iss": self.key.service_id, "iat": iat });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{claims}");
        let secret = self.key.secret.expose_secret().as_bytes();
        let signature = match <Hmac<Sha256> as Mac>::new_from_slice(secret) {
            Ok(mut mac) => {
                mac.update(signed.as_bytes());
                URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
            }
            // HMAC takes a key of any length: never reached.
            Err(_) => String::new(),
        };
        format!("{signed}.{signature}")
    }

    /// Sends the one-time-passcode text to `phone_number` with `personalisation`; Notify's
    /// notification id on success. `reference` is ours (the outbox row), for tracing.
    pub async fn send_sms(
        &self,
        phone_number: &str,
        personalisation: &serde_json::Value,
        reference: &str,
    ) -> Result<String, SendError> {
        let body = serde_json::json!({
            "phone_number": phone_number,
            "template_id": self.sms_template_id,
            "personalisation": personalisation,
            "reference": reference,
        });
        // Notify checks `iat` against its own clock (±30 s): the wall clock, never the
        // service's injectable one.
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let response = self
            .http
            .post(format!("{}/v2/notifications/sms", self.base_url))
            .bearer_auth(self.token(iat))
            .json(&body)
            .send()
            .await
            // Without the URL: reqwest's errors name it, and nothing else of ours.
            .map_err(|e| SendError::Retry(format!("Notify unreachable: {}", e.without_url())))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| {
            SendError::Retry(format!("Notify's answer was cut: {}", e.without_url()))
        })?;
        judge(status.as_u16(), &text)
    }
}

/// What Notify's answer means: the notification id, or why not and whether to try again.
fn judge(status: u16, body: &str) -> Result<String, SendError> {
    if status == 201 {
        return serde_json::from_str::<Created>(body)
            .map(|created| created.id)
            .map_err(|_| SendError::Retry("Notify's 201 body did not parse".into()));
    }
    let reason = serde_json::from_str::<ErrorBody>(body)
        .ok()
        .and_then(|body| body.errors.into_iter().next())
        .map(|item| format!("{}: {}", item.error, item.message))
        .unwrap_or_else(|| "no error body".into());
    let said = format!("Notify answered {status}: {reason}");
    if status == 429 || status >= 500 {
        Err(SendError::Retry(said))
    } else {
        Err(SendError::Permanent(said))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const KEY: &str =
        "my_test_key-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0";

    #[test]
    fn sms_1_the_api_key_splits_into_service_id_and_secret_from_the_end() {
        let key = ApiKey::parse(KEY).unwrap();
        assert_eq!(key.service_id, "26785a09-ab16-4eb0-8407-a37497a57506");
        assert_eq!(
            key.secret.expose_secret(),
            "3d844edf-8d35-48ac-975b-e847b4f122b0"
        );
        // A key without a name is still a key; shorter or mangled ones are not.
        assert!(ApiKey::parse(&KEY["my_test_key-".len()..]).is_some());
        for bad in [
            "",
            "key",
            &KEY[..KEY.len() - 1],
            &KEY.replace("-3d84", "_3d84"),
        ] {
            assert!(ApiKey::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn sms_1_the_token_is_hs256_over_iss_and_iat() {
        let client = NotifyClient {
            http: reqwest::Client::new(),
            base_url: "http://127.0.0.1:1".into(),
            key: ApiKey::parse(KEY).unwrap(),
            sms_template_id: "0e8e6f4f-0a4c-4c1b-9a53-1f3f6c7f2a10".into(),
        };
        let token = client.token(1_700_000_000);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "HS256");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "26785a09-ab16-4eb0-8407-a37497a57506");
        assert_eq!(claims["iat"], 1_700_000_000);
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(b"3d844edf-8d35-48ac-975b-e847b4f122b0").unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        assert_eq!(
            URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
            mac.finalize().into_bytes().to_vec()
        );
    }

    #[test]
    fn sms_1_rate_limits_and_server_errors_are_tried_again_refusals_are_not() {
        let body = |error: &str, message: &str| {
            serde_json::json!({"status_code": 0, "errors": [{"error": error, "message": message}]})
                .to_string()
        };
        let created = r#"{"id":"740e5834-3a29-46b4-9a6f-16142fde533a","reference":null,"content":{"body":"x","from_number":"GOVUK"},"uri":"u","template":{"id":"t","version":1,"uri":"u"}}"#;
        assert_eq!(
            judge(201, created).unwrap(),
            "740e5834-3a29-46b4-9a6f-16142fde533a"
        );
        let limited = judge(429, &body("RateLimitError", "Exceeded rate limit"));
        assert!(matches!(limited, Err(SendError::Retry(m)) if m.contains("RateLimitError")));
        assert!(matches!(
            judge(500, &body("Exception", "Internal server error")),
            Err(SendError::Retry(_))
        ));
        assert!(matches!(judge(502, "<html>"), Err(SendError::Retry(_))));
        let refused = judge(
            400,
            &body("ValidationError", "phone_number Not a UK mobile number"),
        );
        assert!(matches!(refused, Err(SendError::Permanent(m)) if m.contains("Not a UK mobile")));
        assert!(matches!(
            judge(403, &body("AuthError", "Invalid token: API key not found")),
            Err(SendError::Permanent(_))
        ));
    }
}
