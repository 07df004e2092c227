//! RA-3 / RA-6 / CERT-5: what an RA does to an account — reopen self-service, stop it at
//! once (the incident stop), revoke a lost card's certificates, change contact details, give a code by phone, and (managers only, RA-1) change a role. Each opens through
//! [`AppState::ra_target`] (the RA's role from their record, never their own account, a
//! reason, the user locked for the step), then one named pure `decide_*`, then one
//! `finish` writing the change, the user's notice and the audit event under the RA's name
//! with the reason.

use api_types::audit::AuditAction;
use api_types::contact::{EmailAddress, UkMobile};
use api_types::ra::{ContactRequest, PhoneCode, Reason, RoleRequest, UserUuid};

use super::{tell, Gives, Needs, Notify, RaActor};
use crate::flow::codes::{CodeKind, FreshCode};
use crate::flow::contact::parse_contact;
use crate::flow::lockout::stop_everything;
use crate::flow::{Client, Outcome, Write};
use crate::mail::templates::RaNotice;
use crate::secrets::{CodePepper, FlowSecret};
use crate::store::users::{UnlockCounters, User};
use crate::store::{certificates, phone_codes};
use crate::{AppError, AppState};

const REOPEN: AuditAction = AuditAction::RaReopen;
const STOP: AuditAction = AuditAction::RaStop;
const REVOKE: AuditAction = AuditAction::RaRevoke;
const PASSCODES_UNLOCK: AuditAction = AuditAction::RaPasscodesUnlock;
const CONTACT: AuditAction = AuditAction::RaContact;
const PHONE_CODE: AuditAction = AuditAction::RaPhoneCode;
const ROLE: AuditAction = AuditAction::RaRole;

impl AppState {
    /// UNL-4 undone: the counters cleared, fresh questions next time.
    pub async fn ra_reopen(
        &self,
        secret: Option<&FlowSecret>,
        uuid: &UserUuid,
        reason: &Reason,
        client: &Client,
    ) -> Result<(), AppError> {
        let action = (REOPEN, Needs::Agent, Gives::Access);
        self.ra_for_reason(action, (secret, uuid, reason, client), decide_reopen)
            .await
    }

    /// RA-6, the incident stop: self-service closed, every unlock and registration in
    /// progress failed, a live phone code spent, every session ended — one audited action.
    pub async fn ra_stop(
        &self,
        secret: Option<&FlowSecret>,
        uuid: &UserUuid,
        reason: &Reason,
        client: &Client,
    ) -> Result<(), AppError> {
        let action = (STOP, Needs::Agent, Gives::NoAccess);
        self.ra_for_reason(action, (secret, uuid, reason, client), decide_stop)
            .await
    }

    /// CERT-5: a card reported lost or stolen — its certificates revoked (it can no
    /// longer sign in, prove itself to the unlock or renew), and the incident stop.
    pub async fn ra_revoke(
        &self,
        secret: Option<&FlowSecret>,
        uuid: &UserUuid,
        reason: &Reason,
        client: &Client,
    ) -> Result<(), AppError> {
        let action = (REVOKE, Needs::Agent, Gives::NoAccess);
        self.ra_for_reason(action, (secret, uuid, reason, client), decide_revoke)
            .await
    }

    /// PASS-4: an account locked by expired passcodes signs in again — straight to
    /// Manage Passcodes, with the lock period again from now.
    pub async fn ra_passcodes_unlock(
        &self,
        secret: Option<&FlowSecret>,
        uuid: &UserUuid,
        reason: &Reason,
        client: &Client,
    ) -> Result<(), AppError> {
        let action = (PASSCODES_UNLOCK, Needs::Agent, Gives::Access);
        self.ra_for_reason(
            action,
            (secret, uuid, reason, client),
            decide_passcodes_unlock,
        )
        .await
    }

    /// An action that needs only a reason: the RA and the user opened, the named pure
    /// `decide` applied, then `finish`.
    async fn ra_for_reason(
        &self,
        action: (AuditAction, Needs, Gives),
        (secret, uuid, reason, client): (Option<&FlowSecret>, &UserUuid, &Reason, &Client),
        decide: fn(Outcome<()>, &User, Notify<'_>) -> Outcome<()>,
    ) -> Result<(), AppError> {
        let (_, now, tx, user) = self
            .ra_target(action, secret, uuid, reason.as_str(), client)
            .await?;
        let outcome = match user {
            Ok((outcome, user)) => decide(outcome, &user, self.notify(now)),
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }

    /// REG-5 on the user's behalf: an approved-domain email and a UK mobile; both the
    /// old and the new address are told.
    pub async fn ra_contact(
        &self,
        secret: Option<&FlowSecret>,
        uuid: &UserUuid,
        request: &ContactRequest,
        client: &Client,
    ) -> Result<(), AppError> {
        let approved = &self.settings.approved_email_domains;
        let checked = parse_contact(&request.email, request.mobile.as_deref(), approved);
        let action = (CONTACT, Needs::Agent, Gives::Access);
        let reason = request.reason.as_str();
        let (_, now, tx, user) = self.ra_target(action, secret, uuid, reason, client).await?;
        let outcome = match user {
            Ok((outcome, user)) => decide_contact(outcome, &user, checked, self.notify(now)),
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }

    /// A code to read out on the phone, replacing any earlier one; shown to the RA once
    /// and stored only as a keyed hash. The user is told a code was given (not the code).
    pub async fn ra_phone_code(
        &self,
        secret: Option<&FlowSecret>,
        uuid: &UserUuid,
        reason: &Reason,
        client: &Client,
    ) -> Result<PhoneCode, AppError> {
        let action = (PHONE_CODE, Needs::Agent, Gives::Access);
        let (ra, now, tx, user) = self
            .ra_target(action, secret, uuid, reason.as_str(), client)
            .await?;
        let outcome = match user {
            Ok((outcome, user)) => {
                let fresh = (FreshCode::draw(), &self.code_pepper);
                decide_phone_code(outcome, (&ra, &user), fresh, self.notify(now))
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }

    /// RA-1: only a manager grants or removes RA roles.
    pub async fn ra_role(
        &self,
        secret: Option<&FlowSecret>,
        uuid: &UserUuid,
        request: &RoleRequest,
        client: &Client,
    ) -> Result<(), AppError> {
        let action = (ROLE, Needs::Manager, Gives::Access);
        let reason = request.reason.as_str();
        let (_, now, tx, user) = self.ra_target(action, secret, uuid, reason, client).await?;
        let outcome = match user {
            Ok((outcome, user)) => decide_role(outcome, &user, request, self.notify(now)),
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

fn decide_reopen(outcome: Outcome<()>, user: &User, notify: Notify<'_>) -> Outcome<()> {
    tell(outcome, user, (RaNotice::Reopened, None), notify)
        .write(Write::UnlockCounters {
            user_uuid: user.uuid.clone(),
            before: user.counters,
            after: UnlockCounters::default(),
        })
        .write(Write::UnlockQuestions {
            user_uuid: user.uuid.clone(),
            question_ids: Vec::new(),
        })
        .ok("reopened", ())
}

fn decide_passcodes_unlock(outcome: Outcome<()>, user: &User, notify: Notify<'_>) -> Outcome<()> {
    tell(outcome, user, (RaNotice::PasscodesUnlocked, None), notify)
        .write(Write::PasscodesUnlocked(user.uuid.clone()))
        .ok("unlocked", ())
}

fn decide_stop(outcome: Outcome<()>, user: &User, notify: Notify<'_>) -> Outcome<()> {
    let told = tell(outcome, user, (RaNotice::Stopped, None), notify);
    stop_everything(told, user).ok("stopped", ())
}

fn decide_revoke(outcome: Outcome<()>, user: &User, notify: Notify<'_>) -> Outcome<()> {
    let told = tell(outcome, user, (RaNotice::Revoked, None), notify);
    stop_everything(told, user)
        .write(Write::RevokeUserCertificates {
            user_uuid: user.uuid.clone(),
            reason: certificates::LOST_OR_STOLEN,
        })
        .ok("revoked", ())
}

fn decide_contact(
    outcome: Outcome<()>,
    user: &User,
    checked: Result<(EmailAddress, Option<UkMobile>), AppError>,
    notify: Notify<'_>,
) -> Outcome<()> {
    let (email, mobile) = match checked {
        Ok(checked) => checked,
        Err(refused) => return outcome.refuse(refused),
    };
    // Both the old and the new address are told.
    let moved = !email.as_str().eq_ignore_ascii_case(&user.email);
    let also = moved.then_some(email.as_str());
    let outcome = tell(outcome, user, (RaNotice::Contact, also), notify);
    outcome
        .write(Write::Contact {
            user_uuid: user.uuid.clone(),
            email,
            mobile,
        })
        .ok("changed", ())
}

fn decide_phone_code(
    outcome: Outcome<PhoneCode>,
    (ra, user): (&RaActor, &User),
    (fresh, pepper): (FreshCode, &CodePepper),
    notify: Notify<'_>,
) -> Outcome<PhoneCode> {
    let (kind, now) = (CodeKind::RaPhone, notify.now);
    let stored = fresh.stored(kind, pepper, now);
    let expires_at = stored.expires_at;
    tell(outcome, user, (RaNotice::PhoneCode, None), notify)
        .write(Write::NewPhoneCode(phone_codes::PhoneCode {
            user_uuid: user.uuid.clone(),
            code_hash: stored.hash,
            code_salt: stored.salt,
            issued_by: ra.uuid.clone(),
            issued_at: now,
            expires_at,
            failures: 0,
            used_at: None,
        }))
        .ok(
            "issued",
            PhoneCode {
                code: fresh.code,
                expires_at,
                tries: u32::try_from(kind.policy().max_failures).unwrap_or(0),
            },
        )
}

fn decide_role(
    outcome: Outcome<()>,
    user: &User,
    request: &RoleRequest,
    notify: Notify<'_>,
) -> Outcome<()> {
    let detail = format!(
        "role {} -> {}: {}",
        user.role.as_str(),
        request.role.as_str(),
        request.reason.as_str()
    );
    tell(outcome, user, (RaNotice::Role, None), notify)
        .detail(detail)
        .write(Write::Role {
            user_uuid: user.uuid.clone(),
            role: request.role,
        })
        .ok("changed", ())
}

#[cfg(test)]
mod tests;
