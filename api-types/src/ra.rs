//! The Registration Authority console (RA-1…RA-4), spoken by the `/ra/` pages to the
//! server under `/api/ra/`. Every call needs a session whose user the server's records
//! make an RA agent or manager (the role is never taken from the client); every action
//! names a [`Reason`], is refused on the RA's own account, is audited under the RA's
//! identity and tells the user by email.
//!
//! - [`SearchUsers`]: find users by UUID (exact) or name (prefix, case- and
//!   accent-insensitive).
//! - [`ViewUser`]: one user's cards, registration, locks, contact details and security
//!   events.
//! - [`Reopen`], [`ChangeUserContact`], [`IssuePhoneCode`], [`ChangeRole`]: the RA's
//!   actions on a user.
//! - [`Audit`] and [`AuditCsv`]: the trail, filtered ([`AuditFilter`]), and its CSV export.
//! - [`Reports`], [`ReviewReport`]: "this wasn't me" reports as a work queue.
//! - [`ViewDashboard`]: users at risk.

use serde::{Deserialize, Serialize};

pub use crate::audit::{ActionFilter, AuditRecord, OutcomeWord};

use crate::endpoint::NotJson;
use crate::endpoints;
use crate::values::{CardGuid, UnlockCode};

mod values;

pub use values::{Reason, ReportId, Role, UserUuid, REASON_MAX_CHARS};

endpoints! {
    /// RA-2: users by UUID (exact) or the start of a name, a page at a time.
    SearchUsers = GET "/api/ra/users", UserQuery => UserList,
        refuses [BadRequest, NotSignedIn, PasscodesLocked, RaRoleRequired, RateLimited];
    /// RA-2: everything the RA sees about one user.
    ViewUser = GET "/api/ra/users/{uuid}" UserUuid, () => UserRecord,
        refuses [NotSignedIn, PasscodesLocked, RaRoleRequired, RateLimited];
    /// RA-3 / UNL-4: reopen self-service for a user it was closed for.
    Reopen = POST "/api/ra/users/{uuid}/reopen" UserUuid, ReasonRequest => Done,
        refuses [NotSignedIn, PasscodesLocked, RaRoleRequired, OwnAccount, ManagerRequired,
            CardProofRequired, RateLimited];
    /// RA-6: the incident stop — self-service closed, every flow in progress failed, every
    /// session ended, in one action.
    StopSelfService = POST "/api/ra/users/{uuid}/stop" UserUuid, ReasonRequest => Done,
        refuses [NotSignedIn, PasscodesLocked, RaRoleRequired, OwnAccount, ManagerRequired,
            RateLimited];
    /// CERT-5: a card reported lost or stolen — every certificate of the user's cards
    /// revoked, every flow failed and every session ended; the user is told.
    RevokeCertificates = POST "/api/ra/users/{uuid}/revoke" UserUuid, ReasonRequest => Done,
        refuses [NotSignedIn, PasscodesLocked, RaRoleRequired, OwnAccount, ManagerRequired,
            RateLimited];
    /// PASS-4 / RA-3: unlock an account locked because its passcodes expired unchanged;
    /// the user must change them at their next sign-in, and has the lock period again.
    UnlockPasscodes = POST "/api/ra/users/{uuid}/passcodes-unlock" UserUuid, ReasonRequest => Done,
        refuses [NotSignedIn, PasscodesLocked, RaRoleRequired, OwnAccount, ManagerRequired,
            CardProofRequired, RateLimited];
    /// RA-3 / CERT-4: the RA renews the user's certificates at their desk (the third
    /// renewal in a row, or an ended certificate), their own card proven in the last 5
    /// minutes (RA-5), the cardholder's card in the reader: this opens the renewal's
    /// secure channel; its steps go on at `/api/renewal/{id}/…` under the RA's session.
    RenewAtDesk = POST "/api/ra/users/{uuid}/renewal" UserUuid, DeskRenewalRequest => crate::renewal::RenewalOpened,
        refuses [NotSignedIn, PasscodesLocked, RaRoleRequired, OwnAccount, ManagerRequired,
            CardProofRequired, CertificateNotValid, RenewalNotDue, RateLimited];
    /// RA-3: change a user's email and mobile; both addresses are told.
    ChangeUserContact = POST "/api/ra/users/{uuid}/contact" UserUuid, ContactRequest => Done,
        refuses [NotSignedIn, PasscodesLocked, RaRoleRequired, OwnAccount, ManagerRequired,
            CardProofRequired, EmailNotApproved, RateLimited];
    /// RA-3 / UNL-8: a code for the RA to read out on the phone, shown once.
    IssuePhoneCode = POST "/api/ra/users/{uuid}/phone-code" UserUuid, ReasonRequest => PhoneCode,
        refuses [NotSignedIn, PasscodesLocked, RaRoleRequired, OwnAccount, ManagerRequired,
            CardProofRequired, RateLimited];
    /// RA-1: an RA manager changes a user's role.
    ChangeRole = POST "/api/ra/users/{uuid}/role" UserUuid, RoleRequest => Done,
        refuses [NotSignedIn, PasscodesLocked, RaRoleRequired, OwnAccount, CardProofRequired,
            RateLimited];
    /// RA-4: the audit trail, filtered, newest first, a page at a time.
    Audit = GET "/api/ra/audit", AuditFilter => AuditPage,
        refuses [BadRequest, NotSignedIn, PasscodesLocked, RaRoleRequired, RateLimited];
    /// RA-4: the same filters as a CSV download, streamed. Not JSON: the page links to it.
    AuditCsv = GET "/api/ra/audit.csv", AuditFilter => NotJson,
        refuses [BadRequest, NotSignedIn, PasscodesLocked, RaRoleRequired, RateLimited];
    /// RA-4: the open "this wasn't me" reports.
    Reports = GET "/api/ra/reports", () => ReportList,
        refuses [NotSignedIn, PasscodesLocked, RaRoleRequired, RateLimited];
    /// RA-4: a report was looked into; it leaves the queue.
    ReviewReport = POST "/api/ra/reports/{id}/review" ReportId, ReasonRequest => Done,
        refuses [NotSignedIn, PasscodesLocked, RaRoleRequired, OwnAccount, ManagerRequired,
            RateLimited];
    /// RA-4: users at risk.
    ViewDashboard = GET "/api/ra/dashboard", () => Dashboard,
        refuses [NotSignedIn, PasscodesLocked, RaRoleRequired, RateLimited];
}

/// Users per page of search results.
pub const USERS_PER_PAGE: u32 = 20;
/// Audit events per page.
pub const EVENTS_PER_PAGE: u32 = 50;

/// The query of [`SearchUsers`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserQuery {
    /// A 12-digit UUID (exact), or the start of a name.
    pub q: String,
    /// From 0.
    #[serde(default)]
    pub page: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserList {
    pub users: Vec<UserSummary>,
    pub page: u32,
    pub has_more: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserSummary {
    pub uuid: UserUuid,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub registered: bool,
    pub self_service_closed: bool,
}

/// RA-2: everything the RA sees about one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserRecord {
    pub summary: UserSummary,
    pub mobile: Option<String>,
    pub locks: Locks,
    pub cards: Vec<CardRecord>,
    /// The live phone code, if one was issued and is still usable.
    pub phone_code: Option<PhoneCodeState>,
    /// The user's security events, newest first (the latest [`EVENTS_PER_PAGE`]).
    pub events: Vec<AuditRecord>,
}

/// Why self-service is closed, if it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Locks {
    pub self_service_closed: bool,
    /// UNL-4: three wrong answers.
    pub questions_locked: bool,
    /// UNL-5: too many wrong unlock codes in a day.
    pub code_locked: bool,
    /// "This wasn't me" reports not yet reviewed.
    pub open_reports: u32,
    pub answer_failures: u32,
    pub code_failures: u32,
    /// PASS-4: the passcodes expired and were not changed in time.
    pub passcodes_locked: bool,
    /// SCSC-4: five wrong Account Recovery details closed the Smartcard Service Centre's
    /// route (reopening self-service opens it again).
    pub recovery_locked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CardRecord {
    pub guid: CardGuid,
    /// Unix seconds.
    pub issued_at: i64,
    pub certificate_expires_at: Option<i64>,
    /// The passcode tries the card had when the server last learnt them (a login, an
    /// unlock), and when.
    pub pin_tries_left: Option<u8>,
    pub pin_tries_seen_at: Option<i64>,
    /// CERT-4: self-service renewals since the RA last renewed the card.
    pub renewals_in_a_row: i64,
    /// CERT-2 / CERT-4 / POL-4: what is due for its certificates (`by_ra`: the RA renews
    /// them at the desk).
    pub renewal: crate::policy::RenewalDue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PhoneCodeState {
    pub issued_at: i64,
    pub expires_at: i64,
    pub tries_left: u32,
}

/// The body of every RA action that needs only a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    pub reason: Reason,
}

/// RA-3 / CERT-4: the card in the reader at the desk, and how the RA verified who the
/// cardholder is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeskRenewalRequest {
    pub card_guid: crate::CardGuid,
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    pub email: String,
    #[serde(default)]
    pub mobile: Option<String>,
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    pub role: Role,
    pub reason: Reason,
}

/// RA-3: a code for the RA to read out on the phone: single use, 10 minutes, a few
/// tries, and good only in an unlock of this user's own card. Shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PhoneCode {
    pub code: UnlockCode,
    pub expires_at: i64,
    pub tries: u32,
}

/// RA-4: filters of the audit search and its CSV export; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserUuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardGuid>,
    /// An action, e.g. `unlock.answers`, or a whole area (`unlock.`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionFilter>,
    /// `ok`, another success outcome, or an error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OutcomeWord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = "ip"))]
    pub client: Option<std::net::IpAddr>,
    /// Unix seconds, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
    /// Paging: only events older than this sequence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditPage {
    pub events: Vec<AuditRecord>,
    /// Pass as `before` for the next (older) page.
    pub next_before: Option<i64>,
    /// With the first page (no `before`) only.
    pub chain: Option<ChainState>,
}

/// RA-4: whether the trail's MAC chains verify under the server's audit key, as far as
/// they have been checked (incrementally, from MACed checkpoints: a page checks a bounded
/// number of new events, a background check the rest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "snake_case", tag = "state")]
pub enum ChainState {
    /// Every chain links up from its start: `rows` events verified; `unchecked` newer
    /// ones not reached yet.
    Intact { rows: u64, unchecked: u64 },
    /// The first edited or missing event (`seq`), or a fault of chain `chain` as a whole
    /// (rows cut from its end, a forged checkpoint).
    Broken {
        seq: Option<i64>,
        chain: i64,
        reason: String,
    },
}

/// A "this wasn't me" report in the RA's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub id: ReportId,
    pub user: UserSummary,
    /// Which notice carried the link: `unlock`, `registration`, `contact`.
    pub notice: String,
    pub reported_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReportList {
    pub reports: Vec<Report>,
}

/// Users at risk, each list linking to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Dashboard {
    /// Never confirmed an email address by a registration code.
    pub unverified_email: Vec<UserSummary>,
    /// A card certificate expiring within 30 days.
    pub expiring_certificates: Vec<Expiring>,
    /// Two or more lockouts within 30 days.
    pub repeat_lockouts: Vec<Lockouts>,
    pub open_reports: Vec<Report>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Expiring {
    pub user: UserSummary,
    pub card_guid: CardGuid,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Lockouts {
    pub user: UserSummary,
    pub lockouts: u32,
}

/// Empty JSON object answer of actions that only change state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Done {}
