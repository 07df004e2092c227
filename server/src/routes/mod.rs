//! HTTP edge: thin handlers that parse (newtypes from `api-types`), call one step of a
//! flow, and answer JSON; plus the built SPA. The router is built from the endpoints
//! `api-types` declares ([`Endpoint`]): each one's route and method come from its one
//! declaration, which the SPA and the tests use too, so no path or method is written
//! here. Every refusal is an [`ApiError`](api_types::ApiError) body.
//!
//! - `unlock`, `auth`, `register`, `ra`, `public`: the handlers, by flow.
//! - `extract`: what handlers take from a request (body, query, path value, requester).
//! - `cookies`: the flow and session cookies.

use api_types::auth::{
    ChangeContact, LoginFinish, LoginStart, Logout, Me, NotMe, ProveCardAgain, Session,
};
use api_types::endpoint::{Endpoint, Method as Verb, API_PREFIX};
use api_types::helpdesk::HelpdeskCheck;
use api_types::openapi::ApiDocument;
use api_types::passcodes::{FinishPasscodeUpdate, UpdatePasscodes, ViewPasscodes};
use api_types::ra::{
    Audit, AuditCsv, ChangeRole, ChangeUserContact, IssuePhoneCode, RenewAtDesk, Reopen, Reports,
    ReviewReport, RevokeCertificates, SearchUsers, StopSelfService, UnlockPasscodes, ViewDashboard,
    ViewUser,
};
use api_types::recovery::{Recovery, SendCode};
use api_types::register::{RegisterBegin, RegisterConfirm, RegisterDetails, RegisterResend};
use api_types::renewal::{
    RenewalCertificates, RenewalChannel, RenewalComplete, RenewalKeys, RenewalRecover, RenewalStart,
};
use api_types::unlock::{
    Answers, CaCertificate, CardProof, Channel, Code, Complete, Config, Crl, Health, RaCode,
    Resume, Script, Start,
};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::handler::Handler;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::routing::{get, post};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::ToSchema;

use crate::{AppError, AppState};

mod auth;
mod cookies;
mod extract;
mod openapi;
mod passcodes;
mod public;
mod ra;
mod register;
mod renewal;
mod spa;
mod unlock;

const BODY_LIMIT: usize = 16 * 1024;

/// The API as it is built: the router, and the OpenAPI document of what it routes (OPS-1).
struct Api {
    router: Router<AppState>,
    document: ApiDocument,
    /// The routes that take a POST: only a POST to one of them is checked as a state
    /// change (ALL-6); one to any other route meets 405.
    posts: Vec<&'static str>,
}

impl Api {
    /// Serves endpoint `E` with `handler` at `E::ROUTE` for `E::METHOD` — the route and the
    /// method come from the one declaration the SPA and the tests use too — and describes
    /// it in the document from that same declaration.
    fn serve<E, H, T>(mut self, _: E, handler: H) -> Self
    where
        E: Endpoint,
        E::Params: ToSchema,
        E::Request: ToSchema,
        E::Response: ToSchema,
        H: Handler<T, AppState>,
        T: 'static,
    {
        let method = match E::METHOD {
            Verb::Get => get(handler),
            Verb::Post => {
                self.posts.push(E::ROUTE);
                post(handler)
            }
        };
        self.router = self.router.route(E::ROUTE, method);
        self.document.add::<E>();
        self
    }
}

/// Every endpoint `api-types` declares, and the handler that serves it.
fn api() -> Api {
    Api {
        router: Router::new(),
        document: ApiDocument::new(),
        posts: Vec::new(),
    }
    .serve(Health, public::health)
    .serve(Config, public::config)
    .serve(CaCertificate, public::ca_certificate)
    .serve(Crl, public::crl)
    .serve(Start, unlock::start)
    .serve(Resume, unlock::resume)
    .serve(CardProof, unlock::card_proof)
    .serve(Answers, unlock::answers)
    .serve(Recovery, unlock::recovery)
    .serve(SendCode, unlock::send_code)
    .serve(Code, unlock::code)
    .serve(RaCode, unlock::ra_code)
    .serve(Channel, unlock::channel)
    .serve(Script, unlock::script)
    .serve(Complete, unlock::complete)
    .serve(LoginStart, auth::login_start)
    .serve(LoginFinish, auth::login_finish)
    .serve(Logout, auth::logout)
    .serve(Session, auth::session)
    .serve(NotMe, auth::not_me)
    .serve(Me, auth::my_card)
    .serve(ChangeContact, auth::change_contact)
    .serve(ProveCardAgain, auth::prove_card_again)
    .serve(RegisterBegin, register::begin)
    .serve(RegisterDetails, register::details)
    .serve(RegisterResend, register::resend)
    .serve(RegisterConfirm, register::confirm)
    .serve(SearchUsers, ra::users)
    .serve(ViewUser, ra::user)
    .serve(Reopen, ra::reopen)
    .serve(StopSelfService, ra::stop)
    .serve(RevokeCertificates, ra::revoke)
    .serve(UnlockPasscodes, ra::passcodes_unlock)
    .serve(RenewAtDesk, ra::renew_at_desk)
    .serve(ChangeUserContact, ra::contact)
    .serve(IssuePhoneCode, ra::phone_code)
    .serve(ChangeRole, ra::role)
    .serve(Audit, ra::audit)
    .serve(AuditCsv, ra::audit_csv)
    .serve(Reports, ra::reports)
    .serve(ReviewReport, ra::review)
    .serve(ViewDashboard, ra::dashboard)
    .serve(ViewPasscodes, passcodes::view)
    .serve(UpdatePasscodes, passcodes::update)
    .serve(FinishPasscodeUpdate, passcodes::finish)
    .serve(HelpdeskCheck, passcodes::helpdesk_check)
    .serve(RenewalStart, renewal::start)
    .serve(RenewalRecover, renewal::recover)
    .serve(RenewalChannel, renewal::channel)
    .serve(RenewalKeys, renewal::keys)
    .serve(RenewalCertificates, renewal::certificates)
    .serve(RenewalComplete, renewal::complete)
}

pub fn router(state: AppState) -> Router {
    let Api {
        router,
        document,
        posts,
    } = api();
    let guard = Guard {
        state: state.clone(),
        posts: posts.into(),
    };
    let document = openapi::document(document);
    let api = router
        .merge(crate::ops::probes())
        .route(openapi::PATH, get(move || openapi::serve(document.clone())))
        // Any other path under the API is a JSON 404, never the SPA's page.
        .route(
            &format!("{API_PREFIX}{{*rest}}"),
            axum::routing::any(|| async { AppError::NotFound }),
        )
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        // One layer of three: `Router::layer` boxes each, and every request clones the box.
        .layer(
            ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                ))
                .layer(DefaultBodyLimit::max(BODY_LIMIT))
                .layer(axum::middleware::from_fn_with_state(
                    guard,
                    refuse_cross_site,
                )),
        )
        .with_state(state.clone());
    let csp = content_security_policy(&state.settings.bridge_url);
    // Once on HTTPS, browsers must never come back over plain HTTP (a downgrade would
    // expose the session cookie's origin to anyone on the path).
    let hsts = state
        .settings
        .public_origin_is_https()
        .then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    let app = match state.settings.static_dir.clone() {
        Some(dir) => api.fallback_service(spa::spa(dir, &public::public_config(&state.settings))),
        None => api.fallback(|| async { AppError::NotFound }),
    };
    // The page's security headers, as one layer (see the API's above).
    app.layer(
        ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                HeaderName::from_static("permissions-policy"),
                HeaderValue::from_static(PERMISSIONS_POLICY),
            ))
            // No window another site opens can reach ours, and the page asks for no
            // device feature it does not use (local network access, which it does use,
            // keeps its default of this origin only).
            .layer(SetResponseHeaderLayer::overriding(
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("DENY"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::CONTENT_SECURITY_POLICY,
                csp,
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::STRICT_TRANSPORT_SECURITY,
                move |_: &axum::response::Response| hsts.clone(),
            ))
            // OPS-2: after routing, so the route's template is known.
            .layer(axum::middleware::from_fn(
                crate::ops::metrics::count_requests,
            )),
    )
}

/// Every powerful feature the page never uses, off for it and anything it might embed.
const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), \
     display-capture=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), \
     microphone=(), midi=(), payment=(), serial=(), usb=(), xr-spatial-tracking=()";

/// ALL-6: a state-changing request (a POST: no other method has a handler, so the rest
/// meet 405) must be JSON from our own page: a cross-site form or `text/plain` beacon is
/// refused before any handler runs, and so is any other origin.
/// An API read is refused too when the browser says another site — even a sibling
/// subdomain, which SameSite=Strict cookies do not stop — asked for it: reads with a
/// session write (the session's idle clock, the RA's view of a user in the trail).
#[derive(Clone)]
struct Guard {
    state: AppState,
    posts: std::sync::Arc<[&'static str]>,
}

async fn refuse_cross_site(
    State(Guard { state, posts }): State<Guard>,
    request: Request,
    next: Next,
) -> Result<axum::response::Response, AppError> {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|matched| matched.as_str());
    // The JSON 404 for unknown API paths takes any method, so it is checked too.
    let takes_post = route.is_none_or(|route| route.contains("{*") || posts.contains(&route));
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        let api = request.uri().path().starts_with(API_PREFIX);
        if api && !asked_by_our_page(request.headers(), &state.settings.public_origin) {
            return Err(AppError::ForeignOrigin);
        }
    } else if *request.method() == Method::POST && takes_post {
        let headers = request.headers();
        if !https_serve::is_json(headers) {
            return Err(AppError::NotJson);
        }
        let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
        if origin != Some(state.settings.public_origin.as_str()) {
            return Err(AppError::ForeignOrigin);
        }
    }
    Ok(next.run(request).await)
}

/// `Sec-Fetch-Site` (sent by every current browser) says our own origin or the user
/// themselves (`none`: typed or bookmarked); an `Origin`, if any, is ours. A client that
/// sends neither (not a browser) is judged by its credentials alone.
fn asked_by_our_page(headers: &HeaderMap, public_origin: &str) -> bool {
    let site = headers
        .get("sec-fetch-site")
        .map(|v| v.to_str().unwrap_or_default());
    let origin = headers
        .get(header::ORIGIN)
        .map(|o| o.to_str().unwrap_or_default());
    matches!(site, None | Some("same-origin" | "none")) && origin.is_none_or(|o| o == public_origin)
}

/// The page may load only our own files and talk only to us and the card bridge.
fn content_security_policy(bridge_url: &str) -> HeaderValue {
    let bridge = bridge_url.trim_end_matches('/');
    let bridge_ws = bridge.replacen("http", "ws", 1);
    let policy = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self'; font-src 'self'; \
         connect-src 'self' {bridge} {bridge_ws}; frame-ancestors 'none'; base-uri 'none'; \
         form-action 'self'; object-src 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'self'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_1_every_type_in_the_document_has_a_name_of_its_own() {
        let Api {
            document, posts, ..
        } = api();
        assert_eq!(posts.len(), 39);
        assert_eq!(document.operations(), 52);
        assert!(document.clashes().is_empty(), "{:?}", document.clashes());
    }

    #[test]
    fn ops_1_every_example_reads_as_its_endpoint_s_types() {
        let Api { document, .. } = api();
        assert!(
            document.bad_examples().is_empty(),
            "{:?}",
            document.bad_examples()
        );
    }
}
