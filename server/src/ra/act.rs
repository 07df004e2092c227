//! RA-3: what an RA does to an account — reopen self-service, change contact details,
//! give a code by phone, and (managers only, RA-1) change a role. Each opens through
//! [`AppState::ra_target`] (the RA's role from their record, never their own account, a
//! reason, the user locked for the step), then one named pure `decide_*`, then one
//! `finish` writing the change, the user's notice and the audit event under the RA's name
//! with the reason.

use api_types::audit::AuditAction;
use api_types::contact::{EmailAddress, UkMobile};
use api_types::ra::{ContactRequest, PhoneCode, Reason, RoleRequest, UserUuid};

use super::{Needs, RaActor};
use crate::flow::codes::{CodeKind, FreshCode};
use crate::flow::contact::parse_contact;
use crate::flow::{Client, Outcome, Write};
use crate::mail::templates::{self, RaNotice, Sender};
use crate::secrets::{CodePepper, FlowSecret};
use crate::store::phone_codes;
use crate::store::users::{UnlockCounters, User};
use crate::{AppError, AppState};

const REOPEN: AuditAction = AuditAction::RaReopen;
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
        let action = (REOPEN, Needs::Agent);
        let (_, now, tx, user) = self
            .ra_target(action, secret, uuid, reason.as_str(), client)
            .await?;
        let outcome = match user {
            Ok((outcome, user)) => decide_reopen(outcome, &user, &self.sender()),
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
        let action = (CONTACT, Needs::Agent);
        let reason = request.reason.as_str();
        let (_, now, tx, user) = self.ra_target(action, secret, uuid, reason, client).await?;
        let outcome = match user {
            Ok((outcome, user)) => decide_contact(outcome, &user, checked, &self.sender()),
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
        let action = (PHONE_CODE, Needs::Agent);
        let (ra, now, tx, user) = self
            .ra_target(action, secret, uuid, reason.as_str(), client)
            .await?;
        let outcome = match user {
            Ok((outcome, user)) => {
                let fresh = (FreshCode::draw(), &self.code_pepper);
                decide_phone_code(outcome, (&ra, &user), fresh, &self.sender(), now)
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
        let action = (ROLE, Needs::Manager);
        let reason = request.reason.as_str();
        let (_, now, tx, user) = self.ra_target(action, secret, uuid, reason, client).await?;
        let outcome = match user {
            Ok((outcome, user)) => decide_role(outcome, &user, request, &self.sender()),
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

fn decide_reopen(outcome: Outcome<()>, user: &User, sender: &Sender<'_>) -> Outcome<()> {
    let notice = templates::ra_changed(sender, &user.email, &user.display_name, RaNotice::Reopened);
    outcome
        .write(Write::UnlockCounters {
            user_uuid: user.uuid.clone(),
            before: user.counters,
            after: UnlockCounters::default(),
        })
        .write(Write::UnlockQuestions {
            user_uuid: user.uuid.clone(),
            question_ids: Vec::new(),
        })
        .write(Write::Mail(notice))
        .ok("reopened", ())
}

fn decide_contact(
    outcome: Outcome<()>,
    user: &User,
    checked: Result<(EmailAddress, Option<UkMobile>), AppError>,
    sender: &Sender<'_>,
) -> Outcome<()> {
    let (email, mobile) = match checked {
        Ok(checked) => checked,
        Err(refused) => return outcome.refuse(refused),
    };
    let mut told = vec![user.email.clone()];
    if !email.as_str().eq_ignore_ascii_case(&user.email) {
        told.push(email.as_str().to_owned());
    }
    let mut outcome = outcome.write(Write::Contact {
        user_uuid: user.uuid.clone(),
        email,
        mobile,
    });
    for to in told {
        let notice = templates::ra_changed(sender, &to, &user.display_name, RaNotice::Contact);
        outcome = outcome.write(Write::Mail(notice));
    }
    outcome.ok("changed", ())
}

fn decide_phone_code(
    outcome: Outcome<PhoneCode>,
    (ra, user): (&RaActor, &User),
    (fresh, pepper): (FreshCode, &CodePepper),
    sender: &Sender<'_>,
    now: i64,
) -> Outcome<PhoneCode> {
    let kind = CodeKind::RaPhone;
    let stored = fresh.stored(kind, pepper, now);
    let expires_at = stored.expires_at;
    let notice =
        templates::ra_changed(sender, &user.email, &user.display_name, RaNotice::PhoneCode);
    outcome
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
        .write(Write::Mail(notice))
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
    sender: &Sender<'_>,
) -> Outcome<()> {
    let notice = templates::ra_changed(sender, &user.email, &user.display_name, RaNotice::Role);
    let detail = format!(
        "role {} -> {}: {}",
        user.role.as_str(),
        request.role.as_str(),
        request.reason.as_str()
    );
    outcome
        .detail(detail)
        .write(Write::Role {
            user_uuid: user.uuid.clone(),
            role: request.role,
        })
        .write(Write::Mail(notice))
        .ok("changed", ())
}

#[cfg(test)]
mod tests;
