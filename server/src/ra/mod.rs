//! The Registration Authority console (RA-1…RA-4): RA agents and managers, signed in
//! with their own card (AUTH-1), find and see users ([`find`]), act on them with a reason
//! ([`act`]: reopen self-service, contact details, a phone code, roles), and search the
//! audit trail, work through "this wasn't me" reports and see who is at risk
//! ([`trail`]).
//!
//! The role comes from the user's record on every request, never from the client. An
//! RA never acts on their own account, and only a manager changes roles. Every action is
//! audited under the RA's identity (`ra:<uuid>`), with the reason, and told to the user.

mod act;
mod find;
mod trail;

pub use trail::{audit_filter, csv_stream};

use api_types::ra::{Role, UserSummary};
use api_types::CardGuid;

use crate::flow::{Outcome, Subject};
use crate::secrets::FlowSecret;
use crate::store::ra::Listed;
use crate::unlock::Client;
use crate::{AppError, AppState};

const ACCESS: &str = "ra.access";

/// An RA, as a request's session showed them.
#[derive(Debug, Clone)]
pub struct RaActor {
    pub uuid: String,
    pub role: Role,
    pub card_guid: CardGuid,
}

impl RaActor {
    /// How the audit trail names them.
    fn name(&self) -> String {
        format!("ra:{}", self.uuid)
    }

    /// Separation of duties (RA-1).
    fn not_self(&self, user_uuid: &str) -> Result<(), AppError> {
        if self.uuid == user_uuid {
            Err(AppError::OwnAccount)
        } else {
            Ok(())
        }
    }
}

/// What a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Agent,
    Manager,
}

impl AppState {
    /// The RA behind the session cookie, with the role `needs` from their record; anyone
    /// else is refused (not signed in: `not_signed_in`; signed in: `ra_role_required`,
    /// audited, so probing the console shows in the trail).
    pub async fn ra_actor(
        &self,
        secret: Option<&FlowSecret>,
        client: &Client,
        needs: Needs,
    ) -> Result<RaActor, AppError> {
        let info = self.current_session(secret, client).await?.info;
        let allowed = match needs {
            Needs::Agent => info.role.is_ra(),
            Needs::Manager => info.role == Role::RaManager,
        };
        let actor = RaActor {
            uuid: info.uuid.clone(),
            role: info.role,
            card_guid: info.card_guid,
        };
        if allowed {
            return Ok(actor);
        }
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let subject = Subject {
            card_guid: Some(info.card_guid),
            user_uuid: Some(info.uuid),
        };
        let outcome = Outcome::<RaActor>::new(ACCESS, subject)
            .by(actor.name())
            .detail(format!("role {} needs {needs:?}", info.role.as_str()))
            .refuse(AppError::RaRoleRequired);
        self.finish(tx, now, client, outcome).await
    }
}

fn display_name(title: &str, given: &str, family: &str) -> String {
    format!("{title} {given} {family}").trim().to_owned()
}

fn summary(listed: Listed) -> Result<UserSummary, AppError> {
    let role = Role::parse(&listed.role).ok_or(crate::store::StoreError::Corrupt {
        table: "users",
        column: "role",
    })?;
    Ok(UserSummary {
        display_name: display_name(&listed.title, &listed.given_name, &listed.family_name),
        uuid: listed.uuid,
        email: listed.email,
        role,
        registered: listed.registered != 0,
        self_service_closed: listed.self_service_closed != 0,
    })
}
