//! AUTH-2: logout ends the session for good; the cookie names nothing after it.

use crate::flow::{Client, Outcome, Subject, Write};
use crate::secrets::FlowSecret;
use crate::{AppError, AppState};
use api_types::audit::AuditAction;

const LOGOUT: AuditAction = AuditAction::Logout;

impl AppState {
    /// Ends the session behind `secret` (refused without one: `not_signed_in`).
    pub async fn logout(
        &self,
        secret: Option<&FlowSecret>,
        client: &Client,
    ) -> Result<(), AppError> {
        let current = self.current_session(secret, client).await?;
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let outcome = Outcome::new(LOGOUT, Subject::session(&current.info))
            .write(Write::EndSession(current.secret_hash))
            .ok("ok", ());
        self.finish(tx, now, client, outcome).await
    }
}
