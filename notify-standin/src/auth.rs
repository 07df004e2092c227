//! Notify's authentication, in Notify's order and with its messages:
//! `Authorization: Bearer <JWT>`, the JWT signed HS256 with an API key's secret, `iss` the
//! service id and `iat` within 30 seconds of Notify's clock either way. The token is
//! checked with the `jsonwebtoken` crate, not the client's own signer, so the two agree
//! only by both following Notify's documentation.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::errors::NotifyError;
use crate::validate::notify_uuid;

/// Notify's answer to a token it cannot read at all.
pub const GENERAL_TOKEN_ERROR: &str = "Invalid token: make sure your API token matches the example at https://docs.notifications.service.gov.uk/rest-api.html#authorisation-header";

/// How far `iat` may be from the clock, either way.
const BOUND_SECONDS: i64 = 30;

/// One API key: `{key name}-{service id}-{secret}`, both ids UUIDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub service_id: String,
    pub secret: String,
}

impl ApiKey {
    pub fn parse(key: &str) -> Result<Self, String> {
        let malformed = || {
            format!(
                "not a Notify API key: expected {{key name}}-{{service id}}-{{secret}}, the two ids \
                 36-character UUIDs, but got {} characters",
                key.chars().count()
            )
        };
        // Slicing by bytes below is only safe on ASCII.
        if key.len() < 74 || !key.is_ascii() {
            return Err(malformed());
        }
        let secret = &key[key.len() - 36..];
        let service_id = &key[key.len() - 73..key.len() - 37];
        let dashes = [key.len() - 74, key.len() - 37].map(|i| key.as_bytes()[i] == b'-');
        let is_uuid = |s: &str| s.len() == 36 && uuid::Uuid::try_parse(s).is_ok();
        if !is_uuid(secret) || !is_uuid(service_id) || dashes.contains(&false) {
            return Err(malformed());
        }
        Ok(Self {
            service_id: service_id.to_lowercase(),
            secret: secret.to_owned(),
        })
    }
}

fn auth_error(status: u16, message: &str) -> NotifyError {
    NotifyError::new(status, "AuthError", message)
}

fn forbidden(message: &str) -> NotifyError {
    auth_error(403, message)
}

/// The claims, read without checking the signature: Notify needs `iss` to find the keys.
fn unverified_claims(token: &str) -> Result<Map<String, Value>, NotifyError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.insecure_disable_signature_validation();
    relax(&mut validation);
    jsonwebtoken::decode::<Map<String, Value>>(token, &DecodingKey::from_secret(&[]), &validation)
        .map(|data| data.claims)
        .map_err(|_| forbidden(GENERAL_TOKEN_ERROR))
}

/// Notify checks the signature and `iat`, nothing else the crate would by default.
fn relax(validation: &mut Validation) {
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
}

/// `iat` as PyJWT reads it: a number (truncated) or a string of digits.
fn issued_at(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The service whose key signed the request's token, checked at `now` (Unix seconds).
pub fn check(header: Option<&str>, keys: &[ApiKey], now: i64) -> Result<String, NotifyError> {
    let header = header
        .filter(|h| !h.is_empty())
        .ok_or_else(|| auth_error(401, "Unauthorized: authentication token must be provided"))?;
    // Notify compares the first seven characters title-cased: "bearer " passes too.
    let scheme = header.get(..7).map(str::to_ascii_lowercase);
    let token = match (scheme.as_deref(), header.get(7..)) {
        (Some("bearer "), Some(token)) => token,
        _ => {
            return Err(auth_error(
                401,
                "Unauthorized: authentication bearer scheme must be used",
            ))
        }
    };
    let claims = unverified_claims(token)?;
    let issuer = claims
        .get("iss")
        .ok_or_else(|| forbidden("Invalid token: iss field not provided"))?;
    let service = issuer
        .as_str()
        .and_then(notify_uuid)
        .ok_or_else(|| forbidden("Invalid token: service id is not the right data type"))?
        .to_string();
    let service_keys: Vec<&ApiKey> = keys.iter().filter(|k| k.service_id == service).collect();
    if service_keys.is_empty() {
        return Err(forbidden("Invalid token: service not found"));
    }
    let mut validation = Validation::new(Algorithm::HS256);
    relax(&mut validation);
    for key in service_keys {
        let decoded = jsonwebtoken::decode::<Map<String, Value>>(
            token,
            &DecodingKey::from_secret(key.secret.as_bytes()),
            &validation,
        );
        let claims = match decoded {
            Ok(data) => data.claims,
            Err(e) if matches!(e.kind(), ErrorKind::InvalidAlgorithm) => {
                return Err(forbidden("Invalid token: algorithm used is not HS256"))
            }
            // Not signed with this key: Notify tries the service's next one.
            Err(_) => continue,
        };
        let iat = claims
            .get("iat")
            .ok_or_else(|| forbidden("Invalid token: iat field not provided"))?;
        let clock = || forbidden("Error: Your system clock must be accurate to within 30 seconds");
        let iat = issued_at(iat).ok_or_else(clock)?;
        if now.saturating_sub(iat) > BOUND_SECONDS || iat.saturating_sub(now) > BOUND_SECONDS {
            return Err(clock());
        }
        return Ok(service);
    }
    Err(forbidden("Invalid token: API key not found"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const KEY: &str =
        "test-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0";
    const SECRET: &str = "3d844edf-8d35-48ac-975b-e847b4f122b0";

    fn token(secret: &str, claims: Value, alg: Algorithm) -> String {
        let header = jsonwebtoken::Header::new(alg);
        let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
        format!(
            "Bearer {}",
            jsonwebtoken::encode(&header, &claims, &key).unwrap()
        )
    }

    fn message(result: Result<String, NotifyError>) -> String {
        result.unwrap_err().message
    }

    #[test]
    fn sms_2_the_jwt_is_checked_as_notify_does() {
        let keys = [ApiKey::parse(KEY).unwrap()];
        let service = "26785a09-ab16-4eb0-8407-a37497a57506";
        let claims = serde_json::json!({"iss": service, "iat": 1000});
        let good = token(SECRET, claims.clone(), Algorithm::HS256);
        assert_eq!(check(Some(&good), &keys, 1030).unwrap(), service);
        assert_eq!(check(Some(&good), &keys, 970).unwrap(), service);
        assert!(message(check(Some(&good), &keys, 1031)).contains("30 seconds"));
        assert!(message(check(Some(&good), &keys, 969)).contains("30 seconds"));
        let lower = good.replacen("Bearer", "bearer", 1);
        assert!(check(Some(&lower), &keys, 1000).is_ok());
        let other = "00000000-0000-4000-8000-000000000000";
        assert_eq!(
            message(check(
                Some(&token(other, claims.clone(), Algorithm::HS256)),
                &keys,
                1000
            )),
            "Invalid token: API key not found"
        );
        assert_eq!(
            message(check(
                Some(&token(SECRET, claims, Algorithm::HS512)),
                &keys,
                1000
            )),
            "Invalid token: algorithm used is not HS256"
        );
        let stranger = serde_json::json!({"iss": other, "iat": 1000});
        assert_eq!(
            message(check(
                Some(&token(SECRET, stranger, Algorithm::HS256)),
                &keys,
                1000
            )),
            "Invalid token: service not found"
        );
        let no_iat = serde_json::json!({ "iss": service });
        assert_eq!(
            message(check(
                Some(&token(SECRET, no_iat, Algorithm::HS256)),
                &keys,
                1000
            )),
            "Invalid token: iat field not provided"
        );
        let no_iss = serde_json::json!({ "iat": 1000 });
        assert_eq!(
            message(check(
                Some(&token(SECRET, no_iss, Algorithm::HS256)),
                &keys,
                1000
            )),
            "Invalid token: iss field not provided"
        );
        assert_eq!(check(None, &keys, 1000).unwrap_err().status, 401);
        assert_eq!(check(Some(""), &keys, 1000).unwrap_err().status, 401);
        assert_eq!(check(Some("Basic x"), &keys, 1000).unwrap_err().status, 401);
        assert_eq!(check(Some("Bearer"), &keys, 1000).unwrap_err().status, 401);
        let garbled = check(Some("Bearer a.b"), &keys, 1000).unwrap_err();
        assert_eq!(
            (garbled.status, garbled.message.as_str()),
            (403, GENERAL_TOKEN_ERROR)
        );
    }

    #[test]
    fn sms_2_api_keys_are_read_as_notify_documents_them() {
        let key = ApiKey::parse(KEY).unwrap();
        assert_eq!(key.service_id, "26785a09-ab16-4eb0-8407-a37497a57506");
        assert_eq!(key.secret, SECRET);
        assert!(ApiKey::parse("short").is_err());
        assert!(ApiKey::parse(&KEY.replace("test-", "")).is_err(), "no name");
        assert!(ApiKey::parse(&KEY.replace("a37497a57506-", "a37497a57506_")).is_err());
        assert!(ApiKey::parse(&KEY.replace("b0", "bé")).is_err());
    }
}
