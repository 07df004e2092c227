//! CARD-6 / UNL-2 / UNL-3 / UNL-8: the card proves it is genuine by signing the challenge
//! with its 9E key; then whose card it is, and — on the questions' route; the others go
//! on in [`super::proven`] — 2–4 of the user's questions at random —
//! chosen once and then fixed for the user until an unlock succeeds, so starting again
//! never re-rolls them. Unregistered users and closed accounts are stopped here, their
//! attempt kept only for a phone code from the RA (RA-3, `ra_code`).

use api_types::audit::AuditAction;
use api_types::passcodes::PasscodesDue;
use api_types::recovery::{DeliveryOption, UnlockRoute};
use api_types::unlock::{CardProofRequest, CardProofResponse, Question};
use api_types::values::CardSignature;
use api_types::AttemptId;
use card_protocol::KeySlot;
use card_protocol::SignedFor;
use p256::ecdsa::VerifyingKey;
use rand::rngs::OsRng;
use rand::seq::SliceRandom;

use super::rules::{check_step, AttemptState, CHALLENGE_TTL};
use super::{failed, proven, Client, Guard, Outcome, Subject, Write};
use crate::ca::CertificateAuthority;
use crate::flow::card_again::card_signed;
use crate::flow::lockout::answer_tries_left;
use crate::flow::session::passcodes_due;
use crate::secrets::FlowSecret;
use crate::store::answers::{self, UserQuestion};
use crate::store::attempts::Attempt;
use crate::store::cards::{self, Card};
use crate::store::certificates::{self, CardCertificate};
use crate::store::users::{self, User};
use crate::store::StoreError;
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::UnlockCardProof;

/// What this step reads about one attempt.
struct Loaded {
    attempt: Attempt,
    card: Card,
    user: User,
    /// The user's questions, in random order.
    questions: Vec<UserQuestion>,
    /// CERT-5: the card's 9E key has a current certificate from our CA that no one has
    /// revoked (a card reported lost or stolen has none).
    card_auth_in_force: bool,
    /// PASS-4: the passcodes expired and were not changed in time: the RA's to unlock.
    passcodes_locked: bool,
    /// POL-3: the login certificate is current; where a code may go.
    login_certificate_current: bool,
    options: Vec<DeliveryOption>,
}

impl AppState {
    pub async fn card_proof(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        request: CardProofRequest,
        client: &Client,
    ) -> Result<CardProofResponse, AppError> {
        let (now, mut tx, attempt) = self.attempt_step(ACTION, id, flow, Guard::Refusals).await?;
        let wanted = self.settings.questions_per_unlock as usize;
        let outcome = match attempt {
            Ok(attempt) => {
                let card = cards::find(&mut tx, &attempt.card_guid).await?;
                let user = users::find(&mut tx, &attempt.user_uuid).await?;
                let missing = StoreError::Corrupt {
                    table: "unlock_attempts",
                    column: "card_guid",
                };
                let (card, user) = card.zip(user).ok_or(missing)?;
                let mut questions = answers::questions_of(&mut tx, &user.uuid).await?;
                questions.shuffle(&mut OsRng);
                let certificates = certificates::for_card(&mut tx, &card.guid).await?;
                let card_auth_in_force = card_auth_in_force(&self.ca, &card, &certificates, now);
                let passcodes = passcodes_due(self.settings.passcode_expiry, &user, now);
                let passcodes_locked = matches!(passcodes, PasscodesDue::Locked { .. });
                let login_certificate_current = certificates.iter().any(|c| {
                    c.slot == KeySlot::PivAuth && c.revoked_at.is_none() && now < c.not_after
                });
                let options = self.delivery_options_of(&user);
                let loaded = Loaded {
                    login_certificate_current,
                    options,
                    passcodes_locked,
                    attempt,
                    card,
                    user,
                    questions,
                    card_auth_in_force,
                };
                let signed = (&request.signature, self.settings.public_origin.as_str());
                decide(loaded, signed, wanted, now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

/// CARD-6: the 9E key signed this attempt's challenge for a page of our origin (the
/// digest the bridge computes, issue 17 item 10).
fn genuine(card: &Card, (challenge, origin): (&[u8; 32], &str), signature: &CardSignature) -> bool {
    VerifyingKey::from_sec1_bytes(&card.card_auth_public_key).is_ok_and(|key| {
        card_signed(
            &key,
            SignedFor::CardProof,
            (origin, challenge),
            signature.as_bytes(),
        )
    })
}

/// The card's 9E key as a current, unrevoked certificate of our CA names it (the CA
/// checks the certificate itself again).
fn card_auth_in_force(
    ca: &CertificateAuthority,
    card: &Card,
    certificates: &[CardCertificate],
    now: i64,
) -> bool {
    certificates
        .iter()
        .filter(|c| c.slot == KeySlot::CardAuth && c.revoked_at.is_none() && now < c.not_after)
        .filter_map(|c| ca.current_key(&c.certificate, now))
        .any(|key| key.to_encoded_point(false).as_bytes() == card.card_auth_public_key.as_slice())
}

fn decide(
    loaded: Loaded,
    (signature, origin): (&CardSignature, &str),
    wanted: usize,
    now: i64,
) -> Outcome<CardProofResponse> {
    let Loaded {
        attempt,
        card,
        user,
        mut questions,
        card_auth_in_force,
        passcodes_locked,
        login_certificate_current,
        options,
    } = loaded;
    let outcome = Outcome::new(ACTION, Subject::attempt(&attempt));
    let challenge_expires_at = attempt.expires_at.min(attempt.created_at + CHALLENGE_TTL);
    if let Err(error) = check_step(
        attempt.state,
        AttemptState::Started,
        challenge_expires_at,
        now,
    ) {
        return outcome.refuse(error);
    }
    if !card_auth_in_force {
        return outcome
            .write(Write::Attempt(failed(&attempt)))
            .refuse(AppError::CertificateNotValid);
    }
    if !genuine(&card, (&attempt.challenge, origin), signature) {
        return outcome
            .write(Write::Attempt(failed(&attempt)))
            .refuse(AppError::CardNotGenuine);
    }
    match attempt.route {
        UnlockRoute::Questions => {}
        UnlockRoute::Scsc => return proven::scsc(outcome, attempt, &user, passcodes_locked),
        UnlockRoute::Nhs2023 => {
            let standing = proven::Standing {
                login_certificate_current,
                passcodes_locked,
                options,
            };
            return proven::nhs_2023(outcome, attempt, &user, standing);
        }
    }
    let refusal = if !user.registered || questions.len() < wanted {
        Some(AppError::NotRegistered)
    } else if user.counters.self_service_closed {
        Some(AppError::SelfServiceClosed)
    } else if passcodes_locked {
        Some(AppError::PasscodesLocked)
    } else {
        None
    };
    if let Some(error) = refusal {
        let ra_only = Attempt {
            state: AttemptState::RaOnly,
            ..attempt
        };
        return outcome.write(Write::Attempt(ra_only)).refuse(error);
    }
    // The subset already fixed for this user, if it still fits; else this draw, fixed now.
    let fixed: Vec<UserQuestion> = user
        .question_ids
        .iter()
        .filter_map(|id| questions.iter().find(|q| q.question_id == *id).cloned())
        .collect();
    let outcome = if fixed.len() == wanted && user.question_ids.len() == wanted {
        questions = fixed;
        outcome
    } else {
        questions.truncate(wanted);
        outcome.write(Write::UnlockQuestions {
            user_uuid: user.uuid.clone(),
            question_ids: questions.iter().map(|q| q.question_id).collect(),
        })
    };
    let proven = Attempt {
        state: AttemptState::CardProven,
        question_ids: questions.iter().map(|q| q.question_id).collect(),
        ..attempt
    };
    let response = CardProofResponse {
        holder_name: user.display_name,
        questions: questions
            .into_iter()
            .filter_map(|q| {
                u32::try_from(q.question_id)
                    .ok()
                    .map(|id| Question { id, text: q.text })
            })
            .collect(),
        attempts_left: answer_tries_left(user.counters),
        options: Vec::new(),
    };
    outcome.write(Write::Attempt(proven)).ok("ok", response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::{attempt, john, written_attempt};
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    use p256::ecdsa::{Signature, SigningKey};

    fn key() -> SigningKey {
        SigningKey::from_slice(&[7; 32]).unwrap()
    }

    fn card() -> Card {
        let public_key = key().verifying_key().to_encoded_point(false);
        Card {
            card_auth_public_key: public_key.as_bytes().to_vec(),
            ..crate::fixtures::card()
        }
    }

    const ORIGIN: &str = "https://selfservice.test";

    /// As the bridge has the card sign for a page of [`ORIGIN`].
    fn signed(by: &SigningKey, challenge: &[u8; 32]) -> CardSignature {
        let digest = SignedFor::CardProof.digest(ORIGIN, challenge);
        let signature: Signature = by.sign_prehash(&digest).unwrap();
        CardSignature::from_bytes(signature.to_der().as_bytes().to_vec()).unwrap()
    }

    fn questions() -> Vec<UserQuestion> {
        (1..=5)
            .map(|id| UserQuestion {
                question_id: id,
                text: format!("question {id}"),
            })
            .collect()
    }

    fn prove(user: User, by: &SigningKey, now: i64) -> Outcome<CardProofResponse> {
        prove_with(user, by, true, now)
    }

    fn prove_with(
        user: User,
        by: &SigningKey,
        card_auth_in_force: bool,
        now: i64,
    ) -> Outcome<CardProofResponse> {
        let attempt = attempt(AttemptState::Started);
        let signature = signed(by, &attempt.challenge);
        let loaded = Loaded {
            attempt,
            card: card(),
            user,
            questions: questions(),
            card_auth_in_force,
            passcodes_locked: false,
            login_certificate_current: true,
            options: Vec::new(),
        };
        decide(loaded, (&signature, ORIGIN), 3, now)
    }

    #[test]
    fn cert_5_a_card_whose_certificate_is_revoked_or_ended_proves_nothing() {
        let outcome = prove_with(john(), &key(), false, 1000);
        assert!(matches!(outcome.reply, Err(AppError::CertificateNotValid)));
        assert!(matches!(outcome.writes(), [Write::Attempt(a)] if a.state == AttemptState::Failed));
    }

    fn asked(outcome: &Outcome<CardProofResponse>) -> Vec<u32> {
        let response = outcome.reply.as_ref().unwrap();
        response.questions.iter().map(|q| q.id).collect()
    }

    #[test]
    fn card_6_a_genuine_card_gets_questions_drawn_once_and_fixed() {
        let outcome = prove(john(), &key(), 1000);
        assert_eq!(asked(&outcome).len(), 3);
        assert_eq!(written_attempt(&outcome).state, AttemptState::CardProven);
        assert!(outcome.writes().iter().any(|w| matches!(w,
            Write::UnlockQuestions { question_ids, .. } if question_ids.len() == 3)));
        // UNL-3: the questions already fixed for the user are asked again, not re-drawn.
        let fixed = User {
            question_ids: vec![5, 2, 4],
            ..john()
        };
        let outcome = prove(fixed, &key(), 1000);
        assert_eq!(asked(&outcome), [5, 2, 4]);
        assert!(!outcome
            .writes()
            .iter()
            .any(|w| matches!(w, Write::UnlockQuestions { .. })));
    }

    #[test]
    fn card_6_a_signature_of_raw_bytes_or_for_another_origin_proves_nothing() {
        let challenge = [9; 32];
        let raw: Signature = key().sign_prehash(&challenge).unwrap();
        let raw = CardSignature::from_bytes(raw.to_der().as_bytes().to_vec()).unwrap();
        assert!(!genuine(&card(), (&challenge, ORIGIN), &raw));
        let ours = signed(&key(), &challenge);
        assert!(genuine(&card(), (&challenge, ORIGIN), &ours));
        assert!(!genuine(
            &card(),
            (&challenge, "https://elsewhere.test"),
            &ours
        ));
    }

    #[test]
    fn card_6_another_key_or_a_late_answer_proves_nothing() {
        let other = SigningKey::from_slice(&[8; 32]).unwrap();
        let outcome = prove(john(), &other, 1000);
        assert!(matches!(outcome.reply, Err(AppError::CardNotGenuine)));
        assert_eq!(written_attempt(&outcome).state, AttemptState::Failed);
        let late = prove(john(), &key(), 1000 + CHALLENGE_TTL);
        assert!(matches!(late.reply, Err(AppError::AttemptExpired)));
        assert!(late.writes().is_empty());
    }

    #[test]
    fn unl_8_unregistered_or_closed_users_are_kept_only_for_an_ra_code() {
        let unregistered = User {
            registered: false,
            ..john()
        };
        let mut closed = john();
        closed.counters.self_service_closed = true;
        for (user, refused) in [
            (unregistered, AppError::NotRegistered),
            (closed, AppError::SelfServiceClosed),
        ] {
            let outcome = prove(user, &key(), 1000);
            assert_eq!(outcome.reply.as_ref().unwrap_err().code(), refused.code());
            assert_eq!(written_attempt(&outcome).state, AttemptState::RaOnly);
        }
    }
}
