//! Not Notify's: what the demo and the tests use to see and steer the stand-in, under
//! `/_standin/` — the messages received as JSON (filtered by type and recipient),
//! clearing them, the next requests' behaviour (429, 500, slow) — and the OpenAPI
//! contract of the Notify endpoints at `/openapi.yaml`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::{Behaviour, Message, Shared};

/// The contract both the server's client and the stand-in keep (SMS-2).
pub const OPENAPI: &str = include_str!("../openapi.yaml");

#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    #[serde(rename = "type")]
    kind: Option<String>,
    /// A phone number as sent or in E.164, or an email address in any case.
    to: Option<String>,
}

fn matches(filter: &Filter, message: &Message) -> bool {
    let kind_ok = filter.kind.as_deref().is_none_or(|k| k == message.kind);
    let to_ok = filter.to.as_deref().is_none_or(|to| {
        to == message.to
            || to == message.to_normalised
            || to.trim().eq_ignore_ascii_case(&message.to_normalised)
            || crate::phone::normalise(to).is_ok_and(|n| n == message.to_normalised)
    });
    kind_ok && to_ok
}

/// `GET /_standin/messages[?type=sms|email][&to=…]`: oldest first.
pub async fn messages(State(shared): State<Shared>, Query(filter): Query<Filter>) -> Response {
    let listed: Vec<Message> = shared
        .messages()
        .into_iter()
        .filter(|m| matches(&filter, m))
        .collect();
    Json(listed).into_response()
}

/// `DELETE /_standin/messages`.
pub async fn clear(State(shared): State<Shared>) -> StatusCode {
    shared.clear();
    StatusCode::NO_CONTENT
}

/// `POST /_standin/behaviour`: `{"mode": "normal" | "rate_limit" | "server_error" |
/// "slow", "count": n, "delay_ms": ms}`; answers with what it set.
pub async fn behaviour(
    State(shared): State<Shared>,
    body: Result<Json<Behaviour>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(behaviour)) => {
            shared.set_behaviour(behaviour);
            Json(behaviour).into_response()
        }
        Err(rejection) => (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": rejection.body_text() })),
        )
            .into_response(),
    }
}

/// `GET /_standin/behaviour`: what the next requests will meet.
pub async fn current_behaviour(State(shared): State<Shared>) -> Response {
    let now = *crate::locked(&shared.behaviour);
    Json(now).into_response()
}

pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI).into_response()
}
