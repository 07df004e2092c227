//! AUTH-1: `login/start` (a challenge for the card, sealed: it writes nothing) and
//! `login/finish` (its 9A signature → a session). A signature the card's certificates do
//! not check, from a card with a renewal still open, is kept with that renewal: the card
//! may hold the renewal's new keys, and the page can finish it (CERT-3,
//! `renewal::recover`).

use api_types::audit::AuditAction;
use api_types::auth::{LoginFinishRequest, LoginStartRequest, LoginStartResponse, SessionInfo};
use api_types::passcodes::{PasscodeExpiry, PasscodesDue};
use api_types::policy::Policy;
use api_types::ra::UserUuid;
use api_types::values::Challenge;
use api_types::CardGuid;

use crate::flow::card_again::check_card_signature;
use crate::flow::login_challenge::{LoginChallenge, LoginSeal};
use crate::flow::session::{passcodes_due, renewal_due, session_info, Limits};
use crate::flow::{Client, Outcome, Subject, Write};
use crate::secrets::{random_bytes, FlowSecret};
use crate::store::attempts::HexBytes;
use crate::store::audit;
use crate::store::renewals::{self, LoginCertificate, RecoveryClaim, Renewal};
use crate::store::sessions::Session;
use crate::store::spent_logins::{self, LoginCard};
use crate::store::users::User;
use crate::{AppError, AppState};

const START: AuditAction = AuditAction::LoginStart;
const FINISH: AuditAction = AuditAction::Login;

/// A finished login: who, and the secret only the session cookie carries.
#[derive(Debug)]
pub struct Login {
    pub info: SessionInfo,
    pub secret: FlowSecret,
}

impl AppState {
    pub async fn login_start(
        &self,
        request: LoginStartRequest,
        client: &Client,
    ) -> Result<LoginStartResponse, AppError> {
        let guid = request.card_guid;
        let (now, mut conn) = self.open_plain().await?;
        let holder = spent_logins::holder_of(&mut conn, &guid).await?;
        let fresh = (&self.login_seal, random_bytes());
        let outcome = decide_start(guid, holder.as_ref(), fresh, now);
        self.finish_plain(conn, now, client, outcome).await
    }

    pub async fn login_finish(
        &self,
        request: LoginFinishRequest,
        client: &Client,
    ) -> Result<Login, AppError> {
        // Read outside a transaction: a sign-in's one write checks what it relies on
        // (the challenge unspent, the chain's head unmoved) as it writes.
        let (now, mut conn) = self.open_plain().await?;
        let sealed = self.login_seal.open(&request.login_id);
        let card = match &sealed {
            Some(sealed) => {
                let guid = &sealed.card_guid;
                // The card is its sign-in's actor: the link goes in its chain.
                let chain = audit::chain_of(&guid.to_hex());
                spent_logins::login_card(&mut conn, (guid, &sealed.nonce), chain).await?
            }
            None => None,
        };
        let secret = FlowSecret::generate();
        let rules = (
            self.session_limits(),
            (self.settings.policy, self.settings.passcode_expiry),
        );
        let Some((challenge, card)) = sealed.zip(card) else {
            let outcome = decide(None, &request, &secret, rules, now);
            let info = self.finish_plain(conn, now, client, outcome).await?;
            return Ok(Login { info, secret });
        };
        let LoginCard {
            holder,
            certificates,
            spent,
            head,
        } = card;
        let challenge = challenge.spent(spent);
        let guid = challenge.card_guid;
        let signature = check_card_signature(
            &challenge,
            &certificates,
            self.card_trust(),
            &request.signature,
            now,
        );
        let may_be_a_renewal = matches!(&signature, Err(refused) if may_be_a_renewal_s(refused));
        let mut loaded = Loaded {
            challenge,
            login: LoginCertificate::of(&certificates, holder.renewals_in_a_row),
            user: holder.user,
            signature,
            unfinished: None,
        };
        let info = if may_be_a_renewal {
            // CERT-3: only a signature the certificates do not check needs the card's open
            // renewal (read, and locked, only then).
            let mut tx = self.store.begin_on(conn).await?;
            let backend = self.store.backend;
            loaded.unfinished =
                renewals::open_self_service_for_update(&mut tx, backend, &guid).await?;
            let outcome = decide(Some(loaded), &request, &secret, rules, now);
            self.finish(tx, now, client, outcome).await?
        } else {
            let outcome = decide(Some(loaded), &request, &secret, rules, now);
            self.finish_sign_in(conn, now, client, outcome, head)
                .await?
        };
        Ok(Login { info, secret })
    }
}

/// AUTH-1: a challenge only for a card we know; an unknown card is refused and recorded.
/// `fresh` is the seal and a nonce drawn for it.
fn decide_start(
    guid: CardGuid,
    holder: Option<&UserUuid>,
    (seal, nonce): (&LoginSeal, [u8; 16]),
    now: i64,
) -> Outcome<LoginStartResponse> {
    let Some(holder) = holder else {
        return Outcome::new(START, Subject::card(guid)).refuse(AppError::UnknownCard);
    };
    let challenge = seal.seal(nonce, guid, now);
    let response = LoginStartResponse {
        login_id: challenge.id,
        challenge: Challenge::from_bytes(challenge.challenge),
        expires_at: challenge.expires_at,
    };
    // A challenge handed to whoever names a card proves nothing and changes nothing the
    // holder has: the sign-in that answers it is the event. Auditing it let anyone who
    // knows a GUID write a row per request into a trail that is never trimmed; sealed,
    // it writes nothing at all (ALL-5: asking for them cannot grow the database).
    Outcome::new(START, Subject::card_of(guid, holder))
        .unaudited_if_ok()
        .ok("ok", response)
}

/// What `login/finish` read, and what the card's certificates said of its signature.
struct Loaded {
    challenge: LoginChallenge,
    user: User,
    /// CERT-2: what decides whether renewal is due.
    login: LoginCertificate,
    /// AUTH-1: [`check_card_signature`]'s verdict.
    signature: Result<(), AppError>,
    /// CERT-3: the card's own renewal still open, if the signature may be its keys'.
    unfinished: Option<Renewal>,
}

/// CERT-3: a refusal a renewal's new keys could explain (not a spent or stale challenge).
fn may_be_a_renewal_s(refused: &AppError) -> bool {
    !matches!(refused, AppError::LoginExpired)
}

fn decide(
    loaded: Option<Loaded>,
    request: &LoginFinishRequest,
    secret: &FlowSecret,
    (limits, (policy, expiry)): (Limits, (Policy, PasscodeExpiry)),
    now: i64,
) -> Outcome<SessionInfo> {
    let Some(Loaded {
        challenge,
        user,
        login,
        signature,
        unfinished,
    }) = loaded
    else {
        return Outcome::new(FINISH, Subject::anonymous()).refuse(AppError::NotFound);
    };
    let subject = Subject::card_of(challenge.card_guid, &user.uuid);
    // Single use: whatever follows, this challenge is spent — by a refusal's write, or
    // with the new session.
    let outcome = Outcome::new(FINISH, subject);
    let spent = challenge.spend();
    match signature {
        Ok(()) => {}
        Err(refused) if !may_be_a_renewal_s(&refused) => {
            return outcome.write(spent).refuse(refused)
        }
        Err(refused) => {
            let outcome = outcome.write(spent);
            return unchecked(outcome, unfinished, &challenge, request, refused, now);
        }
    }
    let session = Session {
        secret_hash: secret.hash(),
        user_uuid: user.uuid.clone(),
        card_guid: challenge.card_guid,
        created_at: now,
        last_seen_at: now,
        expires_at: now + limits.absolute,
        ended_at: None,
        card_proven_at: now,
    };
    let renewal = renewal_due(policy, Some(login), now);
    let passcodes = passcodes_due(expiry, &user, now);
    // PASS-4: expired and unchanged past the lock period: only the RA unlocks it.
    if matches!(passcodes, PasscodesDue::Locked { .. }) {
        return outcome.write(spent).refuse(AppError::PasscodesLocked);
    }
    let due = (renewal, passcodes);
    let info = session_info(&user, challenge.card_guid, &session, (limits, due));
    // The session is also the PIN just verified: the RA sees the card with all its tries
    // as of now (RA-2), with no write to the card's row.
    outcome
        .write(Write::SignedIn {
            challenge: challenge.spending(),
            session,
        })
        .ok("ok", info)
}

/// CERT-3: a signature the certificates do not check, from a card whose renewal is open,
/// may be its new 9A key's: kept with the renewal (the latest replaces any earlier) for
/// the page to finish it. Otherwise, the refusal as it was.
fn unchecked(
    outcome: Outcome<SessionInfo>,
    unfinished: Option<Renewal>,
    challenge: &LoginChallenge,
    request: &LoginFinishRequest,
    refused: AppError,
    now: i64,
) -> Outcome<SessionInfo> {
    let Some(renewal) = unfinished else {
        return outcome.refuse(refused);
    };
    let claim = RecoveryClaim {
        login_id: challenge.id.clone(),
        challenge: challenge.challenge,
        signature: HexBytes(request.signature.as_bytes().to_vec()),
        claimed_at: now,
    };
    outcome
        .detail(format!("renewal {} unfinished: {refused}", renewal.id))
        .write(Write::Renewal(Renewal {
            recovery: Some(claim),
            ..renewal
        }))
        .refuse(AppError::RenewalUnfinished)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::auth::LOGIN_CHALLENGE_TTL;
    use crate::fixtures::card;

    fn seal() -> LoginSeal {
        LoginSeal::new(&[1; 32]).unwrap()
    }

    #[test]
    fn auth_1_a_known_card_gets_a_sealed_challenge_that_ends_in_two_minutes_and_writes_nothing() {
        let (guid, seal) = (CardGuid::from_bytes([9; 16]), seal());
        let outcome = decide_start(guid, Some(&card().user_uuid), (&seal, [2; 16]), 1000);
        let response = outcome.reply.as_ref().unwrap();
        assert_eq!(response.expires_at, 1000 + LOGIN_CHALLENGE_TTL);
        let opened = seal.open(&response.login_id).unwrap();
        assert_eq!(opened.card_guid, guid);
        assert_eq!(response.challenge.as_bytes(), &opened.challenge);
        assert!(outcome.writes().is_empty());
    }

    #[test]
    fn auth_1_an_unknown_card_writes_nothing_but_its_refusal() {
        let seal = seal();
        let outcome = decide_start(CardGuid::from_bytes([9; 16]), None, (&seal, [2; 16]), 1000);
        assert!(matches!(outcome.reply, Err(AppError::UnknownCard)));
        assert!(outcome.writes().is_empty());
    }
}
