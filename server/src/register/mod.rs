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

use crate::flow::{Client, CurrentSession, Outcome, Subject};
use crate::secrets::FlowSecret;
use crate::store::registrations::{self, Registration};
use crate::store::Tx;
use crate::{AppError, AppState};

/// How long a registration may take from its card check to its code.
pub const REGISTRATION_TTL: i64 = 30 * 60;

/// A step on a registration, opened: the session, the time, the transaction, and the
/// registration locked if this session began it — else the refusal to finish with.
type RegistrationStep<T> = (CurrentSession, i64, Tx, Result<Registration, Outcome<T>>);

impl AppState {
    /// The kernel's [`AppState::session_step`], then the registration if the session that
    /// began it is the one asking; any other asker gets "not found", recorded under the
    /// asking session.
    async fn registration_step<T>(
        &self,
        action: AuditAction,
        id: &RegistrationId,
        secret: Option<&FlowSecret>,
        client: &Client,
    ) -> Result<RegistrationStep<T>, AppError> {
        let (session, now, mut tx) = self.session_step(action, secret, client).await?;
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
}
