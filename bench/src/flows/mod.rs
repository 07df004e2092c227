//! Whole flows as the page and the card bridge run them, for `load` and `chaos`: card
//! sign-in (AUTH-1), the unlock with questions and the emailed code through the sealed
//! channel (UNL-1…UNL-7, CARD-3), and registration (REG-1…REG-4). The bridge's part is
//! played with the user's in-process virtual card; codes are read from the SMTP sink.
//!
//! With `failover` on (chaos), a request lost to a dying instance — no answer, or the
//! load balancer's 502/503 — is sent again, and each flow resumes as the page does (the
//! unlock goes back to a new channel for the same attempt after its code was accepted).

pub mod account;
pub mod unlock;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use api_types::{ApiError, Endpoint, ErrorCode};
use reqwest::header::{HeaderMap, COOKIE, ORIGIN, SET_COOKIE};
use reqwest::StatusCode;

use crate::mail_sink::MailSink;

/// Why a step did not answer as hoped.
#[derive(Debug)]
pub enum Failure {
    /// 429: the limits doing their job (ALL-5); the flow stops there.
    Limited,
    /// The server refused with this code.
    Refused(ErrorCode),
    /// Anything else: no answer, a 5xx, a body that is not the documented one.
    Broken(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Limited => write!(f, "429"),
            Failure::Refused(code) => write!(f, "refused: {}", code.as_str()),
            Failure::Broken(why) => write!(f, "{why}"),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure::Broken(format!("{error:#}"))
    }
}

pub type Step<T> = Result<T, Failure>;

/// Each step's latencies, by endpoint, and how often a lost request was sent again.
#[derive(Default, Debug)]
pub struct Timings {
    pub steps: BTreeMap<&'static str, Vec<Duration>>,
    pub resent: usize,
    /// Flows begun again from their first step (chaos: an answer lost for good).
    pub restarted: usize,
}

impl Timings {
    pub fn merge(&mut self, other: Timings) {
        for (step, mut latencies) in other.steps {
            self.steps.entry(step).or_default().append(&mut latencies);
        }
        self.resent += other.resent;
        self.restarted += other.restarted;
    }
}

/// One browser (its own address behind the hospital's proxy) on the service's origin.
pub struct Page {
    http: reqwest::Client,
    /// The service's origin: the load balancer.
    pub origin: String,
    /// The user's address, as the reverse proxy reports it (ALL-5 counts per client).
    addr: String,
    failover: bool,
    pub mail: MailSink,
}

/// Times a flow begins again from its first step before it is counted as failed.
const RESTARTS: usize = 4;
/// How long a lost request is sent again before the flow gives up on it.
const FAILOVER_FOR: Duration = Duration::from_secs(30);
/// How long a flow waits for its emailed code.
pub const CODE_WAIT: Duration = Duration::from_secs(30);

impl Page {
    pub fn new(origin: &str, addr: String, failover: bool, mail: MailSink) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            origin: origin.to_owned(),
            addr,
            failover,
            mail,
        }
    }

    /// Whether lost requests are sent again (chaos).
    pub fn failover(&self) -> bool {
        self.failover
    }

    /// Under failover, whether a flow that failed so begins again from its first step (an
    /// answer lost with an instance: the challenge or attempt it carried is spent), as
    /// the user would reload the page; counted.
    pub fn begin_again(&self, failure: &Failure, restarts: &mut usize, t: &mut Timings) -> bool {
        let lost = matches!(
            failure,
            Failure::Broken(_)
                | Failure::Refused(
                    ErrorCode::WrongStep | ErrorCode::AttemptEnded | ErrorCode::LoginExpired
                )
        );
        if !(self.failover && lost && *restarts < RESTARTS) {
            return false;
        }
        *restarts += 1;
        t.restarted += 1;
        true
    }

    /// Endpoint `E` as the page sends it (JSON from the service's origin, the cookie if
    /// any), timed under its name when it succeeds; lost requests sent again under
    /// failover.
    pub async fn call<E: Endpoint>(
        &self,
        timings: &mut Timings,
        params: &E::Params,
        cookie: Option<&str>,
        request: &E::Request,
    ) -> Step<(HeaderMap, E::Response)> {
        let given_up = Instant::now() + FAILOVER_FOR;
        loop {
            let sent = Instant::now();
            match self.send_once::<E>(params, cookie, request).await {
                Err(Failure::Broken(why)) if self.failover => {
                    if Instant::now() > given_up {
                        return Err(Failure::Broken(why));
                    }
                    timings.resent += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Ok(answer) => {
                    timings
                        .steps
                        .entry(E::NAME)
                        .or_default()
                        .push(sent.elapsed());
                    return Ok(answer);
                }
                Err(other) => return Err(other),
            }
        }
    }

    async fn send_once<E: Endpoint>(
        &self,
        params: &E::Params,
        cookie: Option<&str>,
        request: &E::Request,
    ) -> Step<(HeaderMap, E::Response)> {
        let path = E::path(params);
        let mut post = self
            .http
            .post(format!("{}{path}", self.origin))
            .header(ORIGIN, &self.origin)
            .header("x-forwarded-for", &self.addr)
            .json(request);
        if let Some(cookie) = cookie {
            post = post.header(COOKIE, cookie);
        }
        let response = post
            .send()
            .await
            .map_err(|e| Failure::Broken(format!("{}: no answer: {e}", E::NAME)))?;
        let status = response.status();
        if status.is_success() {
            let headers = response.headers().clone();
            let body = response
                .json()
                .await
                .map_err(|e| Failure::Broken(format!("{}: unreadable answer: {e}", E::NAME)))?;
            return Ok((headers, body));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(Failure::Limited);
        }
        match response.json::<ApiError>().await {
            Ok(error) if status.as_u16() == error.code.http_status() && status.as_u16() < 500 => {
                Err(Failure::Refused(error.code))
            }
            Ok(error) => Err(Failure::Broken(format!(
                "{}: {status} {}",
                E::NAME,
                error.code.as_str()
            ))),
            Err(_) => Err(Failure::Broken(format!("{}: {status}", E::NAME))),
        }
    }

    /// The code in the next unread mail to `to` with `subject`; the wait is timed as the
    /// step `mail`.
    pub async fn code_from_mail(
        &self,
        t: &mut Timings,
        to: &str,
        subject: &str,
    ) -> Step<api_types::UnlockCode> {
        let asked = Instant::now();
        let text = self
            .mail
            .next(to, subject, CODE_WAIT)
            .await?
            .ok_or_else(|| {
                Failure::Broken(format!("no \"{subject}\" mail within {CODE_WAIT:?}"))
            })?;
        t.steps.entry("(mail)").or_default().push(asked.elapsed());
        Ok(crate::mail_sink::code_in(&text)?)
    }
}

/// The `name=value` of a `Set-Cookie`, as a browser sends it back.
pub fn cookie_set(headers: &HeaderMap) -> Step<String> {
    headers
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| Failure::Broken("no cookie was set".into()))
}
