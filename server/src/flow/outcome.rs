//! What a step decided ([`Outcome`]) and whom its audit event is about ([`Subject`]):
//! built by a pure `decide`, applied by [`AppState::finish`](crate::AppState::finish)
//! (RA-4: every exit, refusals included, is one audit event).

use api_types::audit::AuditAction;
use api_types::auth::SessionInfo;
use api_types::ra::UserUuid;
use api_types::CardGuid;

use super::{Client, Write};
use crate::store::attempts::Attempt;
use crate::store::audit::AuditEntry;
use crate::AppError;

/// What an event is about: the card, the user, both, or neither (a stranger's request
/// that named nothing we know).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Subject {
    pub(crate) card_guid: Option<CardGuid>,
    pub(crate) user_uuid: Option<UserUuid>,
}

impl Subject {
    /// Nothing known yet: an unknown id, a request refused before anything was found.
    pub(crate) fn anonymous() -> Self {
        Self::default()
    }

    /// A card named on the wire, not yet tied to a user.
    pub(crate) fn card(guid: CardGuid) -> Self {
        Self {
            card_guid: Some(guid),
            user_uuid: None,
        }
    }

    /// A user acted on without their card (the RA console, a notice's link).
    pub(crate) fn user(uuid: &UserUuid) -> Self {
        Self {
            card_guid: None,
            user_uuid: Some(uuid.clone()),
        }
    }

    /// A card and its holder.
    pub(crate) fn card_of(guid: CardGuid, uuid: &UserUuid) -> Self {
        Self {
            card_guid: Some(guid),
            user_uuid: Some(uuid.clone()),
        }
    }

    /// An unlock attempt: its card and its user.
    pub(crate) fn attempt(attempt: &Attempt) -> Self {
        Self::card_of(attempt.card_guid, &attempt.user_uuid)
    }

    /// A signed-in session: the card it signed in with and its user.
    pub(crate) fn session(info: &SessionInfo) -> Self {
        Self::card_of(info.card_guid, &info.uuid)
    }
}

/// Everything one step decided: the writes, the audit event and the reply.
#[derive(Debug)]
pub(crate) struct Outcome<T> {
    pub(super) action: AuditAction,
    pub(super) subject: Subject,
    /// Who acted, when not the card the event is about (an RA: `ra:<uuid>`).
    pub(super) actor: Option<String>,
    /// The audit outcome on success; a refusal is recorded under its error code.
    pub(super) ok_outcome: &'static str,
    pub(super) detail: String,
    pub(super) writes: Vec<Write>,
    /// False only for routine successes that are not security events (a session serving
    /// a request); every refusal is audited.
    pub(super) audited: bool,
    /// The refusal of someone who proved nothing (a leaked id without its cookie):
    /// charged to their address, not to the user it names (ALL-5).
    pub(super) by_stranger: bool,
    pub(crate) reply: Result<T, AppError>,
}

impl<T> Outcome<T> {
    pub(crate) fn new(action: AuditAction, subject: Subject) -> Self {
        Self {
            action,
            subject,
            actor: None,
            ok_outcome: "ok",
            detail: String::new(),
            writes: Vec::new(),
            audited: true,
            by_stranger: false,
            reply: Err(AppError::Invariant("outcome without a reply")),
        }
    }

    /// The event is recorded as done by `actor` (RA-3, RA-4).
    pub(crate) fn by(mut self, actor: String) -> Self {
        self.actor = Some(actor);
        self
    }

    pub(crate) fn write(mut self, write: Write) -> Self {
        self.writes.push(write);
        self
    }

    /// Each of `writes`, in order (none: nothing).
    pub(crate) fn write_all(mut self, writes: impl IntoIterator<Item = Write>) -> Self {
        self.writes.extend(writes);
        self
    }

    pub(crate) fn detail(mut self, detail: String) -> Self {
        self.detail = detail;
        self
    }

    pub(crate) fn ok(mut self, outcome: &'static str, reply: T) -> Self {
        self.ok_outcome = outcome;
        self.reply = Ok(reply);
        self
    }

    pub(crate) fn refuse(mut self, error: AppError) -> Self {
        self.reply = Err(error);
        self
    }

    /// Refused to someone who proved nothing about the user the event names.
    pub(crate) fn by_stranger(mut self) -> Self {
        self.by_stranger = true;
        self
    }

    /// Not a security event when it succeeds (refusals are still audited).
    pub(crate) fn unaudited_if_ok(mut self) -> Self {
        self.audited = false;
        self
    }

    /// The event as the trail records it; `client` is none for the operator's commands.
    pub(super) fn audit_entry<R>(
        &self,
        client: Option<&Client>,
        reply: &Result<R, AppError>,
    ) -> AuditEntry {
        let card_guid = self.subject.card_guid.map(|g| g.to_hex());
        AuditEntry {
            actor: self
                .actor
                .clone()
                .or_else(|| card_guid.clone())
                .unwrap_or_else(|| "anonymous".into()),
            action: self.action.as_str().into(),
            outcome: match reply {
                Ok(_) => self.ok_outcome.into(),
                Err(error) => error.code().as_str().into(),
            },
            card_guid,
            user_uuid: self
                .subject
                .user_uuid
                .as_ref()
                .map(|u| u.as_str().to_owned()),
            client_addr: client.map(|c| c.addr.to_string()),
            detail: self.detail.clone(),
        }
    }

    #[cfg(test)]
    pub(crate) fn writes(&self) -> &[Write] {
        &self.writes
    }

    #[cfg(test)]
    pub(crate) fn audit_detail(&self) -> &str {
        &self.detail
    }
}
