//! Self-service registration (REG-1…REG-4) for a signed-in cardholder, in the shape
//! every flow copies ([`crate::flow`]): `begin` needs a fresh 9A signature after the
//! passcode was verified on the card (REG-1); `details` takes four different questions
//! with answers (hashed with argon2id before any lock is taken, REG-2) and an email on an
//! approved domain (REG-3), and emails a registration code; `resend` sends a new code
//! (the tries already used still count); `confirm` takes the code (15 minutes, single
//! use, limited tries, REG-4), replaces the user's answers and email, and emails a
//! notice. Every step needs the session that began the registration (ALL-6), and every
//! audit event names that session's card and user.

mod begin;
mod confirm;
mod details;
pub mod rules;

use api_types::audit::AuditAction;
use api_types::register::RegistrationId;

use crate::flow::{Client, CurrentSession, Outcome, Scope, Subject};
use crate::secrets::FlowSecret;
use crate::store::registrations::{self, Registration};
use crate::store::Tx;
use crate::{AppError, AppState};

/// How long a registration may take from its card check to its code.
pub const REGISTRATION_TTL: i64 = 30 * 60;

/// A step on a registration, opened: the session, the time, the transaction, and the
/// registration locked if this session began it — else the refusal to finish with.
type RegistrationStep<T> = (CurrentSession, i64, Tx, Result<Registration, Outcome<T>>);

/// REG-4 / ALL-5 (issue 17, item 11): registration codes mailed per user, and to one
/// address whoever asks, per day — so a signed-in user cannot make us mail any approved
/// address without end.
pub const CODES_PER_USER_PER_DAY: i64 = 10;
pub const CODES_PER_ADDRESS_PER_DAY: i64 = 5;
const DAY: i64 = 86_400;

/// What a registration step may mail.
#[derive(Debug, Clone, Copy)]
enum Mails<'a> {
    Nothing,
    /// A code, to the registration's address or to this new one.
    Code {
        to: Option<&'a str>,
    },
}

impl AppState {
    /// The kernel's [`AppState::session_step`], then the registration if the session that
    /// began it is the one asking; any other asker gets "not found", recorded under the
    /// asking session.
    async fn registration_step<T>(
        &self,
        (action, mails): (AuditAction, Mails<'_>),
        id: &RegistrationId,
        secret: Option<&FlowSecret>,
        client: &Client,
    ) -> Result<RegistrationStep<T>, AppError> {
        let session = self.signed_in(action, secret, client).await?;
        if let Mails::Code { to } = mails {
            self.count_codes_mailed(&session, to, client).await?;
        }
        let (now, mut tx) = self.open().await?;
        let refused = || Outcome::new(action, Subject::session(&session.info));
        let registration = match registrations::find_for_update(&mut tx, self.store.backend, id)
            .await?
        {
            Some(r)
                if r.user_uuid == session.info.uuid && r.session_hash == session.secret_hash =>
            {
                Ok(r)
            }
            Some(_) => Err(refused()
                .detail("another session's registration".into())
                .refuse(AppError::NotFound)),
            None => Err(refused().refuse(AppError::NotFound)),
        };
        Ok((session, now, tx, registration))
    }

    /// The day's caps on codes mailed: the user's, and the new address's.
    async fn count_codes_mailed(
        &self,
        session: &CurrentSession,
        to: Option<&str>,
        client: &Client,
    ) -> Result<(), AppError> {
        let subject = || Subject::session(&session.info);
        let user = Scope::MailedFor(&session.info.uuid);
        let per_user = (user, (CODES_PER_USER_PER_DAY, DAY));
        self.count_within(CODES_MAILED, per_user, subject(), client)
            .await?;
        if let Some(address) = to {
            let per_address = (Scope::Recipient(address), (CODES_PER_ADDRESS_PER_DAY, DAY));
            self.count_within(CODES_MAILED, per_address, subject(), client)
                .await?;
        }
        Ok(())
    }
}

/// The caps' counters are named for resend; details and resend share them.
const CODES_MAILED: AuditAction = AuditAction::RegisterResend;
