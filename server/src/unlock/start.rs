//! UNL-1: the card names itself by its CHUID GUID; the server opens an attempt on the
//! route the page asked for, if the policy offers it (POL-1: the questions or the SCSC's
//! under `seed-2006`, the NHS's 2023 route under `nhs-2023`), and answers with a
//! challenge for the card's 9E key (CARD-6), and the flow secret that the handler sets as
//! this browser's cookie for the attempt (ALL-6).

use api_types::audit::AuditAction;
use api_types::policy::Policy;
use api_types::recovery::UnlockRoute;
use api_types::unlock::{StartRequest, StartResponse};
use api_types::values::Challenge;
use api_types::{AttemptId, CardGuid};

use super::rules::{AttemptState, ATTEMPT_TTL, CHALLENGE_TTL};
use super::{Client, Outcome, Subject, Write};
use crate::flow::Scope;
use crate::secrets::{random_bytes, FlowSecret};
use crate::store::attempts::Attempt;
use crate::store::cards::{self, Card};
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::UnlockStart;

/// A new attempt: what the page is told, and the secret only its cookie carries.
#[derive(Debug)]
pub struct Started {
    pub response: StartResponse,
    pub flow: FlowSecret,
}

impl AppState {
    pub async fn start(&self, request: StartRequest, client: &Client) -> Result<Started, AppError> {
        self.count_request(ACTION, Scope::Client(client), Subject::anonymous(), client)
            .await?;
        let (now, mut tx) = self.open().await?;
        let card = cards::find(&mut tx, &request.card_guid).await?;
        let fresh = Fresh {
            id: AttemptId::from_bytes(random_bytes()),
            challenge: random_bytes(),
            flow: FlowSecret::generate(),
        };
        let asked = (request.route, self.settings.policy);
        let outcome = decide(request.card_guid, card.as_ref(), asked, fresh, now);
        self.finish(tx, now, client, outcome).await
    }
}

/// The new attempt's random values.
struct Fresh {
    id: AttemptId,
    challenge: [u8; 32],
    flow: FlowSecret,
}

fn decide(
    guid: CardGuid,
    card: Option<&Card>,
    (route, policy): (UnlockRoute, Policy),
    fresh: Fresh,
    now: i64,
) -> Outcome<Started> {
    if !route.offered_under(policy) {
        return Outcome::new(ACTION, Subject::card(guid)).refuse(AppError::RouteNotOffered);
    }
    let Some(card) = card else {
        return Outcome::new(ACTION, Subject::card(guid)).refuse(AppError::UnknownCard);
    };
    let attempt = Attempt {
        id: fresh.id,
        card_guid: guid,
        user_uuid: card.user_uuid.clone(),
        state: AttemptState::Started,
        challenge: fresh.challenge,
        created_at: now,
        expires_at: now + ATTEMPT_TTL,
        question_ids: Vec::new(),
        code: None,
        code_failures: 0,
        card_updated: false,
        completed_at: None,
        flow_hash: Some(fresh.flow.hash()),
        channel: None,
        route,
        delivery: None,
    };
    let response = StartResponse {
        attempt_id: attempt.id.clone(),
        challenge: Challenge::from_bytes(attempt.challenge),
        expires_at: now + CHALLENGE_TTL,
    };
    // Naming a card proves nothing: the card's proof that follows is the first event
    // (ALL-5: a flood of starts must not grow the trail).
    Outcome::new(ACTION, Subject::attempt(&attempt))
        .write(Write::NewAttempt(attempt))
        .unaudited_if_ok()
        .ok(
            "ok",
            Started {
                response,
                flow: fresh.flow,
            },
        )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn fresh() -> Fresh {
        Fresh {
            id: AttemptId::from_bytes([1; 16]),
            challenge: [2; 32],
            flow: FlowSecret::generate(),
        }
    }

    #[test]
    fn unl_1_an_unknown_card_writes_nothing_but_its_refusal() {
        let asked = (UnlockRoute::Questions, Policy::Seed2006);
        let outcome = decide(CardGuid::from_bytes([9; 16]), None, asked, fresh(), 1000);
        assert!(matches!(outcome.reply, Err(AppError::UnknownCard)));
        assert!(outcome.writes().is_empty());
    }

    #[test]
    fn unl_1_a_known_card_opens_an_attempt_whose_challenge_expires_first() {
        let card = crate::fixtures::card();
        let asked = (UnlockRoute::Questions, Policy::Seed2006);
        let outcome = decide(
            CardGuid::from_bytes([9; 16]),
            Some(&card),
            asked,
            fresh(),
            1000,
        );
        let started = outcome.reply.as_ref().unwrap();
        assert_eq!(started.response.expires_at, 1000 + CHALLENGE_TTL);
        let flow_hash = started.flow.hash();
        assert!(matches!(
            outcome.writes(),
            [Write::NewAttempt(a)] if a.expires_at == 1000 + ATTEMPT_TTL
                && a.user_uuid.as_str() == "555555555501"
                && a.flow_hash.as_ref() == Some(&flow_hash)
        ));
    }

    #[test]
    fn pol_1_each_profile_opens_only_its_own_routes() {
        let card = crate::fixtures::card();
        let guid = CardGuid::from_bytes([9; 16]);
        for (route, policy, offered) in [
            (UnlockRoute::Scsc, Policy::Seed2006, true),
            (UnlockRoute::Nhs2023, Policy::Seed2006, false),
            (UnlockRoute::Questions, Policy::Nhs2023, false),
            (UnlockRoute::Scsc, Policy::Nhs2023, false),
            (UnlockRoute::Nhs2023, Policy::Nhs2023, true),
        ] {
            let outcome = decide(guid, Some(&card), (route, policy), fresh(), 1000);
            if offered {
                assert!(matches!(outcome.writes(), [Write::NewAttempt(a)] if a.route == route));
            } else {
                assert!(matches!(outcome.reply, Err(AppError::RouteNotOffered)));
                assert!(outcome.writes().is_empty());
            }
        }
    }
}
