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

use crate::endpoints;
use crate::values::{CardGuid, CardSignature, Challenge};

/// A login attempt's id (16 random bytes, hex), like an unlock attempt's.
pub use crate::values::LoginId;

endpoints! {
    /// AUTH-1: the card names itself; a fresh single-use challenge for its 9A key.
    LoginStart = POST "/api/auth/login/start", LoginStartRequest => LoginStartResponse,
        refuses [UnknownCard, RateLimited];
    /// AUTH-1 / AUTH-2: the signed challenge; a session cookie and who is signed in.
    LoginFinish = POST "/api/auth/login/finish", LoginFinishRequest => SessionInfo,
        refuses [NotFound, LoginExpired, CertificateNotValid, CardNotGenuine,
            RenewalUnfinished, PasscodesLocked, RateLimited];
    /// AUTH-2: ends the session and clears its cookie.
    Logout = POST "/api/auth/logout", LogoutRequest => LogoutResponse,
        refuses [NotSignedIn, PasscodesLocked, RateLimited];
    /// AUTH-2: who is signed in on this browser, or `not_signed_in`.
    Session = GET "/api/auth/session", () => SessionInfo,
        refuses [NotSignedIn, PasscodesLocked, RateLimited];
    /// REG-5: "My card" for the signed-in user.
    Me = GET "/api/me", () => MyCard, refuses [NotSignedIn, PasscodesLocked, RateLimited];
    /// REG-5: change the email and mobile on "My card". The passcode is entered again and
    /// verified on the card first (a fresh login challenge signed by the session's card),
    /// because the email is where unlock codes go; the old address is told.
    ChangeContact = POST "/api/me/contact", ChangeContactRequest => MyCard,
        refuses [NotSignedIn, PasscodesLocked, NotFound, LoginExpired, CertificateNotValid,
            CardNotGenuine, SelfServiceClosed, EmailNotApproved, RateLimited];
    /// RA-5: the passcode entered again and verified on the session's own card (a fresh
    /// login challenge signed by its 9A key): actions that give someone access are allowed
    /// for 5 minutes after it (or after signing in).
    ProveCardAgain = POST "/api/auth/card-again", CardAgainRequest => CardProven,
        refuses [NotSignedIn, PasscodesLocked, NotFound, LoginExpired, CertificateNotValid,
            CardNotGenuine, RateLimited];
    /// "This wasn't me": the single-use link in every notice email (unlock, registration,
    /// contact change) leads to a page that posts its token here; the report is recorded
    /// for the RA and self-service closes for the user until the RA has reviewed it. The
    /// token travels in the link's fragment (`/not-me#TOKEN`), so it is in no server log
    /// or Referer, and a mail scanner fetching the link reports nothing.
    NotMe = POST "/api/not-me", NotMeRequest => NotMeResponse,
        refuses [NotFound, CodeAlreadyUsed, RateLimited];
}

/// REG-5: what the signed-in user sees about themselves and their card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MyCard {
    pub display_name: String,
    pub uuid: crate::ra::UserUuid,
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
    /// CERT-4: self-service renewals since the RA last renewed the card, and how many
    /// may be done in a row (none: no limit, POL-4).
    pub renewals_in_a_row: i64,
    pub renewals_allowed_in_a_row: Option<i64>,
    /// PASS-4: when the passcodes were last set, and when the RA last unlocked the
    /// account after they expired (the timeline's dates follow from these).
    pub passcodes_set_at: Option<i64>,
    pub passcodes_unlocked_at: Option<i64>,
    /// The most recent security events, newest first.
    pub events: Vec<SecurityEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SecurityEvent {
    /// Unix seconds.
    pub at: i64,
    /// What happened; the page says it in words.
    pub action: crate::audit::AuditAction,
    /// `ok` or an error code.
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotMeRequest {
    pub token: crate::values::NotMeToken,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotMeResponse {
    pub reported: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginStartRequest {
    pub card_guid: CardGuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginStartResponse {
    pub login_id: LoginId,
    /// For the card to sign with its 9A key after the PIN.
    pub challenge: Challenge,
    /// Unix seconds.
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginFinishRequest {
    pub login_id: LoginId,
    /// DER ECDSA signature over the challenge, by the card's 9A key.
    pub signature: CardSignature,
}

/// RA-5: the session's card signed a fresh login challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CardAgainRequest {
    pub login_id: LoginId,
    /// DER ECDSA signature over the challenge, by the session's card's 9A key.
    pub signature: CardSignature,
}

/// RA-5: until when (Unix seconds) actions that give access are allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CardProven {
    pub until: i64,
}

/// Who is signed in, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionInfo {
    pub display_name: String,
    pub uuid: crate::ra::UserUuid,
    pub card_guid: CardGuid,
    /// Unix seconds: the session ends then at the latest, used or not (AUTH-2).
    pub expires_at: i64,
    /// Seconds without a request after which the session ends (AUTH-2).
    pub idle_timeout_secs: i64,
    /// From the server's records (RA-1): the page shows the RA console to RA roles; the
    /// server checks the role on every RA call regardless.
    pub role: crate::ra::Role,
    /// CERT-2 / POL-4: whether the card's certificates are due for renewal; `forced`
    /// sends the page to renewal before anything else.
    pub renewal: crate::policy::RenewalDue,
    /// PASS-4: whether the passcodes are due; `expired` sends the page to Manage
    /// Passcodes before anything else.
    pub passcodes: crate::passcodes::PasscodesDue,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LogoutResponse {}
