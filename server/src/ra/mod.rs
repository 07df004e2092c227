//! The Registration Authority console (RA-1…RA-4): RA agents and managers, signed in
//! with their own card (AUTH-1), find and see users ([`find`]), act on them with a reason
//! ([`act`]: reopen self-service, contact details, a phone code, roles), and search the
//! audit trail, work through "this wasn't me" reports and see who is at risk
//! ([`trail`]).
//!
//! The role comes from the user's record on every request, never from the client. An
//! RA never acts on their own account, only a manager acts on an RA's account or changes
//! roles, and an action that gives someone access needs the RA's card proven within the
//! last 5 minutes (RA-5). Every action is audited under the RA's identity (`ra:<uuid>`),
//! with the reason, and told to the user.

mod act;
mod find;
mod renew;
mod review;
mod trail;

pub use trail::{audit_filter, csv_stream, PAGE_CHECK};

use api_types::audit::AuditAction;
use api_types::ra::{Role, UserSummary, UserUuid};
use api_types::CardGuid;

use crate::flow::card_again::card_proven_recently;
use crate::flow::notice::NotMeDraw;
use crate::flow::{Client, Outcome, Scope, Subject, Write};
use crate::mail::templates::{self, RaNotice, Sender};
use crate::secrets::FlowSecret;
use crate::store::ra::Listed;
use crate::store::users::{self, User};
use crate::store::{corrupt, Tx};
use crate::{AppError, AppState};

const ACCESS: AuditAction = AuditAction::RaAccess;

/// An RA, as a request's session showed them.
#[derive(Debug, Clone)]
pub struct RaActor {
    pub uuid: UserUuid,
    pub role: Role,
    pub card_guid: CardGuid,
    /// RA-5: when their card last proved itself in this session.
    pub card_proven_at: i64,
}

impl RaActor {
    /// How the audit trail names them.
    fn name(&self) -> String {
        format!("ra:{}", self.uuid)
    }

    /// Separation of duties (RA-1).
    fn not_self(&self, user_uuid: &UserUuid) -> Result<(), AppError> {
        if self.uuid == *user_uuid {
            Err(AppError::OwnAccount)
        } else {
            Ok(())
        }
    }

    /// RA-5: nobody acts on their own account; only a manager acts on an RA's; and an
    /// action that gives access needs this RA's card proven within the last 5 minutes.
    fn may_act_on(&self, target: &User, gives: Gives, now: i64) -> Result<(), AppError> {
        self.not_self(&target.uuid)?;
        if target.role.is_ra() && self.role != Role::RaManager {
            return Err(AppError::ManagerRequired);
        }
        match gives {
            Gives::Access => card_proven_recently(self.card_proven_at, now),
            Gives::NoAccess => Ok(()),
        }
    }
}

/// RA-5: whether an action gives someone access (a code, a contact, a role, reopening),
/// and so needs the RA's card proven again; stopping self-service takes access away and
/// must stay quick in an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gives {
    Access,
    NoAccess,
}

/// What a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Agent,
    Manager,
}

/// An RA's action on a user, opened: the RA, the time, the transaction, and — unless the
/// user is the RA themselves or unknown — the outcome begun under the RA's name with the
/// reason, and the user, locked for the step.
type RaTarget<T> = (RaActor, i64, Tx, Result<(Outcome<T>, User), Outcome<T>>);

impl AppState {
    /// The opening every RA action shares (RA-1, RA-3): the RA's role from their record,
    /// then the user, never the RA's own account.
    async fn ra_target<T>(
        &self,
        (action, needs, gives): (AuditAction, Needs, Gives),
        secret: Option<&FlowSecret>,
        uuid: &UserUuid,
        reason: &str,
        client: &Client,
    ) -> Result<RaTarget<T>, AppError> {
        let ra = self.ra_actor(secret, client, needs).await?;
        let (now, mut tx) = self.open().await?;
        let outcome = Outcome::new(action, Subject::user(uuid))
            .by(ra.name())
            .detail(reason.to_owned());
        let user = users::find_for_update(&mut tx, self.store.backend, uuid).await?;
        let user = match (ra.not_self(uuid), user) {
            (Err(refused), _) => Err(outcome.refuse(refused)),
            (Ok(()), None) => Err(outcome.refuse(AppError::NotFound)),
            (Ok(()), Some(user)) => match ra.may_act_on(&user, gives, now) {
                Ok(()) => Ok((outcome, user)),
                Err(refused) => Err(outcome.refuse(refused)),
            },
        };
        Ok((ra, now, tx, user))
    }

    /// The RA behind the session cookie, with the role `needs` from their record; anyone
    /// else is refused (not signed in: `not_signed_in`; signed in: `ra_role_required`,
    /// audited, so probing the console shows in the trail).
    pub async fn ra_actor(
        &self,
        secret: Option<&FlowSecret>,
        client: &Client,
        needs: Needs,
    ) -> Result<RaActor, AppError> {
        let session = self.current_session(secret, client).await?;
        let info = session.info;
        let allowed = match needs {
            Needs::Agent => info.role.is_ra(),
            Needs::Manager => info.role == Role::RaManager,
        };
        let actor = RaActor {
            uuid: info.uuid.clone(),
            role: info.role,
            card_guid: info.card_guid,
            card_proven_at: session.card_proven_at,
        };
        if allowed {
            // ALL-5: every console call counts against the RA's own budget, reads too, so
            // a stolen session cannot page through every user and the whole trail at will.
            let ra = Scope::Ra(&actor.uuid);
            self.count_request(ACCESS, ra, Subject::session(&info), client)
                .await?;
            return Ok(actor);
        }
        let (now, tx) = self.open().await?;
        let outcome = Outcome::<RaActor>::new(ACCESS, Subject::session(&info))
            .by(actor.name())
            .detail(format!("role {} needs {needs:?}", info.role.as_str()))
            .refuse(AppError::RaRoleRequired);
        self.finish(tx, now, client, outcome).await
    }
}

/// How an RA action tells the user (RA-3): the mail's sender and a "this wasn't me" link
/// (RA-6), drawn by the step's loader, at `now`.
struct Notify<'a> {
    sender: Sender<'a>,
    not_me: NotMeDraw<'a>,
    now: i64,
}

impl AppState {
    fn notify(&self, now: i64) -> Notify<'_> {
        Notify {
            sender: self.sender(),
            not_me: self.not_me_draw(),
            now,
        }
    }
}

/// The user's notice of `what` — to their address, and to `also` (a new address) — with
/// one "this wasn't me" link, so an action an RA was tricked into can be stopped.
fn tell<T>(
    outcome: Outcome<T>,
    user: &User,
    (what, also): (RaNotice, Option<&str>),
    notify: Notify<'_>,
) -> Outcome<T> {
    let (link, url) = notify.not_me.link(&user.uuid, "ra", notify.now);
    let mut outcome = outcome.write(link);
    for to in std::iter::once(user.email.as_str()).chain(also) {
        let to_user = (to, user.display_name.as_str());
        let notice = templates::ra_changed(&notify.sender, to_user, what, &url);
        outcome = outcome.write(Write::Mail(notice));
    }
    outcome
}

fn display_name(title: &str, given: &str, family: &str) -> String {
    format!("{title} {given} {family}").trim().to_owned()
}

fn summary(listed: Listed) -> Result<UserSummary, AppError> {
    let role = Role::parse(&listed.role).ok_or_else(|| corrupt("users", "role"))?;
    Ok(UserSummary {
        display_name: display_name(&listed.title, &listed.given_name, &listed.family_name),
        uuid: listed.uuid,
        email: listed.email,
        role,
        registered: listed.registered != 0,
        self_service_closed: listed.self_service_closed != 0,
    })
}
