//! CARD-3: a page reloaded during the card update finds its attempt again through the
//! browser's flow cookie (ALL-6), for the card in the reader, so the user finishes
//! without a second emailed code. Only an attempt whose code was accepted, still in time,
//! is resumed; anything else is "not found", as for any attempt this browser doesn't hold.

use api_types::audit::AuditAction;
use api_types::unlock::{ResumeRequest, ResumeResponse};

use super::rules::AttemptState;
use super::{Client, Outcome, Subject};
use crate::secrets::FlowSecret;
use crate::store::attempts::{self, Attempt};
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::UnlockResume;

impl AppState {
    pub async fn resume(
        &self,
        flow: Option<&FlowSecret>,
        request: ResumeRequest,
        client: &Client,
    ) -> Result<ResumeResponse, AppError> {
        let (now, mut tx) = self.open().await?;
        let attempt = match flow {
            Some(flow) => attempts::find_by_flow(&mut tx, &flow.hash()).await?,
            None => None,
        };
        let outcome = decide(attempt, &request, now);
        self.finish(tx, now, client, outcome).await
    }
}

fn decide(attempt: Option<Attempt>, request: &ResumeRequest, now: i64) -> Outcome<ResumeResponse> {
    match attempt {
        Some(attempt)
            if attempt.card_guid == request.card_guid
                && attempt.state == AttemptState::CodeVerified
                && now < attempt.expires_at =>
        {
            Outcome::new(ACTION, Subject::attempt(&attempt)).ok(
                "ok",
                ResumeResponse {
                    attempt_id: attempt.id,
                },
            )
        }
        _ => Outcome::new(ACTION, Subject::card(request.card_guid)).refuse(AppError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::attempt;
    use api_types::CardGuid;

    fn resume(attempt: Option<Attempt>, card: [u8; 16], now: i64) -> Outcome<ResumeResponse> {
        let request = ResumeRequest {
            card_guid: CardGuid::from_bytes(card),
        };
        decide(attempt, &request, now)
    }

    #[test]
    fn card_3_only_a_verified_attempt_for_this_card_in_time_is_resumed() {
        let verified = attempt(AttemptState::CodeVerified);
        let expires_at = verified.expires_at;
        assert!(resume(Some(verified.clone()), [2; 16], expires_at - 1)
            .reply
            .is_ok());
        for (found, card, now) in [
            (Some(verified.clone()), [2; 16], expires_at),
            (Some(verified), [3; 16], 1100),
            (Some(attempt(AttemptState::CodeSent)), [2; 16], 1100),
            (None, [2; 16], 1100),
        ] {
            let outcome = resume(found, card, now);
            assert!(matches!(outcome.reply, Err(AppError::NotFound)));
            assert!(outcome.writes().is_empty());
        }
    }
}
