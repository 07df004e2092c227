//! HTTP edge: thin handlers that parse, call one step in [`crate::unlock`], and answer
//! JSON; plus the built SPA. Every refusal is an [`ApiError`](api_types::ApiError) body.

use std::net::SocketAddr;
use std::path::PathBuf;

use api_types::unlock::{
    AnswersRequest, AnswersResponse, CardProofRequest, CardProofResponse, CodeRequest,
    CodeResponse, CompleteRequest, CompleteResponse, PublicConfig, StartRequest, StartResponse,
    PATH_START,
};
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Path, Request, State};
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
        .route("/api/health", get(|| async { "ok" }))
        .route("/api/config", get(config))
        .route(PATH_START, post(start))
        .route("/api/unlock/{id}/card-proof", post(card_proof))
        .route("/api/unlock/{id}/answers", post(answers))
        .route("/api/unlock/{id}/code", post(code))
        .route("/api/unlock/{id}/script", post(script))
        .route("/api/unlock/{id}/complete", post(complete))
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

/// JSON body extractor whose refusals are [`AppError`]s (ALL-2).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(match rejection {
                other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    AppError::PayloadTooLarge
                }
                JsonRejection::MissingJsonContentType(_) => {
                    AppError::BadRequest("Content-Type must be application/json".into())
                }
                other => AppError::BadRequest(other.body_text()),
            }),
        }
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

async fn start(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(request): ApiJson<StartRequest>,
) -> Result<(StatusCode, Json<StartResponse>), AppError> {
    let response = state.start(request, &client(addr)).await?;
    Ok((StatusCode::CREATED, Json(response)))
}

async fn card_proof(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CardProofRequest>,
) -> Result<Json<CardProofResponse>, AppError> {
    Ok(Json(state.card_proof(&id, request, &client(addr)).await?))
}

async fn answers(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<AnswersRequest>,
) -> Result<Json<AnswersResponse>, AppError> {
    Ok(Json(state.answers(&id, request, &client(addr)).await?))
}

async fn code(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CodeRequest>,
) -> Result<Json<CodeResponse>, AppError> {
    Ok(Json(state.code(&id, &request.code, &client(addr)).await?))
}

async fn script(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> Result<Json<CodeResponse>, AppError> {
    Ok(Json(state.script(&id, &client(addr)).await?))
}

async fn complete(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CompleteRequest>,
) -> Result<Json<CompleteResponse>, AppError> {
    Ok(Json(state.complete(&id, request, &client(addr)).await?))
}
