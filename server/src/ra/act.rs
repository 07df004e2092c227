//! RA-3: what an RA does to an account — reopen self-service, change contact details,
//! give a code by phone, and (managers only, RA-1) change a role. Each: the RA's role
//! from their record, never their own account, a reason, the user locked for the step,
//! one pure decision, and one `finish` writing the change, the user's notice and the
//! audit event under the RA's name with the reason.

use api_types::ra::{ContactRequest, PhoneCode, Reason, RoleRequest, UserUuid};

use super::{Needs, RaActor};
use crate::flow::{Outcome, Subject, Write};
use crate::mail::templates::{self, RaNotice};
use crate::register::rules::check_contact;
use crate::secrets::{new_unlock_code, random_bytes, FlowSecret};
use crate::store::phone_codes;
use crate::store::users::{self, UnlockCounters, User};
use crate::unlock::{Client, MAX_PHONE_CODE_FAILURES, PHONE_CODE_TTL};
use crate::{AppError, AppState};

const REOPEN: &str = "ra.reopen";
const CONTACT: &str = "ra.contact";
const PHONE_CODE: &str = "ra.phone_code";
const ROLE: &str = "ra.role";

/// The change an action makes once its user is loaded.
type Decide<'a, T> = Box<dyn FnOnce(Outcome<T>, &RaActor, &User, i64) -> Outcome<T> + Send + 'a>;

impl AppState {
    /// Loads the RA and the user, refuses the RA's own account, and finishes what
    /// `decide` made of the action.
    async fn ra_act<T>(
        &self,
        secret: Option<&FlowSecret>,
        client: &Client,
        (action, needs): (&'static str, Needs),
        uuid: &UserUuid,
        reason: &Reason,
        decide: Decide<'_, T>,
    ) -> Result<T, AppError> {
        let ra = self.ra_actor(secret, client, needs).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let subject = Subject {
            card_guid: None,
            user_uuid: Some(uuid.as_str().to_owned()),
        };
        let outcome = Outcome::new(action, subject)
            .by(ra.name())
            .detail(reason.as_str().to_owned());
        let user = users::find_for_update(&mut tx, self.store.backend, uuid.as_str()).await?;
        let outcome = match (ra.not_self(uuid.as_str()), user) {
            (Err(refused), _) => outcome.refuse(refused),
            (Ok(()), None) => outcome.refuse(AppError::NotFound),
            (Ok(()), Some(user)) => decide(outcome, &ra, &user, now),
        };
        self.finish(tx, now, client, outcome).await
    }

    /// UNL-4 undone: the counters cleared, fresh questions next time.
    pub async fn ra_reopen(
        &self,
        secret: Option<&FlowSecret>,
        uuid: &UserUuid,
        reason: &Reason,
        client: &Client,
    ) -> Result<(), AppError> {
        let sender = self.sender();
        let decide: Decide<'_, ()> = Box::new(move |outcome, _ra, user, _now| {
            let notice =
                templates::ra_changed(&sender, &user.email, &user.display_name, RaNotice::Reopened);
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
        });
        self.ra_act(secret, client, (REOPEN, Needs::Agent), uuid, reason, decide)
            .await
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
        let checked = check_contact(&request.email, request.mobile.as_deref(), approved);
        let sender = self.sender();
        let decide: Decide<'_, ()> = Box::new(move |outcome, _ra, user, _now| {
            let (email, mobile) = match checked {
                Ok(checked) => checked,
                Err(refused) => return outcome.refuse(refused),
            };
            let mut told = vec![user.email.clone()];
            if !email.eq_ignore_ascii_case(&user.email) {
                told.push(email.clone());
            }
            let mut outcome = outcome.write(Write::Contact {
                user_uuid: user.uuid.clone(),
                email,
                mobile,
            });
            for to in told {
                let notice =
                    templates::ra_changed(&sender, &to, &user.display_name, RaNotice::Contact);
                outcome = outcome.write(Write::Mail(notice));
            }
            outcome.ok("changed", ())
        });
        self.ra_act(
            secret,
            client,
            (CONTACT, Needs::Agent),
            uuid,
            &request.reason,
            decide,
        )
        .await
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
        let (code, salt) = (new_unlock_code(), random_bytes::<16>());
        let hash = self.code_pepper.hash(&salt, &code);
        let sender = self.sender();
        let decide: Decide<'_, PhoneCode> = Box::new(move |outcome, ra, user, now| {
            let expires_at = now + PHONE_CODE_TTL;
            let notice = templates::ra_changed(
                &sender,
                &user.email,
                &user.display_name,
                RaNotice::PhoneCode,
            );
            outcome
                .write(Write::NewPhoneCode(phone_codes::PhoneCode {
                    user_uuid: user.uuid.clone(),
                    code_hash: hash,
                    code_salt: salt.to_vec(),
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
                        code,
                        expires_at,
                        tries: u32::try_from(MAX_PHONE_CODE_FAILURES).unwrap_or(0),
                    },
                )
        });
        self.ra_act(
            secret,
            client,
            (PHONE_CODE, Needs::Agent),
            uuid,
            reason,
            decide,
        )
        .await
    }

    /// RA-1: only a manager grants or removes RA roles.
    pub async fn ra_role(
        &self,
        secret: Option<&FlowSecret>,
        uuid: &UserUuid,
        request: &RoleRequest,
        client: &Client,
    ) -> Result<(), AppError> {
        let role = request.role;
        let sender = self.sender();
        let decide: Decide<'_, ()> = Box::new(move |outcome, _ra, user, _now| {
            let notice =
                templates::ra_changed(&sender, &user.email, &user.display_name, RaNotice::Role);
            let detail = format!(
                "role {} -> {}: {}",
                user.role.as_str(),
                role.as_str(),
                request.reason.as_str()
            );
            outcome
                .detail(detail)
                .write(Write::Role {
                    user_uuid: user.uuid.clone(),
                    role,
                })
                .write(Write::Mail(notice))
                .ok("changed", ())
        });
        self.ra_act(
            secret,
            client,
            (ROLE, Needs::Manager),
            uuid,
            &request.reason,
            decide,
        )
        .await
    }
}
