//! CARD-3: a page reloaded during the card update finds its attempt again through the
//! browser's flow cookie (ALL-6), for the card in the reader, so the user finishes
//! without a second emailed code. Only an attempt whose code was accepted, still in time,
//! is resumed; anything else is "not found", as for any attempt this browser doesn't hold.

use api_types::unlock::{ResumeRequest, ResumeResponse};

use super::limits::Scope;
use super::rules::AttemptState;
use super::{Client, Outcome, Subject};
use crate::secrets::FlowSecret;
use crate::store::attempts::{self, Attempt};
use crate::{AppError, AppState};

const ACTION: &str = "unlock.resume";

impl AppState {
    pub async fn resume(
        &self,
        flow: Option<&FlowSecret>,
        request: ResumeRequest,
        client: &Client,
    ) -> Result<ResumeResponse, AppError> {
        self.limit(ACTION, Scope::Client(client), Subject::default(), client)
            .await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let attempt = match flow {
            Some(flow) => attempts::find_by_flow(&mut tx, &flow.hash()).await?,
            None => None,
        };
        let outcome = decide(attempt, &request, now);
        self.finish(tx, now, client, outcome).await
    }
}

fn decide(attempt: Option<Attempt>, request: &ResumeRequest, now: i64) -> Outcome<ResumeResponse> {
    let subject = Subject {
        card_guid: Some(request.card_guid),
        user_uuid: None,
    };
    match attempt {
        Some(attempt)
            if attempt.card_guid == request.card_guid
                && attempt.state == AttemptState::CodeVerified
                && now < attempt.expires_at =>
        {
            Outcome::new(ACTION, Subject::of(&attempt)).ok(
                "ok",
                ResumeResponse {
                    attempt_id: attempt.id,
                },
            )
        }
        _ => Outcome::new(ACTION, subject).refuse(AppError::NotFound),
    }
}
