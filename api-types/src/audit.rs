//! RA-4 / REG-5: the audit trail as it is read — the stable names of what happened
//! ([`AuditAction`], kept as these strings in the database, so renaming a variant never
//! orphans old rows) and one wire record of an event ([`AuditRecord`]) for the RA console.
//! "My card" shows a cardholder their own events ([`crate::auth::SecurityEvent`]); the
//! page owns the words for each action.

use serde::{Deserialize, Serialize};

macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// What an audit event records: one step of a flow, or an operator's command.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum AuditAction {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
        }

        impl AuditAction {
            /// Every action, once each.
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)*];

            /// The name the database keeps.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $name,)*
                }
            }
        }
    };
}

actions! {
    /// UNL-1: a card named itself to start an unlock.
    UnlockStart = "unlock.start",
    /// CARD-3: a reloaded page found its attempt again.
    UnlockResume = "unlock.resume",
    /// CARD-6: the card signed the attempt's challenge.
    UnlockCardProof = "unlock.card_proof",
    /// UNL-3 / UNL-4: the security answers.
    UnlockAnswers = "unlock.answers",
    /// SCSC-1 / SCSC-4: the Account Recovery details.
    UnlockRecovery = "unlock.recovery",
    /// SCSC-2 / POL-3: a one-time code sent by email or text.
    UnlockSendCode = "unlock.send_code",
    /// UNL-5: the emailed code.
    UnlockCode = "unlock.code",
    /// RA-3: the code an RA gave by phone.
    UnlockRaCode = "unlock.ra_code",
    /// CARD-3: the secure channel opened.
    UnlockChannel = "unlock.channel",
    /// CARD-3: the sealed script sent.
    UnlockScript = "unlock.script",
    /// UNL-7: the card's answers judged; unlocked.
    UnlockComplete = "unlock.complete",
    /// AUTH-1: a login challenge asked for.
    LoginStart = "auth.login_start",
    /// AUTH-1: a card login.
    Login = "auth.login",
    /// AUTH-2: a session refused or timed out.
    Session = "auth.session",
    /// AUTH-2: a sign-out.
    Logout = "auth.logout",
    /// REG-1: a registration begun.
    RegisterBegin = "register.begin",
    /// REG-2 / REG-3: questions, answers and email given.
    RegisterDetails = "register.details",
    /// REG-4: a new registration code asked for.
    RegisterResend = "register.resend",
    /// REG-4: the registration confirmed.
    RegisterConfirm = "register.confirm",
    /// RA-5: the passcode entered again on the session's card, for actions that give access.
    CardAgain = "auth.card_again",
    /// REG-5: the user changed their contact details.
    ContactChange = "user.contact",
    /// RA-4: "this wasn't me".
    NotMe = "user.not_me",
    /// RA-1: the console refused someone without the role.
    RaAccess = "ra.access",
    /// RA-2 / RA-4: an RA searched for users (the words searched for are in the detail).
    RaSearch = "ra.search",
    /// RA-2: an RA opened a user's record.
    RaViewUser = "ra.view_user",
    /// RA-3: an RA reopened self-service.
    RaReopen = "ra.reopen",
    /// RA-6: an RA stopped self-service and everything under way (an incident).
    RaStop = "ra.stop",
    /// RA-3: an RA changed contact details.
    RaContact = "ra.contact",
    /// RA-3: an RA gave a code by phone.
    RaPhoneCode = "ra.phone_code",
    /// RA-1: a manager changed a role.
    RaRole = "ra.role",
    /// RA-4: an RA exported the trail.
    RaAuditExport = "ra.audit_export",
    /// RA-4: an RA reviewed a "this wasn't me" report.
    RaReviewReport = "ra.review_report",
    /// RA-4: an RA read a page of the trail (the filters are in the detail).
    RaViewTrail = "ra.view_trail",
    /// RA-4: an RA opened the queue of "this wasn't me" reports.
    RaViewReports = "ra.view_reports",
    /// RA-3 / CERT-4: an RA began renewing a user's certificates at their desk.
    RaRenew = "ra.renew",
    /// PASS-4 / RA-3: an account locked by expired passcodes, unlocked by the RA.
    RaPasscodesUnlock = "ra.passcodes_unlock",
    /// CERT-5: an RA revoked the certificates of a card reported lost or stolen.
    RaRevoke = "ra.revoke",
    /// RA-4: an RA opened the dashboard of accounts at risk.
    RaViewDashboard = "ra.view_dashboard",
    /// CERT-1: a card issued its keys and certificates.
    CardIssue = "card.issue",
    /// CERT-3: a certificate renewal begun, with the passcode entered on the card.
    RenewStart = "cert.renew_start",
    /// CERT-3: a renewal's secure channel opened again after a failure.
    RenewChannel = "cert.renew_channel",
    /// CERT-3: a renewal cut off after the card made its keys, finished from a sign-in
    /// the server could not check: a channel that reads the card's keys.
    RenewRecover = "cert.renew_recover",
    /// PASS-2: an Update of the passcodes, the current one entered on the card.
    PasscodesUpdate = "passcodes.update",
    /// PASS-2: the card took its new passcode; the Update's server-side part is set.
    PasscodesFinish = "passcodes.finish",
    /// PASS-4 / JOB-2: the daily reminder that the passcodes expire soon.
    PasscodesReminder = "passcodes.reminder",
    /// PASS-5: a helpdesk agent checked a caller's Verification Passcode.
    HelpdeskCheck = "helpdesk.check",
    /// CERT-3: the card asked to generate its new keys.
    RenewKeys = "cert.renew_keys",
    /// CERT-3: certificates issued for the card's new keys, sent to be written.
    RenewCertificates = "cert.renew_certificates",
    /// CERT-3 / CERT-5: the card holds its new certificates; the old ones are revoked.
    Renew = "cert.renew",
    /// CERT-2 / JOB-2: the day's reminder that the card's certificates end soon, queued.
    RenewReminder = "cert.reminder",
    /// CARD-3 / ALL-7: the operator rotated the key-encryption key.
    KekRotate = "kek.rotate",
}

impl AuditAction {
    /// The action a stored name stands for.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.as_str() == name)
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RA-4: which actions a search asks for — one (`unlock.answers`) or a whole area
/// (`unlock.`, every step of the unlock) — only ever names that exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ActionFilter {
    One(AuditAction),
    /// The area's name, without its dot (one that actions have).
    Area(String),
}

impl ActionFilter {
    pub fn parse(typed: &str) -> Result<Self, crate::ValueError> {
        let typed = typed.trim();
        if let Some(area) = typed.strip_suffix('.') {
            return AuditAction::ALL
                .iter()
                .find_map(|a| a.as_str().split_once('.').filter(|(x, _)| *x == area))
                .map(|(area, _)| ActionFilter::Area(area.to_owned()))
                .ok_or(crate::ValueError::AuditAction);
        }
        AuditAction::parse(typed)
            .map(ActionFilter::One)
            .ok_or(crate::ValueError::AuditAction)
    }

    /// As typed in the filter: `unlock.answers`, or `unlock.` for the area.
    pub fn text(&self) -> String {
        match self {
            ActionFilter::One(action) => action.as_str().to_owned(),
            ActionFilter::Area(area) => format!("{area}."),
        }
    }
}

impl TryFrom<String> for ActionFilter {
    type Error = crate::ValueError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<ActionFilter> for String {
    fn from(filter: ActionFilter) -> String {
        filter.text()
    }
}

/// RA-4: an outcome to search for: `ok`, another success word, or an error code — a word
/// of lowercase letters and `_`, never a pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OutcomeWord(String);

impl OutcomeWord {
    pub fn parse(typed: &str) -> Result<Self, crate::ValueError> {
        let typed = typed.trim();
        let word = (1..=40).contains(&typed.len())
            && typed.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if word {
            Ok(Self(typed.to_owned()))
        } else {
            Err(crate::ValueError::OutcomeWord)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OutcomeWord {
    type Error = crate::ValueError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<OutcomeWord> for String {
    fn from(word: OutcomeWord) -> String {
        word.0
    }
}

/// One event of the trail, as the RA console reads it (RA-4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: AuditAction,
    pub outcome: String,
    pub card_guid: Option<String>,
    pub user_uuid: Option<String>,
    pub client_addr: Option<String>,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ra_4_every_action_has_one_stable_name_that_reads_back() {
        let names: HashSet<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), AuditAction::ALL.len());
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(*action));
            let json = serde_json::to_string(action).unwrap();
            assert_eq!(json, format!("\"{}\"", action.as_str()));
            assert_eq!(serde_json::from_str::<AuditAction>(&json).unwrap(), *action);
            // Filters by family (`unlock.`) rely on every name being `area.step`.
            assert!(action
                .as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.'));
            assert_eq!(action.as_str().matches('.').count(), 1);
        }
        assert_eq!(AuditAction::parse("unlock.nonsense"), None);
    }

    #[test]
    fn ra_4_a_search_names_only_actions_and_areas_that_exist() {
        assert_eq!(
            ActionFilter::parse(" unlock.answers "),
            Ok(ActionFilter::One(AuditAction::UnlockAnswers))
        );
        assert_eq!(
            ActionFilter::parse("unlock."),
            Ok(ActionFilter::Area("unlock".into()))
        );
        assert_eq!(
            ActionFilter::parse("ra.").map(|f| f.text()),
            Ok("ra.".into())
        );
        for bad in [
            "",
            ".",
            "unlock",
            "nope.",
            "unlock.%",
            "a%",
            "unlock.answers.",
        ] {
            // Said as what it is, not as hex.
            assert_eq!(
                ActionFilter::parse(bad),
                Err(crate::ValueError::AuditAction),
                "{bad:?}"
            );
        }
        assert!(OutcomeWord::parse("wrong_answers").is_ok());
        for bad in ["", "Ok", "a b", "a%", "x'"] {
            assert_eq!(
                OutcomeWord::parse(bad),
                Err(crate::ValueError::OutcomeWord),
                "{bad:?}"
            );
        }
    }
}
