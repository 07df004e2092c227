//! CERT-3: finishing a renewal cut off after the card made its new keys. Sign-in kept the
//! card's signature with the renewal (the server could not check it); the page presents
//! that sign-in's id and gets a channel that reads the card's keys rather than making new
//! ones. The rest is the renewal's own steps: the reported 9A key must be the one that
//! signed, and the card must confirm the certificates written, before anything changes.

use api_types::audit::AuditAction;
use api_types::renewal::{RenewalOpened, RenewalRecoverRequest};

use super::abandoned;
use super::rules::recovery_by;
use crate::flow::limits::Scope;
use crate::flow::{Client, Outcome, Subject, Write};
use crate::store::cards;
use crate::store::corrupt;
use crate::store::renewals::{self, Renewal};
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::RenewRecover;

impl AppState {
    pub async fn renewal_recover(
        &self,
        request: RenewalRecoverRequest,
        client: &Client,
    ) -> Result<RenewalOpened, AppError> {
        let subject = Subject::card(request.card_guid);
        self.count_request(ACTION, Scope::Client(client), subject, client)
            .await?;
        let (now, mut tx) = self.open().await?;
        let backend = self.store.backend;
        let found =
            renewals::open_self_service_for_update(&mut tx, backend, &request.card_guid).await?;
        let opened = match found {
            Some(renewal) => {
                let card = cards::find_for_update(&mut tx, backend, &renewal.card_guid)
                    .await?
                    .ok_or_else(|| corrupt("renewals", "card_guid"))?;
                let opened = self.renewal_opening(renewal.clone(), &card, true, now);
                Some((renewal, opened))
            }
            None => None,
        };
        let outcome = decide(&request, opened, now);
        self.finish(tx, now, client, outcome).await
    }
}

/// The card's open renewal, and the renewal with a reading channel and its opening.
type Found<T> = Option<(Renewal, Result<(Renewal, T), AppError>)>;

/// `opened`: the card's open renewal and a reading channel for it, if it has one. Only
/// the page holding the kept sign-in, while it is recent, gets the channel; anyone else
/// learns nothing (not found).
fn decide<T>(request: &RenewalRecoverRequest, opened: Found<T>, now: i64) -> Outcome<T> {
    let Some((renewal, opened)) = opened else {
        return Outcome::new(ACTION, Subject::card(request.card_guid))
            .by_stranger()
            .refuse(AppError::NotFound);
    };
    let outcome = Outcome::new(
        ACTION,
        Subject::card_of(renewal.card_guid, &renewal.user_uuid),
    );
    if !recovery_by(&renewal, &request.login_id, now) {
        return outcome
            .by_stranger()
            .detail(format!(
                "renewal {}: no recent sign-in with that id",
                renewal.id
            ))
            .refuse(AppError::NotFound);
    }
    match opened {
        Ok((reading, opened)) => outcome
            .detail(format!("renewal {}", renewal.id))
            .write_all(abandoned(&renewal))
            .write(Write::Renewal(reading))
            .ok("ok", opened),
        Err(failed) => outcome.refuse(failed),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::renewal;
    use crate::renewal::rules::RECOVERY_WINDOW_SECS;
    use crate::store::renewals::{RecoveryClaim, RenewalState};
    use api_types::auth::LoginId;

    const NOW: i64 = 1_900_000_000;

    fn login(byte: u8) -> LoginId {
        LoginId::from_bytes([byte; 56])
    }

    fn claimed(at: i64) -> Renewal {
        Renewal {
            recovery: Some(RecoveryClaim {
                login_id: login(1),
                challenge: [2; 32],
                signature: crate::store::attempts::HexBytes(vec![3; 70]),
                claimed_at: at,
            }),
            // Long past its own lifetime: the kept sign-in is what counts.
            expires_at: at - 86_400,
            ..renewal()
        }
    }

    fn ask(renewal: Renewal, with: u8, now: i64) -> Outcome<()> {
        let request = RenewalRecoverRequest {
            card_guid: renewal.card_guid,
            login_id: login(with),
        };
        let reading = renewal.clone();
        decide(&request, Some((renewal, Ok((reading, ())))), now)
    }

    #[test]
    fn cert_3_the_kept_sign_in_opens_a_reading_channel_for_ten_minutes() {
        let at = NOW;
        assert!(ask(claimed(at), 1, at).reply.is_ok());
        assert!(ask(claimed(at), 1, at + RECOVERY_WINDOW_SECS - 1)
            .reply
            .is_ok());
        let late = ask(claimed(at), 1, at + RECOVERY_WINDOW_SECS);
        assert!(matches!(late.reply, Err(AppError::NotFound)));
        assert!(late.writes().is_empty());
    }

    #[test]
    fn cert_3_another_login_id_or_no_kept_sign_in_learns_nothing() {
        let other = ask(claimed(NOW), 9, NOW);
        assert!(matches!(other.reply, Err(AppError::NotFound)));
        assert!(other.writes().is_empty());
        let unclaimed = ask(renewal(), 1, NOW);
        assert!(matches!(unclaimed.reply, Err(AppError::NotFound)));
        let at_desk = Renewal {
            by_ra: Some(crate::fixtures::uuid("555555555599")),
            ..claimed(NOW)
        };
        assert!(matches!(
            ask(at_desk, 1, NOW).reply,
            Err(AppError::NotFound)
        ));
        let done = Renewal {
            state: RenewalState::Done,
            ..claimed(NOW)
        };
        assert!(matches!(ask(done, 1, NOW).reply, Err(AppError::NotFound)));
    }
}
