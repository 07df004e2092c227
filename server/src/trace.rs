//! Request tracing (OPS-3): every request gets an id — the caller's `x-request-id` when it
//! is short and plain, a fresh UUID otherwise — that goes back on every response (refusals,
//! 404s and the SPA's files too, so the page can show it beside the reason code) and onto
//! the span every log line of the request carries. One INFO line per request when it is
//! answered; a 5xx adds one ERROR line with its cause chain ([`Causes`], from `AppError`).
//!
//! What never reaches the log (ALL-7): query strings, cookies (the flow and session
//! secrets), bodies (codes, answers, passcodes) and every header but the request id. The
//! span holds the method, the route's template (or the bare path when nothing matched),
//! the client address (ALL-5's, so `X-Forwarded-For` only from a trusted proxy) and the
//! attempt or registration id from the path — not a secret without its flow cookie (ALL-6).

use std::error::Error;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Response};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{MakeSpan, OnResponse, TraceLayer};
use tracing::Span;

use crate::flow::client::client_addr;

/// The header that carries the request id, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What the server logs unless `RUST_LOG` says otherwise.
pub const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn";

/// The longest request id (or path id) we take from a caller.
const MAX_ID: usize = 64;

/// The longest unmatched path we write down (a 404 path is the caller's text).
const MAX_PATH: usize = 256;

/// Wraps the whole router, fallbacks included: the outermost layer drops an unsafe
/// incoming id, the next makes one where there is none, then the id is copied to the
/// response and the span is opened.
pub fn requests(router: Router, trusted_proxies: &[IpAddr]) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(RequestSpan {
            trusted_proxies: trusted_proxies.into(),
        })
        .on_request(())
        .on_response(Answered)
        .on_body_chunk(())
        .on_eos(())
        .on_failure(());
    // One layer, not four: `Router::layer` boxes each, and every request clones the box.
    router.layer(
        ServiceBuilder::new()
            .layer(axum::middleware::map_request(drop_unsafe_request_id))
            .layer(SetRequestIdLayer::new(REQUEST_ID, FreshId))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(trace),
    )
}

/// A random UUID from the thread's CSPRNG: unique, but without the system call per
/// request that `Uuid::new_v4` makes (measured by `overhead-bench`).
#[derive(Clone, Copy)]
struct FreshId;

impl MakeRequestId for FreshId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        HeaderValue::from_str(
            id.hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer()),
        )
        .ok()
        .map(RequestId::new)
    }
}

/// A caller's id is kept only if it is one plain value of at most 64 characters from
/// `[A-Za-z0-9._-]`: nothing that could forge a log line or smuggle markup to the page.
pub fn is_safe_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

async fn drop_unsafe_request_id(mut request: Request) -> Request {
    let ids = request.headers().get_all(&REQUEST_ID);
    let mut values = ids.iter();
    let keep = match (values.next(), values.next()) {
        (None, _) => true,
        (Some(id), None) => is_safe_id(id.as_bytes()),
        (Some(_), Some(_)) => false,
    };
    if !keep {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

/// The span of one request: its id, method, route, path id and client.
#[derive(Clone)]
struct RequestSpan {
    trusted_proxies: Arc<[IpAddr]>,
}

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &axum::http::Request<B>) -> Span {
        let headers = request.headers();
        let request_id = headers
            .get(&REQUEST_ID)
            .map(HeaderValue::as_bytes)
            .filter(|id| is_safe_id(id))
            .and_then(|id| std::str::from_utf8(id).ok())
            .unwrap_or("-");
        let matched = request.extensions().get::<MatchedPath>();
        let (route, id) = route_and_id(matched.map(MatchedPath::as_str), request.uri().path());
        let span = tracing::info_span!(
            "request",
            request_id,
            method = %request.method(),
            route,
            id = tracing::field::Empty,
            client = tracing::field::Empty,
        );
        if let Some(id) = id {
            span.record("id", id);
        }
        if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
            let forwarded: Vec<&str> = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            let client = client_addr(peer.ip(), &forwarded, &self.trusted_proxies);
            span.record("client", tracing::field::display(client));
        }
        span
    }
}

/// The route to log: the matched template (`/api/unlock/{id}/code`), or for a fallback
/// the path itself, bounded — never the query. And the `{id}` in the path, if the
/// template has one and it is a plain value.
fn route_and_id<'a>(matched: Option<&'a str>, path: &'a str) -> (&'a str, Option<&'a str>) {
    match matched.filter(|template| !template.contains("{*")) {
        Some(template) => {
            let id = template
                .split('/')
                .zip(path.split('/'))
                .find(|(part, _)| *part == "{id}")
                .map(|(_, value)| value)
                .filter(|value| is_safe_id(value.as_bytes()));
            (template, id)
        }
        None => {
            let end = (0..=path.len().min(MAX_PATH))
                .rev()
                .find(|&i| path.is_char_boundary(i))
                .unwrap_or(0);
            (&path[..end], None)
        }
    }
}

/// The one line per request, in its span: status and latency.
#[derive(Clone, Copy)]
struct Answered;

impl<B> OnResponse<B> for Answered {
    fn on_response(self, response: &Response<B>, latency: Duration, _: &Span) {
        let latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        tracing::info!(status = response.status().as_u16(), latency_ms, "answered");
    }
}

/// An error and its causes on one line (`a: b: c`), each cause once: thiserror's
/// `transparent` and `{0}` messages already carry their source's text, which is skipped.
pub struct Causes<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = self.0.to_string();
        let mut source = self.0.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !line.contains(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            source = cause.source();
        }
        f.write_str(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_3_each_request_gets_a_fresh_version_4_uuid() {
        let request = axum::http::Request::new(());
        let ids: std::collections::HashSet<String> = (0..1000)
            .map(|_| {
                let id = FreshId.make_request_id(&request).unwrap();
                let text = id.header_value().to_str().unwrap().to_owned();
                let parsed = uuid::Uuid::parse_str(&text).unwrap();
                assert_eq!(parsed.get_version_num(), 4);
                assert_eq!(text, parsed.hyphenated().to_string());
                text
            })
            .collect();
        assert_eq!(ids.len(), 1000);
    }

    #[test]
    fn ops_3_only_short_plain_request_ids_are_taken_from_callers() {
        let longest = "x".repeat(64);
        for good in ["a", "helpdesk-42.ab_CD", longest.as_str()] {
            assert!(is_safe_id(good.as_bytes()), "{good}");
        }
        let long = "x".repeat(65);
        for bad in [
            "",
            "has space",
            "line\nbreak",
            "a;b",
            "<b>",
            "café",
            long.as_str(),
        ] {
            assert!(!is_safe_id(bad.as_bytes()), "{bad:?}");
        }
    }

    #[test]
    fn ops_3_the_log_names_the_route_template_and_its_id_never_the_query() {
        let route = "/api/unlock/{id}/code";
        assert_eq!(
            route_and_id(Some(route), "/api/unlock/abc-123/code"),
            (route, Some("abc-123"))
        );
        assert_eq!(
            route_and_id(Some(route), "/api/unlock/a%20b/code"),
            (route, None),
            "an id that is not plain is left out"
        );
        assert_eq!(
            route_and_id(Some("/api/ra/users/{uuid}"), "/api/ra/users/7"),
            ("/api/ra/users/{uuid}", None)
        );
        assert_eq!(
            route_and_id(Some("/api/{*rest}"), "/api/nope"),
            ("/api/nope", None)
        );
        let long = format!("/{}", "é".repeat(200));
        let (logged, _) = route_and_id(None, &long);
        assert!(logged.len() <= MAX_PATH && long.starts_with(logged));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("middle")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn ops_3_a_failure_is_logged_with_each_cause_once() {
        let error = Outer(Middle(std::io::Error::other("disk gone")));
        assert_eq!(Causes(&error).to_string(), "outer: middle: disk gone");
    }
}
