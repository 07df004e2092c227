//! RA-5: the passcode entered again on the session's own card — a fresh login challenge
//! signed by its 9A key — so the RA's actions that give someone access may go ahead for
//! the next 5 minutes. An RA who walked away, or whose card is gone, cannot give access
//! with the cookie alone.

use std::ops::ControlFlow;

use api_types::audit::AuditAction;
use api_types::auth::{CardAgainRequest, CardProven};

use crate::flow::card_again::{CardProvenAgain, CARD_PROOF_WINDOW};
use crate::flow::{Client, CurrentSession, Outcome, Subject, Write};
use crate::secrets::FlowSecret;
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::CardAgain;

impl AppState {
    pub async fn prove_card_again(
        &self,
        secret: Option<&FlowSecret>,
        request: CardAgainRequest,
        client: &Client,
    ) -> Result<CardProven, AppError> {
        let signed = (&request.login_id, &request.signature);
        let (session, now, tx, proof) = self.card_step(ACTION, secret, client, signed).await?;
        self.finish(tx, now, client, decide(&session, proof, now))
            .await
    }
}

fn decide(session: &CurrentSession, proof: CardProvenAgain, now: i64) -> Outcome<CardProven> {
    let outcome = Outcome::new(ACTION, Subject::session(&session.info));
    match proof.gate(outcome) {
        ControlFlow::Break(refused) => refused,
        ControlFlow::Continue(outcome) => outcome
            .write(Write::CardProven(session.secret_hash.clone()))
            .ok(
                "ok",
                CardProven {
                    until: now + CARD_PROOF_WINDOW,
                },
            ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::auth::SessionInfo;
    use api_types::ra::{Role, UserUuid};
    use api_types::CardGuid;

    fn session() -> CurrentSession {
        CurrentSession {
            info: SessionInfo {
                display_name: "Ms Ada Lovelace".into(),
                uuid: UserUuid::parse("555555555502").unwrap_or_else(|_| unreachable!()),
                card_guid: CardGuid::from_bytes([3; 16]),
                expires_at: 9000,
                idle_timeout_secs: 900,
                role: Role::RaAgent,
                renewal: api_types::policy::RenewalDue::NotDue,
                passcodes: api_types::passcodes::PasscodesDue::NotDue,
            },
            secret_hash: vec![4; 32],
            card_proven_at: 100,
        }
    }

    #[test]
    fn ra_5_the_card_proven_again_opens_five_minutes_for_actions_that_give_access() {
        let proof = CardProvenAgain::proven();
        let outcome = decide(&session(), proof, 2000);
        assert_eq!(outcome.reply.as_ref().map(|p| p.until).ok(), Some(2300));
        assert!(matches!(
            outcome.writes(),
            [Write::UseLoginChallenge(_), Write::CardProven(hash)] if hash == &vec![4; 32]
        ));
    }

    #[test]
    fn ra_5_a_refused_card_proof_changes_nothing_but_the_spent_challenge() {
        let proof = CardProvenAgain::refused(AppError::CardNotGenuine);
        let outcome = decide(&session(), proof, 2000);
        assert!(matches!(outcome.reply, Err(AppError::CardNotGenuine)));
        assert!(outcome.writes().is_empty());
    }
}
