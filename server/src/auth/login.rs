//! AUTH-1: `login/start` (a challenge for the card) and `login/finish` (its 9A signature
//! → a session).

use api_types::auth::{
    LoginFinishRequest, LoginId, LoginStartRequest, LoginStartResponse, SessionInfo,
};
use api_types::values::Challenge;
use api_types::CardGuid;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};

use super::LOGIN_CHALLENGE_TTL;
use crate::ca::CertificateAuthority;
use crate::flow::{Outcome, Subject, Write};
use crate::secrets::{random_bytes, FlowSecret};
use crate::store::cards;
use crate::store::certificates::{self, CardCertificate};
use crate::store::sessions::{self, LoginChallenge, Session};
use crate::store::users::{self, User};
use crate::store::Tx;
use crate::unlock::limits::Scope;
use crate::unlock::Client;
use crate::{AppError, AppState};

const START: &str = "auth.login_start";
const FINISH: &str = "auth.login";

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
        let subject = Subject {
            card_guid: Some(request.card_guid),
            user_uuid: None,
        };
        self.limit(START, Scope::Client(client), Subject::default(), client)
            .await?;
        self.limit(
            START,
            Scope::Card(&request.card_guid),
            subject.clone(),
            client,
        )
        .await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let card = cards::find(&mut tx, &request.card_guid).await?;
        let subject = Subject {
            user_uuid: card.as_ref().map(|c| c.user_uuid.clone()),
            ..subject
        };
        let known = card.is_some();
        let challenge = LoginChallenge {
            id: LoginId::from_bytes(random_bytes()),
            card_guid: request.card_guid,
            challenge: random_bytes(),
            created_at: now,
            expires_at: now + LOGIN_CHALLENGE_TTL,
            used_at: None,
        };
        let outcome = Outcome::new(START, subject);
        let outcome = if known {
            let response = LoginStartResponse {
                login_id: challenge.id.clone(),
                challenge: Challenge::from_bytes(challenge.challenge),
                expires_at: challenge.expires_at,
            };
            outcome
                .write(Write::NewLoginChallenge(challenge))
                .ok("ok", response)
        } else {
            outcome.refuse(AppError::UnknownCard)
        };
        self.finish(tx, now, client, outcome).await
    }

    pub async fn login_finish(
        &self,
        request: LoginFinishRequest,
        client: &Client,
    ) -> Result<Login, AppError> {
        self.limit(FINISH, Scope::Client(client), Subject::default(), client)
            .await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let loaded = match sessions::find_challenge_for_update(
            &mut tx,
            self.store.backend,
            &request.login_id,
        )
        .await?
        {
            Some(challenge) => {
                let card = cards::find(&mut tx, &challenge.card_guid).await?;
                let user = match &card {
                    Some(card) => users::find(&mut tx, &card.user_uuid).await?,
                    None => None,
                };
                let certificates = certificates::for_card(&mut tx, &challenge.card_guid).await?;
                Some(Loaded {
                    challenge,
                    user,
                    certificates,
                })
            }
            None => None,
        };
        let secret = FlowSecret::generate();
        let settings = &self.settings;
        let limits = Limits {
            idle: i64::from(settings.session_idle_secs),
            absolute: i64::from(settings.session_absolute_secs),
        };
        let outcome = decide(loaded, &request, &self.ca, &secret, limits, now);
        let info = self.finish(tx, now, client, outcome).await?;
        Ok(Login { info, secret })
    }
}

/// What `login/finish` read.
struct Loaded {
    challenge: LoginChallenge,
    user: Option<User>,
    certificates: Vec<CardCertificate>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub idle: i64,
    pub absolute: i64,
}

/// The card's 9A key, from a certificate our CA issued it that is current and not
/// revoked (the CA checks the certificate itself again).
fn login_key(
    certificates: &[CardCertificate],
    ca: &CertificateAuthority,
    now: i64,
) -> Option<VerifyingKey> {
    certificates
        .iter()
        .filter(|c| c.slot == "9a" && c.revoked_at.is_none() && now < c.not_after)
        .find_map(|stored| ca.current_key(&stored.certificate, now))
}

impl AppState {
    /// REG-1 / REG-5: the passcode entered again and verified on the session's own card —
    /// a fresh login challenge for that card, signed by its 9A key. A challenge for that
    /// card is spent whatever the verdict; the write doing so comes back with it.
    pub(crate) async fn card_proven_again(
        &self,
        tx: &mut Tx,
        card_guid: CardGuid,
        login_id: &LoginId,
        signature: &api_types::values::CardSignature,
        now: i64,
    ) -> Result<(Option<Write>, Result<(), AppError>), AppError> {
        let challenge =
            sessions::find_challenge_for_update(tx, self.store.backend, login_id).await?;
        Ok(match challenge {
            Some(challenge) if challenge.card_guid == card_guid => {
                let certs = certificates::for_card(tx, &card_guid).await?;
                let verdict = check_card_signature(&challenge, &certs, &self.ca, signature, now);
                (Some(Write::UseLoginChallenge(challenge.id)), verdict)
            }
            Some(_) => (None, Err(AppError::CardNotGenuine)),
            None => (None, Err(AppError::NotFound)),
        })
    }
}

/// AUTH-1 / REG-1: a signature over an unused, current challenge, by the 9A key of the
/// challenge's card, as its current certificate from our CA names it.
fn check_card_signature(
    challenge: &LoginChallenge,
    certificates: &[CardCertificate],
    ca: &CertificateAuthority,
    signature: &api_types::values::CardSignature,
    now: i64,
) -> Result<(), AppError> {
    if challenge.used_at.is_some() || now >= challenge.expires_at {
        return Err(AppError::LoginExpired);
    }
    let key = login_key(certificates, ca, now).ok_or(AppError::CertificateNotValid)?;
    let signed = Signature::from_der(signature.as_bytes())
        .ok()
        .is_some_and(|signature| key.verify_prehash(&challenge.challenge, &signature).is_ok());
    if signed {
        Ok(())
    } else {
        Err(AppError::CardNotGenuine)
    }
}

fn decide(
    loaded: Option<Loaded>,
    request: &LoginFinishRequest,
    ca: &CertificateAuthority,
    secret: &FlowSecret,
    limits: Limits,
    now: i64,
) -> Outcome<SessionInfo> {
    let Some(Loaded {
        challenge,
        user,
        certificates,
    }) = loaded
    else {
        return Outcome::new(FINISH, Subject::default()).refuse(AppError::NotFound);
    };
    let subject = Subject {
        card_guid: Some(challenge.card_guid),
        user_uuid: user.as_ref().map(|u| u.uuid.clone()),
    };
    // Single use: whatever follows, this challenge is spent.
    let outcome =
        Outcome::new(FINISH, subject).write(Write::UseLoginChallenge(challenge.id.clone()));
    let Some(user) = user else {
        return outcome.refuse(AppError::UnknownCard);
    };
    if let Err(refused) =
        check_card_signature(&challenge, &certificates, ca, &request.signature, now)
    {
        return outcome.refuse(refused);
    }
    let session = Session {
        secret_hash: secret.hash(),
        user_uuid: user.uuid.clone(),
        card_guid: challenge.card_guid.to_hex(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + limits.absolute,
        ended_at: None,
    };
    let info = session_info(&user, challenge.card_guid, &session, limits);
    // The PIN just verified: the card has all its tries again (RA-2, "as last seen").
    let tries = i64::from(card_protocol::piv::PIN_TRIES);
    outcome
        .write(Write::NewSession(session))
        .write(Write::PinTriesSeen {
            card: challenge.card_guid,
            tries,
        })
        .ok("ok", info)
}

pub(super) fn session_info(
    user: &User,
    card_guid: CardGuid,
    session: &Session,
    limits: Limits,
) -> SessionInfo {
    SessionInfo {
        display_name: user.display_name.clone(),
        uuid: user.uuid.clone(),
        card_guid,
        expires_at: session.expires_at,
        idle_timeout_secs: limits.idle,
        role: user.role,
    }
}
