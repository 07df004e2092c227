//! AUTH-2: the session behind a cookie, for every signed-in flow — found by its secret's
//! hash, refused once ended, idle too long or past its absolute end (and then ended for
//! good), its idle clock started again by every request it serves.

use api_types::audit::AuditAction;
use api_types::auth::SessionInfo;
use api_types::passcodes::{PasscodeExpiry, PasscodesDue};
use api_types::policy::{Policy, RenewalDue};
use api_types::CardGuid;

use super::{Client, Outcome, Subject, Write};
use crate::secrets::FlowSecret;
use crate::store::renewals::{self, LoginCertificate};
use crate::store::sessions::{self, Session};
use crate::store::users::{self, User};
use crate::{AppError, AppState};

const SESSION: AuditAction = AuditAction::Session;

/// Who a request comes from, once [`AppState::current_session`] accepted its cookie.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub info: SessionInfo,
    pub secret_hash: Vec<u8>,
    /// RA-5: when the card last proved itself in this session.
    pub card_proven_at: i64,
}

impl AppState {
    pub(crate) fn session_limits(&self) -> Limits {
        Limits {
            idle: i64::from(self.settings.session_idle_secs),
            absolute: i64::from(self.settings.session_absolute_secs),
        }
    }

    /// The signed-in user behind `secret`, or `not_signed_in`.
    pub async fn current_session(
        &self,
        secret: Option<&FlowSecret>,
        client: &Client,
    ) -> Result<CurrentSession, AppError> {
        let Some(secret) = secret else {
            return Err(AppError::NotSignedIn);
        };
        let now = self.clock.now();
        let hash = secret.hash();
        let mut tx = self.store.begin().await?;
        let session = sessions::find_session(&mut tx, &hash).await?;
        let user = match &session {
            Some(session) => users::find(&mut tx, &session.user_uuid).await?,
            None => None,
        };
        // No such session, or one already ended: refused without a row in the trail,
        // so anonymous page loads cannot flood it.
        let (Some(session), Some(user)) = (session, user) else {
            return Err(AppError::NotSignedIn);
        };
        if session.ended_at.is_some() {
            return Err(AppError::NotSignedIn);
        }
        let login = renewals::login_certificate(&mut tx, &session.card_guid).await?;
        let renewal = renewal_due(self.settings.policy, Some(login), now);
        let passcodes = passcodes_due(self.settings.passcode_expiry, &user, now);
        let card_proven_at = session.card_proven_at;
        let due = (renewal, passcodes);
        let outcome = decide(session, user, (self.session_limits(), due), now);
        let info = self.finish(tx, now, client, outcome).await?;
        Ok(CurrentSession {
            info,
            secret_hash: hash,
            card_proven_at,
        })
    }
}

fn alive(session: &Session, limits: Limits, now: i64) -> bool {
    now < session.expires_at && now - session.last_seen_at < limits.idle
}

fn decide(
    session: Session,
    user: User,
    (limits, due): (Limits, (RenewalDue, PasscodesDue)),
    now: i64,
) -> Outcome<SessionInfo> {
    let card_guid = session.card_guid;
    let outcome = Outcome::new(SESSION, Subject::card_of(card_guid, &user.uuid));
    if session.ended_at.is_some() {
        return outcome.refuse(AppError::NotSignedIn);
    }
    if !alive(&session, limits, now) {
        return outcome
            .write(Write::EndSession(session.secret_hash))
            .detail("session timed out".into())
            .refuse(AppError::NotSignedIn);
    }
    // PASS-4: locked while signed in: the session goes with it.
    if matches!(due.1, PasscodesDue::Locked { .. }) {
        return outcome
            .write(Write::EndSession(session.secret_hash))
            .refuse(AppError::PasscodesLocked);
    }
    let info = session_info(&user, card_guid, &session, (limits, due));
    outcome
        .write(Write::TouchSession(session.secret_hash))
        .unaudited_if_ok()
        .ok("ok", info)
}

/// AUTH-2: how long a session may sit idle, and how long it may live at all.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) idle: i64,
    pub(crate) absolute: i64,
}

/// CERT-2 / POL-4: what is due for the session's card (none: no such card).
pub(crate) fn renewal_due(policy: Policy, login: Option<LoginCertificate>, now: i64) -> RenewalDue {
    match login {
        Some(login) => policy.renewal_due(login.not_after, login.renewals_in_a_row, now),
        None => RenewalDue::NotDue,
    }
}

/// PASS-4: what is due for the user's passcodes.
pub(crate) fn passcodes_due(expiry: PasscodeExpiry, user: &User, now: i64) -> PasscodesDue {
    expiry.due(user.passcodes_set_at, user.passcodes_unlocked_at, now)
}

/// What the page is told of a session.
pub(crate) fn session_info(
    user: &User,
    card_guid: CardGuid,
    session: &Session,
    (limits, (renewal, passcodes)): (Limits, (RenewalDue, PasscodesDue)),
) -> SessionInfo {
    SessionInfo {
        renewal,
        passcodes,
        display_name: user.display_name.clone(),
        uuid: user.uuid.clone(),
        card_guid,
        expires_at: session.expires_at,
        idle_timeout_secs: limits.idle,
        role: user.role,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::john;

    const NOT_DUE: (RenewalDue, PasscodesDue) = (RenewalDue::NotDue, PasscodesDue::NotDue);

    const LIMITS: Limits = Limits {
        idle: 900,
        absolute: 8 * 3600,
    };

    /// A session begun at 1000, last used at `last_seen_at`.
    fn session(last_seen_at: i64) -> Session {
        Session {
            secret_hash: vec![1; 32],
            user_uuid: crate::fixtures::john_uuid(),
            card_guid: CardGuid::from_bytes([2; 16]),
            created_at: 1000,
            last_seen_at,
            expires_at: 1000 + LIMITS.absolute,
            ended_at: None,
            card_proven_at: 1000,
        }
    }

    #[test]
    fn auth_2_a_session_in_use_is_touched_and_not_audited() {
        let outcome = decide(session(1000), john(), (LIMITS, NOT_DUE), 1000 + 899);
        assert!(outcome.reply.is_ok());
        assert!(!outcome.audited);
        assert!(matches!(outcome.writes(), [Write::TouchSession(_)]));
    }

    #[test]
    fn auth_2_idle_too_long_ends_the_session_for_good() {
        let outcome = decide(session(1000), john(), (LIMITS, NOT_DUE), 1000 + 900);
        assert!(matches!(outcome.reply, Err(AppError::NotSignedIn)));
        assert!(matches!(outcome.writes(), [Write::EndSession(_)]));
    }

    #[test]
    fn auth_2_however_busy_a_session_ends_at_its_absolute_end() {
        let end = 1000 + LIMITS.absolute;
        let outcome = decide(session(end - 1), john(), (LIMITS, NOT_DUE), end);
        assert!(matches!(outcome.reply, Err(AppError::NotSignedIn)));
        assert!(matches!(outcome.writes(), [Write::EndSession(_)]));
        let ended = Session {
            ended_at: Some(1100),
            ..session(1100)
        };
        let outcome = decide(ended, john(), (LIMITS, NOT_DUE), 1101);
        assert!(matches!(outcome.reply, Err(AppError::NotSignedIn)));
        assert!(outcome.writes().is_empty());
    }
}
