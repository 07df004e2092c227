//! REG-5: "My card" — the signed-in user's details, registration and self-service state,
//! their card's certificate expiry, and their own recent security events. Read-only.

use api_types::auth::{MyCard, SecurityEvent};
use card_protocol::KeySlot;

use crate::flow::Client;
use crate::secrets::FlowSecret;
use crate::store::audit_search::{self, Filter};
use crate::store::{certificates, renewals, users, StoreError};
use crate::{AppError, AppState};

/// How many events the page lists.
const RECENT_EVENTS: i64 = 20;

impl AppState {
    pub async fn my_card(
        &self,
        secret: Option<&FlowSecret>,
        client: &Client,
    ) -> Result<MyCard, AppError> {
        let session = self.current_session(secret, client).await?;
        let info = session.info;
        let now = self.clock.now();
        let mut conn = self.store.pool.acquire().await.map_err(StoreError::from)?;
        let user = users::find(&mut conn, &info.uuid)
            .await?
            .ok_or(AppError::NotSignedIn)?;
        let certificate_expires_at = certificates::for_card(&mut conn, &info.card_guid)
            .await?
            .into_iter()
            .filter(|c| c.slot == KeySlot::PivAuth && c.revoked_at.is_none() && c.not_after > now)
            .map(|c| c.not_after)
            .max();
        let login = renewals::login_certificate(&mut conn, &info.card_guid).await?;
        let mine = Filter {
            user: Some(info.uuid.clone()),
            ..Filter::default()
        };
        let events = audit_search::page(&mut conn, &mine, RECENT_EVENTS)
            .await?
            .into_iter()
            .map(|e| {
                Ok(SecurityEvent {
                    action: e.action()?,
                    at: e.at,
                    outcome: e.outcome,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(MyCard {
            display_name: user.display_name,
            uuid: info.uuid,
            organisation: self.settings.organisation_name.clone(),
            email: user.email,
            mobile: user.mobile,
            registered: user.registered,
            self_service_closed: user.counters.self_service_closed,
            card_guid: info.card_guid,
            certificate_expires_at,
            renewals_in_a_row: login.renewals_in_a_row,
            renewals_allowed_in_a_row: self.settings.policy.self_service_renewals_in_a_row(),
            passcodes_set_at: user.passcodes_set_at,
            passcodes_unlocked_at: user.passcodes_unlocked_at,
            events,
        })
    }
}
