//! Self-service registration (REG-1…REG-4) for a signed-in cardholder, in the shape
//! every flow copies ([`crate::flow`]): `begin` needs a fresh 9A signature after the
//! passcode was verified on the card (REG-1); `details` takes four different questions
//! with answers (hashed with argon2id before any lock is taken, REG-2) and an email on an
//! approved domain (REG-3), and emails a registration code; `resend` sends a new code
//! (the tries already used still count); `confirm` takes the code (15 minutes, single
//! use, limited tries, REG-4), replaces the user's answers and email, and emails a
//! notice. Every step needs the session that began the registration (ALL-6).

mod begin;
mod confirm;
mod details;
pub mod rules;

use api_types::register::RegistrationId;

use crate::auth::CurrentSession;
use crate::flow::{Outcome, Subject};
use crate::store::registrations::{self, Registration};
use crate::store::Tx;
use crate::{AppError, AppState};

/// How long a registration may take from its card check to its code.
pub const REGISTRATION_TTL: i64 = 30 * 60;

impl AppState {
    /// The registration, locked, if the session that began it is the one asking; any
    /// other asker gets "not found", recorded under the registration's user.
    async fn owned_registration<T>(
        &self,
        tx: &mut Tx,
        id: &RegistrationId,
        session: &CurrentSession,
        action: &'static str,
    ) -> Result<Result<Registration, Outcome<T>>, AppError> {
        let subject = Subject {
            card_guid: Some(session.info.card_guid),
            user_uuid: Some(session.info.uuid.clone()),
        };
        Ok(
            match registrations::find_for_update(tx, self.store.backend, id).await? {
                Some(r)
                    if r.user_uuid == session.info.uuid
                        && r.session_hash == session.secret_hash =>
                {
                    Ok(r)
                }
                Some(_) => Err(Outcome::new(action, subject)
                    .detail("another session's registration".into())
                    .refuse(AppError::NotFound)),
                None => Err(Outcome::new(action, subject).refuse(AppError::NotFound)),
            },
        )
    }
}
