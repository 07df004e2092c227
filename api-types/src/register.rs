//! Self-service registration (REG-1…REG-4), spoken by the page to the server, for a
//! signed-in cardholder (a session cookie):
//! 1. `POST /api/register/begin` with a fresh card signature — the passcode entered
//!    again and verified on the card, then a login challenge (`/api/auth/login/start`)
//!    signed with the 9A key — → the 20 questions and the email on record.
//! 2. `POST /api/register/{id}/details` with 4 different questions answered and the
//!    email (confirmed or overwritten, on an approved domain) → a registration code is
//!    emailed (15 minutes, single use, limited tries).
//! 3. `POST /api/register/{id}/resend` → a new code (the tries already used still count).
//! 4. `POST /api/register/{id}/confirm` with the code → registered; a notice is emailed.

use serde::{Deserialize, Serialize};

use crate::auth::LoginId;
use crate::endpoints;
use crate::unlock::{Answer, Question};
use crate::values::{BoundedVec, CardSignature, UnlockCode};

/// A registration's id (16 random bytes, hex).
pub use crate::values::RegistrationId;

/// How many questions a registration answers (REG-2).
pub const ANSWERS_NEEDED: usize = 4;
/// The longest email address accepted (RFC 5321).
pub const MAX_EMAIL_LEN: usize = 254;

endpoints! {
    /// REG-1: a fresh card signature for the session's card; the questions and the email.
    RegisterBegin = POST "/api/register/begin", RegisterBeginRequest => RegisterBeginResponse,
        refuses [NotSignedIn, PasscodesLocked, NotFound, LoginExpired, CertificateNotValid,
            CardNotGenuine, SelfServiceClosed, RateLimited];
    /// REG-2 / REG-3: four answers and the email; a registration code is emailed.
    RegisterDetails = POST "/api/register/{id}/details" RegistrationId, RegisterDetailsRequest => CodeSent,
        refuses [NotSignedIn, PasscodesLocked, SelfServiceClosed, WrongStep, AttemptExpired,
            CodeTriesExhausted, QuestionsInvalid, EmailNotApproved, RateLimited];
    /// REG-3: a new code (the tries already used still count).
    RegisterResend = POST "/api/register/{id}/resend" RegistrationId, ResendRequest => CodeSent,
        refuses [NotSignedIn, PasscodesLocked, SelfServiceClosed, WrongStep, AttemptExpired,
            CodeTriesExhausted, RateLimited];
    /// REG-3 / REG-4: the emailed code; registered, and a notice is emailed.
    RegisterConfirm = POST "/api/register/{id}/confirm" RegistrationId, RegisterConfirmRequest => RegisterConfirmResponse,
        refuses [NotSignedIn, PasscodesLocked, CodeAlreadyUsed, WrongStep, SelfServiceClosed,
            CodeInvalid, CodeTriesExhausted, CodeExpired, RateLimited];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterBeginRequest {
    /// A login challenge for the session's card…
    pub login_id: LoginId,
    /// …signed by its 9A key after the passcode was verified on the card (REG-1).
    pub signature: CardSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterBeginResponse {
    pub registration_id: RegistrationId,
    /// Every question the organisation offers (REG-2: answer 4 different ones).
    pub questions: Vec<Question>,
    /// The email address on record, to confirm or overwrite (REG-3).
    pub email: String,
    /// The domains an address may be on (REG-3).
    pub approved_domains: Vec<String>,
}

/// A registration's answers (a name of its own: the schema derive takes no constant
/// as a generic argument).
pub type RegisterAnswers = BoundedVec<Answer, ANSWERS_NEEDED>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterDetailsRequest {
    /// Exactly [`ANSWERS_NEEDED`] different questions.
    pub answers: RegisterAnswers,
    pub email: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResendRequest {}

/// A registration code was emailed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CodeSent {
    /// Masked address the code went to, e.g. `j***@nhs.net`.
    pub email_hint: String,
    /// Unix seconds.
    pub code_expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterConfirmRequest {
    pub code: UnlockCode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterConfirmResponse {
    pub registered: bool,
}
