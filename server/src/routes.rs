//! HTTP edge: thin handlers that parse (newtypes from `api-types`), call one step in
//! [`crate::unlock`], and answer JSON; plus the built SPA. Routes come from the
//! `api-types` endpoints, so the SPA and the tests use the same paths. Every refusal is
//! an [`ApiError`](api_types::ApiError) body.

use std::net::SocketAddr;
use std::path::PathBuf;

use api_types::unlock::{
    Answers, CardProof, Code, Complete, Endpoint, PublicConfig, Script, Start, PATH_CONFIG,
    PATH_HEALTH,
};
use api_types::AttemptId;
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State,
};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::unlock::Client;
use crate::{AppError, AppState};

const BODY_LIMIT: usize = 16 * 1024;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(PATH_HEALTH, get(|| async { "ok" }))
        .route(PATH_CONFIG, get(config))
        .route(Start::ROUTE, post(start))
        .route(CardProof::ROUTE, post(card_proof))
        .route(Answers::ROUTE, post(answers))
        .route(Code::ROUTE, post(code))
        .route(Script::ROUTE, post(script))
        .route(Complete::ROUTE, post(complete))
        .route(
            "/api/{*rest}",
            axum::routing::any(|| async { AppError::NotFound }),
        )
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state.clone());
    let csp = content_security_policy(&state.settings.bridge_url);
    let app = match state.settings.static_dir.clone() {
        Some(dir) => api.fallback_service(spa(dir)),
        None => api.fallback(|| async { AppError::NotFound }),
    };
    app.layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        csp,
    ))
    .layer(SetResponseHeaderLayer::overriding(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ))
    .layer(SetResponseHeaderLayer::overriding(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("DENY"),
    ))
    .layer(SetResponseHeaderLayer::overriding(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ))
}

/// The page may load only our own files and talk only to us and the card bridge.
fn content_security_policy(bridge_url: &str) -> HeaderValue {
    let bridge = bridge_url.trim_end_matches('/');
    let bridge_ws = bridge.replacen("http", "ws", 1);
    let policy = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self'; font-src 'self' https://assets.nhs.uk; \
         connect-src 'self' {bridge} {bridge_ws}; frame-ancestors 'none'; base-uri 'none'; \
         form-action 'self'; object-src 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'self'"))
}

/// The SPA: files as they are (pre-compressed when present), `index.html` for app routes,
/// but a real 404 for a missing asset (a path with an extension).
fn spa(dir: PathBuf) -> Router {
    let index = dir.join("index.html");
    let files = ServeDir::new(&dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(ServeFile::new(index));
    Router::new()
        .fallback_service(files)
        .layer(axum::middleware::from_fn(
            move |request: Request, next: Next| {
                let dir = dir.clone();
                async move {
                    let path = request.uri().path().trim_start_matches('/').to_owned();
                    let last = path.rsplit('/').next().unwrap_or("");
                    if last.contains('.') && !dir.join(&path).is_file() {
                        return StatusCode::NOT_FOUND.into_response();
                    }
                    next.run(request).await
                }
            },
        ))
}

/// JSON body extractor whose refusals are [`AppError`]s (ALL-2): the values inside are
/// parsed by their `api-types` newtypes on the way in.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(ApiJson(value))
    }
}

/// The attempt id in the path; any other shape is simply not found, never echoed.
pub struct AttemptPath(pub AttemptId);

impl<S: Send + Sync> FromRequestParts<S> for AttemptPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Path::<AttemptId>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| AttemptPath(id))
            .map_err(|_| AppError::NotFound)
    }
}

fn client(addr: SocketAddr) -> Client {
    Client {
        addr: addr.ip().to_string(),
    }
}

async fn config(State(state): State<AppState>) -> Json<PublicConfig> {
    Json(PublicConfig {
        organisation_name: state.settings.organisation_name.clone(),
        ra_help: state.settings.ra_help.clone(),
        bridge_url: state.settings.bridge_url.clone(),
    })
}

type Reply<E> = Result<Json<<E as Endpoint>::Response>, AppError>;

async fn start(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(request): ApiJson<<Start as Endpoint>::Request>,
) -> Result<(StatusCode, Json<<Start as Endpoint>::Response>), AppError> {
    let response = state.start(request, &client(addr)).await?;
    Ok((StatusCode::CREATED, Json(response)))
}

async fn card_proof(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    AttemptPath(id): AttemptPath,
    ApiJson(request): ApiJson<<CardProof as Endpoint>::Request>,
) -> Reply<CardProof> {
    Ok(Json(state.card_proof(&id, request, &client(addr)).await?))
}

async fn answers(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    AttemptPath(id): AttemptPath,
    ApiJson(request): ApiJson<<Answers as Endpoint>::Request>,
) -> Reply<Answers> {
    Ok(Json(state.answers(&id, request, &client(addr)).await?))
}

async fn code(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    AttemptPath(id): AttemptPath,
    ApiJson(request): ApiJson<<Code as Endpoint>::Request>,
) -> Reply<Code> {
    Ok(Json(state.code(&id, request, &client(addr)).await?))
}

async fn script(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    AttemptPath(id): AttemptPath,
    ApiJson(request): ApiJson<<Script as Endpoint>::Request>,
) -> Reply<Script> {
    Ok(Json(state.script(&id, request, &client(addr)).await?))
}

async fn complete(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    AttemptPath(id): AttemptPath,
    ApiJson(request): ApiJson<<Complete as Endpoint>::Request>,
) -> Reply<Complete> {
    Ok(Json(state.complete(&id, request, &client(addr)).await?))
}
