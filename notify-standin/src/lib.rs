//! A local stand-in for GOV.UK Notify's v2 REST API (SMS-2), run by the demo and the
//! tests in place of Notify: it checks the JWT as Notify does ([`auth`]), checks request
//! bodies against Notify's schemas with its messages ([`validate`], [`phone`]), renders
//! the service's templates ([`templates`]), answers with Notify's 201 and error bodies
//! ([`api`], [`errors`]), honours Notify's test numbers, can be told to answer 429 or 500
//! or slowly, and shows what it received on a page ([`page`]) and as JSON ([`control`]),
//! as the mail catcher does for email. `openapi.yaml` is the contract of the endpoints
//! we use; schemathesis holds the stand-in to it (`contract/run.sh`).

pub mod api;
pub mod auth;
pub mod control;
pub mod errors;
pub mod page;
pub mod phone;
pub mod templates;
pub mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;

use auth::ApiKey;
use errors::NotifyError;
use templates::Templates;

/// One message received, as the control API lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// As the client sent it.
    pub to: String,
    /// E.164 for a phone, lowercased for an email.
    pub to_normalised: String,
    pub template_id: String,
    /// The service whose key sent it: only that service may read it back.
    #[serde(skip)]
    pub service_id: String,
    /// Each value as the text it put in the message.
    pub personalisation: BTreeMap<String, String>,
    pub reference: Option<String>,
    pub body: String,
    pub subject: Option<String>,
    pub status: &'static str,
    /// Unix seconds; listed as Notify writes times.
    #[serde(serialize_with = "iso")]
    pub created_at: i64,
}

fn iso<S: serde::Serializer>(unix: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&utc_iso(*unix))
}

/// What a test asked the stand-in to do with the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Normal,
    RateLimit,
    ServerError,
    Slow,
}

#[derive(Debug, Clone, Copy, Default, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    pub mode: Mode,
    /// How many of the next authenticated /v2 requests it applies to; none: until changed.
    #[serde(default)]
    pub count: Option<u32>,
    /// For `slow`: how long to wait before answering (2 s if not given).
    #[serde(default)]
    pub delay_ms: Option<u64>,
}

pub struct Standin {
    keys: Vec<ApiKey>,
    templates: Templates,
    base_url: Mutex<String>,
    messages: Mutex<Vec<Message>>,
    behaviour: Mutex<Behaviour>,
}

pub type Shared = Arc<Standin>;

/// Unix seconds on the wall clock: Notify's `iat` check is against real time.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `2026-12-04T11:39:30.000000Z`, as Notify writes times.
pub fn utc_iso(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000000Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The lock's contents even if a holder panicked: the data stays usable either way.
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Standin {
    pub fn new(keys: Vec<ApiKey>, templates: Templates) -> Shared {
        Arc::new(Self {
            keys,
            templates,
            base_url: Mutex::new(String::new()),
            messages: Mutex::new(Vec::new()),
            behaviour: Mutex::new(Behaviour::default()),
        })
    }

    /// `http://ADDR`, as Notify's own URLs in its answers start.
    fn base_url(&self) -> String {
        locked(&self.base_url).clone()
    }

    fn record(&self, message: Message) {
        locked(&self.messages).push(message);
    }

    /// The message `id`, if `service` sent it (Notify looks only in the caller's own).
    fn find(&self, id: &str, service: &str) -> Option<Message> {
        locked(&self.messages)
            .iter()
            .find(|m| m.id == id && m.service_id == service)
            .cloned()
    }

    /// Every message received, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        locked(&self.messages).clone()
    }

    fn clear(&self) {
        locked(&self.messages).clear();
    }

    fn set_behaviour(&self, behaviour: Behaviour) {
        *locked(&self.behaviour) = behaviour;
    }

    /// The behaviour for this request, spending one of its count.
    async fn behave(&self) -> Result<(), NotifyError> {
        let now = {
            let mut current = locked(&self.behaviour);
            let now = *current;
            match current.count {
                Some(0) => {
                    *current = Behaviour::default();
                    Behaviour::default()
                }
                Some(1) => {
                    *current = Behaviour::default();
                    now
                }
                Some(n) => {
                    current.count = Some(n - 1);
                    now
                }
                None => now,
            }
        };
        match now.mode {
            Mode::Normal => Ok(()),
            Mode::RateLimit => Err(NotifyError::new(
                429,
                "RateLimitError",
                "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
            )),
            Mode::ServerError => Err(NotifyError::new(500, "Exception", "Internal server error")),
            Mode::Slow => {
                tokio::time::sleep(Duration::from_millis(now.delay_ms.unwrap_or(2000))).await;
                Ok(())
            }
        }
    }
}

/// Notify's endpoints, and the stand-in's own beside them.
pub fn router(shared: Shared) -> Router {
    Router::new()
        .route("/v2/notifications/sms", post(api::send_sms))
        .route("/v2/notifications/email", post(api::send_email))
        .route("/v2/notifications/{id}", get(api::notification))
        .route("/", get(page::page))
        .route("/openapi.yaml", get(control::openapi))
        .route(
            "/_standin/messages",
            get(control::messages).delete(control::clear),
        )
        .route(
            "/_standin/behaviour",
            get(control::current_behaviour).post(control::behaviour),
        )
        .fallback(api::not_found)
        .with_state(shared)
}

/// Serves on `listener` until the task is dropped or fails.
pub async fn serve(shared: Shared, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    *locked(&shared.base_url) = format!("http://{addr}");
    axum::serve(listener, router(shared)).await
}

/// Serves on `listen` (port 0: any); the address it got, and the server's task.
pub async fn spawn(
    shared: Shared,
    listen: SocketAddr,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    *locked(&shared.base_url) = format!("http://{addr}");
    let task = tokio::spawn(serve(shared, listener));
    Ok((addr, task))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_2_times_are_written_as_notify_writes_them() {
        assert_eq!(utc_iso(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(utc_iso(1_796_384_370), "2026-12-04T11:39:30.000000Z");
    }
}
