//! Card login (AUTH-1, AUTH-2), spoken by the page to the server:
//! 1. `POST /api/auth/login/start` with the card's GUID → a fresh single-use challenge.
//! 2. The bridge verifies the PIN on the card and signs the challenge with the 9A key
//!    (`/v1/card/login`).
//! 3. `POST /api/auth/login/finish` with the signature → a session (an HttpOnly,
//!    SameSite=Strict cookie; `__Host-` and Secure on HTTPS) and who is signed in.
//!
//! `GET /api/auth/session` says who is signed in (or `not_signed_in`); `POST
//! /api/auth/logout` ends the session.

use serde::{Deserialize, Serialize};

use crate::unlock::Endpoint;
use crate::values::{AttemptId, CardGuid, CardSignature, Challenge};

/// A login attempt's id (16 random bytes, hex), like an unlock attempt's.
pub type LoginId = AttemptId;

pub const PATH_SESSION: &str = "/api/auth/session";
/// `GET`: "My card" for the signed-in user ([`MyCard`]).
pub const PATH_MY_CARD: &str = "/api/me";

/// REG-5: what the signed-in user sees about themselves and their card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MyCard {
    pub display_name: String,
    pub uuid: String,
    pub organisation: String,
    pub email: String,
    /// UK mobile number in E.164 form (`+447…`), if the user keeps one.
    pub mobile: Option<String>,
    /// Registered for self-service unlock (REG-1…REG-4).
    pub registered: bool,
    /// Closed after three failed answers, or a "this wasn't me" report, until the RA.
    pub self_service_closed: bool,
    pub card_guid: CardGuid,
    /// Unix seconds: when the card's login certificate (9A) expires.
    pub certificate_expires_at: Option<i64>,
    /// The most recent security events, newest first.
    pub events: Vec<SecurityEvent>,
}

/// REG-5: change the email and mobile on "My card". The passcode is entered again and
/// verified on the card first (a fresh login challenge signed by the session's card),
/// because the email is where unlock codes go; the old address is told.
pub struct ChangeContact;
impl Endpoint for ChangeContact {
    const ROUTE: &'static str = "/api/me/contact";
    type Request = ChangeContactRequest;
    type Response = MyCard;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeContactRequest {
    pub login_id: LoginId,
    pub signature: CardSignature,
    pub email: String,
    /// Empty or absent: no mobile number.
    #[serde(default)]
    pub mobile: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityEvent {
    /// Unix seconds.
    pub at: i64,
    /// What happened; the page says it in words.
    pub action: crate::audit::AuditAction,
    /// `ok` or an error code.
    pub outcome: String,
}

/// "This wasn't me": the single-use link in every notice email (unlock, registration,
/// contact change) leads to a page that posts its token here; the report is recorded for
/// the RA and self-service closes for the user until the RA has reviewed it. The token
/// travels in the link's fragment (`/not-me#TOKEN`), so it is in no server log or
/// Referer, and a mail scanner fetching the link reports nothing.
pub struct NotMe;
impl Endpoint for NotMe {
    const ROUTE: &'static str = "/api/not-me";
    type Request = NotMeRequest;
    type Response = NotMeResponse;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotMeRequest {
    pub token: crate::values::NotMeToken,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotMeResponse {
    pub reported: bool,
}

pub struct LoginStart;
impl Endpoint for LoginStart {
    const ROUTE: &'static str = "/api/auth/login/start";
    type Request = LoginStartRequest;
    type Response = LoginStartResponse;
}

pub struct LoginFinish;
impl Endpoint for LoginFinish {
    const ROUTE: &'static str = "/api/auth/login/finish";
    type Request = LoginFinishRequest;
    type Response = SessionInfo;
}

pub struct Logout;
impl Endpoint for Logout {
    const ROUTE: &'static str = "/api/auth/logout";
    type Request = LogoutRequest;
    type Response = LogoutResponse;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginStartRequest {
    pub card_guid: CardGuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginStartResponse {
    pub login_id: LoginId,
    /// For the card to sign with its 9A key after the PIN.
    pub challenge: Challenge,
    /// Unix seconds.
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginFinishRequest {
    pub login_id: LoginId,
    /// DER ECDSA signature over the challenge, by the card's 9A key.
    pub signature: CardSignature,
}

/// Who is signed in, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionInfo {
    pub display_name: String,
    pub uuid: String,
    pub card_guid: CardGuid,
    /// Unix seconds: the session ends then at the latest, used or not (AUTH-2).
    pub expires_at: i64,
    /// Seconds without a request after which the session ends (AUTH-2).
    pub idle_timeout_secs: i64,
    /// From the server's records (RA-1): the page shows the RA console to RA roles; the
    /// server checks the role on every RA call regardless.
    pub role: crate::ra::Role,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutResponse {}
