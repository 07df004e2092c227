//! HTTP edge: thin handlers that parse (newtypes from `api-types`), call one step in
//! [`crate::unlock`], and answer JSON; plus the built SPA. Routes come from the
//! `api-types` endpoints, so the SPA and the tests use the same paths. Every refusal is
//! an [`ApiError`](api_types::ApiError) body.

use std::net::SocketAddr;
use std::path::PathBuf;

use api_types::auth::{
    ChangeContact, LoginFinish, LoginStart, Logout, NotMe, PATH_MY_CARD, PATH_SESSION,
};
use api_types::ra::{PATH_AUDIT, PATH_AUDIT_CSV, PATH_DASHBOARD, PATH_REPORTS, PATH_USERS};
use api_types::register::{RegisterBegin, RegisterConfirm, RegisterDetails, RegisterResend};
use api_types::unlock::{
    Answers, CardProof, Channel, Code, Complete, Endpoint, PublicConfig, RaCode, Resume, Script,
    Start, PATH_CA_CERTIFICATE, PATH_CONFIG, PATH_HEALTH,
};
use api_types::AttemptId;
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State,
};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::flow::client::client_addr;
use crate::flow::Client;
use crate::secrets::FlowSecret;
use crate::unlock::Started;
use crate::{AppError, AppState};

mod auth;
mod ra;
mod register;

pub use auth::SessionCookie;

const BODY_LIMIT: usize = 16 * 1024;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(PATH_HEALTH, get(|| async { "ok" }))
        .route(PATH_CONFIG, get(config))
        .route(PATH_CA_CERTIFICATE, get(ca_certificate))
        .route(Start::ROUTE, post(start))
        .route(CardProof::ROUTE, post(card_proof))
        .route(Answers::ROUTE, post(answers))
        .route(Code::ROUTE, post(code))
        .route(RaCode::ROUTE, post(ra_code))
        .route(Channel::ROUTE, post(channel))
        .route(Resume::ROUTE, post(resume))
        .route(Script::ROUTE, post(script))
        .route(Complete::ROUTE, post(complete))
        .route(LoginStart::ROUTE, post(auth::login_start))
        .route(LoginFinish::ROUTE, post(auth::login_finish))
        .route(Logout::ROUTE, post(auth::logout))
        .route(PATH_SESSION, get(auth::session))
        .route(NotMe::ROUTE, post(auth::not_me))
        .route(PATH_MY_CARD, get(auth::my_card))
        .route(ChangeContact::ROUTE, post(auth::change_contact))
        .route(RegisterBegin::ROUTE, post(register::begin))
        .route(RegisterDetails::ROUTE, post(register::details))
        .route(RegisterResend::ROUTE, post(register::resend))
        .route(RegisterConfirm::ROUTE, post(register::confirm))
        .route(PATH_USERS, get(ra::users))
        .route("/api/ra/users/{uuid}", get(ra::user))
        .route("/api/ra/users/{uuid}/reopen", post(ra::reopen))
        .route("/api/ra/users/{uuid}/contact", post(ra::contact))
        .route("/api/ra/users/{uuid}/phone-code", post(ra::phone_code))
        .route("/api/ra/users/{uuid}/role", post(ra::role))
        .route(PATH_AUDIT, get(ra::audit))
        .route(PATH_AUDIT_CSV, get(ra::audit_csv))
        .route(PATH_REPORTS, get(ra::reports))
        .route("/api/ra/reports/{id}/review", post(ra::review))
        .route(PATH_DASHBOARD, get(ra::dashboard))
        .route(
            "/api/{*rest}",
            axum::routing::any(|| async { AppError::NotFound }),
        )
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            refuse_cross_site,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state.clone());
    let csp = content_security_policy(&state.settings.bridge_url);
    // Once on HTTPS, browsers must never come back over plain HTTP (a downgrade would
    // expose the session cookie's origin to anyone on the path).
    let hsts = state
        .settings
        .public_origin_is_https()
        .then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    let app = match state.settings.static_dir.clone() {
        Some(dir) => api.fallback_service(spa(dir)),
        None => api.fallback(|| async { AppError::NotFound }),
    };
    app.layer(SetResponseHeaderLayer::if_not_present(
        header::STRICT_TRANSPORT_SECURITY,
        move |_: &axum::response::Response| hsts.clone(),
    ))
    .layer(SetResponseHeaderLayer::overriding(
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

/// ALL-6: a state-changing request must be JSON from our own page: a cross-site form or
/// `text/plain` beacon is refused before any handler runs, and so is any other origin.
async fn refuse_cross_site(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<axum::response::Response, AppError> {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let headers = request.headers();
        if !is_json(headers) {
            return Err(AppError::NotJson);
        }
        let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
        if origin != Some(state.settings.public_origin.as_str()) {
            return Err(AppError::ForeignOrigin);
        }
    }
    Ok(next.run(request).await)
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// Our cookies' names: `__Host-` (so only this exact origin, over HTTPS, can set them)
/// whenever the page is served over HTTPS; a plain name only for an `http://` demo.
fn cookie_name(state: &AppState, plain: &'static str, host: &'static str) -> &'static str {
    if state.settings.public_origin_is_https() {
        host
    } else {
        plain
    }
}

/// One of our cookies (ALL-6): HttpOnly, SameSite=Strict, the whole site, Secure on
/// HTTPS. `Max-Age` 0 clears it.
fn cookie(
    state: &AppState,
    name: &str,
    value: &str,
    max_age: i64,
) -> Result<HeaderValue, AppError> {
    let secure = if state.settings.public_origin_is_https() {
        "; Secure"
    } else {
        ""
    };
    let cookie =
        format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&cookie).map_err(|_| AppError::Invariant("cookie header"))
}

fn flow_cookie_name(state: &AppState) -> &'static str {
    cookie_name(state, "scss-flow", "__Host-scss-flow")
}

fn flow_cookie(state: &AppState, flow: &FlowSecret) -> Result<HeaderValue, AppError> {
    let max_age = crate::unlock::rules::ATTEMPT_TTL;
    cookie(
        state,
        flow_cookie_name(state),
        &flow.cookie_value(),
        max_age,
    )
}

/// The flow secret this browser sent, if any.
pub struct FlowCookie(pub Option<FlowSecret>);

impl FromRequestParts<AppState> for FlowCookie {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let value = cookie_value(&parts.headers, flow_cookie_name(state));
        Ok(FlowCookie(value.and_then(|v| FlowSecret::parse(&v))))
    }
}

/// The value of the cookie `name` in a request, if sent.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
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

/// The requester: the peer, or behind a trusted proxy its `X-Forwarded-For` (ALL-5).
pub struct Requester(pub Client);

impl FromRequestParts<AppState> for Requester {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let ConnectInfo(peer) = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::Invariant("no peer address"))?;
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let addr = client_addr(peer.ip(), &forwarded, &state.settings.trusted_proxies);
        Ok(Requester(Client { addr }))
    }
}

async fn ca_certificate(State(state): State<AppState>) -> Result<impl IntoResponse, AppError> {
    let pem = state
        .ca
        .certificate_pem()
        .map_err(|_| AppError::Invariant("CA certificate does not encode"))?;
    Ok(([(header::CONTENT_TYPE, "application/x-pem-file")], pem))
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
    Requester(client): Requester,
    ApiJson(request): ApiJson<<Start as Endpoint>::Request>,
) -> Result<impl IntoResponse, AppError> {
    let Started { response, flow } = state.start(request, &client).await?;
    let cookie = flow_cookie(&state, &flow)?;
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(response),
    ))
}

async fn card_proof(
    State(state): State<AppState>,
    Requester(client): Requester,
    AttemptPath(id): AttemptPath,
    FlowCookie(flow): FlowCookie,
    ApiJson(request): ApiJson<<CardProof as Endpoint>::Request>,
) -> Reply<CardProof> {
    Ok(Json(
        state
            .card_proof(&id, flow.as_ref(), request, &client)
            .await?,
    ))
}

async fn answers(
    State(state): State<AppState>,
    Requester(client): Requester,
    AttemptPath(id): AttemptPath,
    FlowCookie(flow): FlowCookie,
    ApiJson(request): ApiJson<<Answers as Endpoint>::Request>,
) -> Reply<Answers> {
    Ok(Json(
        state.answers(&id, flow.as_ref(), request, &client).await?,
    ))
}

async fn code(
    State(state): State<AppState>,
    Requester(client): Requester,
    AttemptPath(id): AttemptPath,
    FlowCookie(flow): FlowCookie,
    ApiJson(request): ApiJson<<Code as Endpoint>::Request>,
) -> Reply<Code> {
    Ok(Json(
        state.code(&id, flow.as_ref(), request, &client).await?,
    ))
}

async fn ra_code(
    State(state): State<AppState>,
    Requester(client): Requester,
    AttemptPath(id): AttemptPath,
    FlowCookie(flow): FlowCookie,
    ApiJson(request): ApiJson<<RaCode as Endpoint>::Request>,
) -> Reply<RaCode> {
    Ok(Json(
        state.ra_code(&id, flow.as_ref(), request, &client).await?,
    ))
}

async fn resume(
    State(state): State<AppState>,
    Requester(client): Requester,
    FlowCookie(flow): FlowCookie,
    ApiJson(request): ApiJson<<Resume as Endpoint>::Request>,
) -> Reply<Resume> {
    Ok(Json(state.resume(flow.as_ref(), request, &client).await?))
}

async fn channel(
    State(state): State<AppState>,
    Requester(client): Requester,
    AttemptPath(id): AttemptPath,
    FlowCookie(flow): FlowCookie,
    ApiJson(request): ApiJson<<Channel as Endpoint>::Request>,
) -> Reply<Channel> {
    Ok(Json(
        state.channel(&id, flow.as_ref(), request, &client).await?,
    ))
}

async fn script(
    State(state): State<AppState>,
    Requester(client): Requester,
    AttemptPath(id): AttemptPath,
    FlowCookie(flow): FlowCookie,
    ApiJson(request): ApiJson<<Script as Endpoint>::Request>,
) -> Reply<Script> {
    Ok(Json(
        state.script(&id, flow.as_ref(), request, &client).await?,
    ))
}

async fn complete(
    State(state): State<AppState>,
    Requester(client): Requester,
    AttemptPath(id): AttemptPath,
    FlowCookie(flow): FlowCookie,
    ApiJson(request): ApiJson<<Complete as Endpoint>::Request>,
) -> Reply<Complete> {
    Ok(Json(
        state.complete(&id, flow.as_ref(), request, &client).await?,
    ))
}
