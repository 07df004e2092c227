//! AUTH-2: the session behind a cookie — found by its secret's hash, refused once ended,
//! idle too long or past its absolute end (and then ended for good), its idle clock
//! started again by every request it serves; and logout.

use api_types::auth::SessionInfo;
use api_types::CardGuid;

use super::login::{session_info, Limits};
use crate::flow::{Outcome, Subject, Write};
use crate::secrets::FlowSecret;
use crate::store::sessions::{self, Session};
use crate::store::users::{self, User};
use crate::unlock::Client;
use crate::{AppError, AppState};

const SESSION: &str = "auth.session";
const LOGOUT: &str = "auth.logout";

/// Who a request comes from, once [`AppState::current_session`] accepted its cookie.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub info: SessionInfo,
    pub secret_hash: Vec<u8>,
}

impl AppState {
    fn session_limits(&self) -> Limits {
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
        let outcome = decide(session, user, self.session_limits(), now);
        let info = self.finish(tx, now, client, outcome).await?;
        Ok(CurrentSession {
            info,
            secret_hash: hash,
        })
    }

    /// Ends the session behind `secret` (a no-op without one).
    pub async fn logout(
        &self,
        secret: Option<&FlowSecret>,
        client: &Client,
    ) -> Result<(), AppError> {
        let current = self.current_session(secret, client).await?;
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let subject = Subject {
            card_guid: Some(current.info.card_guid),
            user_uuid: Some(current.info.uuid.clone()),
        };
        let outcome = Outcome::new(LOGOUT, subject)
            .write(Write::EndSession(current.secret_hash))
            .ok("ok", ());
        self.finish(tx, now, client, outcome).await
    }
}

fn alive(session: &Session, limits: Limits, now: i64) -> bool {
    now < session.expires_at && now - session.last_seen_at < limits.idle
}

fn decide(session: Session, user: User, limits: Limits, now: i64) -> Outcome<SessionInfo> {
    let card_guid = CardGuid::parse(&session.card_guid).ok();
    let outcome = Outcome::new(
        SESSION,
        Subject {
            card_guid,
            user_uuid: Some(user.uuid.clone()),
        },
    );
    let Some(card_guid) = card_guid else {
        return outcome.refuse(AppError::NotSignedIn);
    };
    if session.ended_at.is_some() {
        return outcome.refuse(AppError::NotSignedIn);
    }
    if !alive(&session, limits, now) {
        return outcome
            .write(Write::EndSession(session.secret_hash))
            .detail("session timed out".into())
            .refuse(AppError::NotSignedIn);
    }
    let info = session_info(&user, card_guid, &session, limits);
    outcome
        .write(Write::TouchSession(session.secret_hash))
        .unaudited_if_ok()
        .ok("ok", info)
}
