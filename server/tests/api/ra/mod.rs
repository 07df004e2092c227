//! RA-1…RA-4 tried as RA agents, managers, staff and attackers would: the role from the
//! record on every call, separation of duties (`roles`), search and the user's page
//! (`find`), reopening a locked account, the phone code and contact changes (`actions`),
//! the audit search and its streamed CSV export (`audit`), the "this wasn't me" queue and
//! the at-risk dashboard (`reports`). Every call goes through the typed client; the few
//! raw requests send what no typed request can hold, and say so.

mod actions;
mod audit;
mod desk_renewal;
mod find;
mod reports;
mod roles;
mod step_up;

use api_types::ra::{AuditFilter, AuditPage, Reason, ReasonRequest, Role, UserUuid};
use api_types::{ApiError, Endpoint, ErrorCode};

use api_types::auth::{CardAgainRequest, LoginStart, LoginStartRequest, ProveCardAgain};

use crate::auth::{card_signs, login};
use crate::helpers::*;

/// Signed in as someone of this role (set in their record, as an operator would).
pub async fn signed_in(app: &TestApp, role: Role, name: (&str, &str)) -> (TestCard, String) {
    let card = app.enroll_person(name, true, false).await;
    set_role(app, &card, role).await;
    let (_, cookie) = login(app, &card).await.unwrap();
    (card, cookie)
}

async fn set_role(app: &TestApp, card: &TestCard, role: Role) {
    let mut conn = app.state.store.pool.acquire().await.unwrap();
    server::store::users::set_role(&mut conn, &uuid(card), role)
        .await
        .unwrap();
}

pub fn uuid(card: &TestCard) -> UserUuid {
    UserUuid::parse(&card.uuid).unwrap()
}

pub fn because(text: &str) -> Reason {
    Reason::parse(text).unwrap()
}

/// The reason most actions here give.
pub fn reason() -> ReasonRequest {
    ReasonRequest {
        reason: because("Identity checked on the phone against the HR record"),
    }
}

/// Endpoint `E` as the RA's browser (holding the session `cookie`) calls it: the typed
/// answer, or the refusal's code.
pub async fn as_ra<E: Endpoint>(
    app: &TestApp,
    cookie: &str,
    params: &E::Params,
    request: &E::Request,
) -> Result<E::Response, ErrorCode> {
    app.call_as::<E>(cookie, params, request)
        .await
        .map_err(|refused| refused.code())
}

/// The refusal's code in a raw answer; its status must be the code's, and it is never
/// cached (ALL-6).
pub async fn code_of(response: reqwest::Response) -> ErrorCode {
    let status = response.status();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(status.as_u16(), error.code.http_status(), "{error:?}");
    error.code
}

/// A GET of what no typed request can ask for (a malformed path value or query), with
/// this session cookie: the refusal's code.
pub async fn get_refused(app: &TestApp, path: &str, cookie: &str) -> ErrorCode {
    let response = app
        .client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert!(!response.status().is_success(), "{path}");
    code_of(response).await
}

/// The audit rows about a user, as (actor, action, outcome, detail).
pub async fn trail(
    app: &TestApp,
    cookie: &str,
    user: &TestCard,
) -> Vec<(String, String, String, String)> {
    let filter = AuditFilter {
        user: UserUuid::parse(&user.uuid).ok(),
        ..AuditFilter::default()
    };
    let page: AuditPage = as_ra::<api_types::ra::Audit>(app, cookie, &(), &filter)
        .await
        .unwrap();
    page.events
        .into_iter()
        .map(|e| (e.actor, e.action.as_str().to_owned(), e.outcome, e.detail))
        .collect()
}

/// The passcode entered again on `card`, for the session behind `cookie`.
pub async fn card_again(app: &TestApp, cookie: &str, card: &TestCard) -> Result<i64, ErrorCode> {
    let start = LoginStartRequest {
        card_guid: card.guid,
    };
    let started = app.call::<LoginStart>(&(), &start).await.unwrap();
    let request = CardAgainRequest {
        login_id: started.login_id,
        signature: card_signs(card, started.challenge.as_bytes()),
    };
    as_ra::<ProveCardAgain>(app, cookie, &(), &request)
        .await
        .map(|proven| proven.until)
}

/// Three wrong sets of answers: self-service closes (UNL-4).
pub async fn lock_out(app: &TestApp, card: &TestCard) {
    for _ in 0..3 {
        let (id, proof) = app.start_and_prove(card).await;
        let _ = app.answer(&id, &proof.unwrap(), false).await;
    }
    let (_, proof) = app.start_and_prove(card).await;
    assert_eq!(proof.unwrap_err().code(), ErrorCode::SelfServiceClosed);
}
