//! The typed test client: one call per endpoint, built on the `api-types` wire types, so
//! a test reads as the flow does (zero2prod's `TestApp`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api_types::bridge::SignedRelay;
use api_types::endpoint::{Endpoint, Method};
use api_types::passcodes::PasscodeExpiry;
use api_types::ra::UserUuid;
use api_types::recovery::UnlockRoute;
use api_types::unlock::{
    Answer, Answers, AnswersRequest, CardProof, CardProofRequest, CardProofResponse, Channel,
    ChannelOpen, ChannelRequest, Code, CodeRequest, Complete, CompleteRequest, Script,
    ScriptRequest, SealedScript, Start, StartRequest,
};
use api_types::values::{BoundedVec, CardSignature, Challenge, ResponseHex, SecurityAnswer};
use api_types::{ApiError, AttemptId, CardGuid, ErrorCode, UnlockCode};
use card_protocol::client::PivClient;
use card_protocol::pin::{Pin, Puk};
use card_protocol::SignedFor;
use rand::rngs::OsRng;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;
use server::store::enroll::{enroll, Enrolment};
use server::store::users::{NewUser, UnlockCounters};
use server::{AppState, Application, Clock, Settings, TestClock};
use sqlx::Connection;
use virtual_card::{CreateOptions, SharedCard, VirtualCard};

pub const START: i64 = 1_900_000_000;
pub const PIN: &str = "1234";

/// The demo answers every test user registers, by question id.
pub const ANSWERS: &[(i64, &str)] = &[
    (1, "Smith"),
    (2, "Birmingham"),
    (3, "Ford Fiesta"),
    (5, "Rex"),
];

#[derive(Debug, Clone, Copy)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs a scenario on both backends: `both!(name)` makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both {
    ($scenario:ident) => {
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario($crate::helpers::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$scenario($crate::helpers::Db::Postgres).await
            }
        }
    };
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database of the test's own, dropped at the end (PostgreSQL) or a temp file (SQLite).
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<std::path::PathBuf>,
}

impl TestDb {
    pub async fn new(db: Db) -> Self {
        match db {
            Db::Sqlite => {
                let dir = std::env::temp_dir().join(format!("scss-test-{}", random_hex(8)));
                std::fs::create_dir_all(&dir).unwrap();
                Self {
                    url: format!("sqlite://{}?mode=rwc", dir.join("test.db").display()),
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            Db::Postgres => {
                let name = format!("scss_test_{}", random_hex(8));
                let mut admin = sqlx::PgConnection::connect(PG_ADMIN)
                    .await
                    .expect("PostgreSQL on 127.0.0.1:5432 (trust auth, database test) is needed");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                Self {
                    url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
                    pg_name: Some(name),
                    _dir: None,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = &self._dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(name) = self.pg_name.take() {
            // Drop runs inside the test's runtime; use a thread with its own.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    if let Ok(mut admin) = sqlx::PgConnection::connect(PG_ADMIN).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut admin)
                                .await;
                    }
                });
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub port: u16,
    pub state: AppState,
    pub clock: Arc<TestClock>,
    pub client: reqwest::Client,
    pub db: Arc<TestDb>,
    /// OPS-2: where `/metrics` is served, when the settings asked for it.
    pub metrics_port: Option<u16>,
    /// The flow cookie each attempt was started with, as its browser would keep it.
    flows: Mutex<HashMap<AttemptId, String>>,
}

/// The origin the test server is configured to serve the page from (ALL-6).
pub const ORIGIN: &str = "http://localhost";

/// A refusal as the page sees it: the status and the error body.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub status: StatusCode,
    pub error: ApiError,
}

impl Refused {
    pub fn code(&self) -> ErrorCode {
        self.error.code
    }
}

pub type Reply<E> = Result<<E as Endpoint>::Response, Refused>;

pub fn settings(database_url: &str) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.to_owned(),
        kek_hex: "11".repeat(32).into(),
        audit_key_hex: "22".repeat(32).into(),
        code_pepper_hex: "33".repeat(32).into(),
        grant_key_hex: "44".repeat(32).into(),
        smtp_port: std::env::var("MAILDEV_SMTP_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(1025),
        argon2_memory_kib: 8,
        argon2_iterations: 1,
        public_origin: ORIGIN.into(),
        // Every test comes from 127.0.0.1; the rate limit tests set their own.
        rate_limit_per_client: 100_000,
        rate_limit_per_card: 100_000,
        rate_limit_per_ra: 100_000,
        max_connections: 1024,
        // PASS-4 off: most tests move the clock years on (certificates); the passcode
        // tests turn it on.
        passcode_expiry: PasscodeExpiry {
            lifetime_days: 0,
            ..PasscodeExpiry::default()
        },
        ..Settings::default()
    }
}

impl TestApp {
    pub async fn spawn(db: Db) -> Self {
        Self::spawn_with(db, |_| {}).await
    }

    /// A server with some settings of the test's own.
    pub async fn spawn_with(db: Db, tweak: impl FnOnce(&mut Settings)) -> Self {
        let db = Arc::new(TestDb::new(db).await);
        let clock = Arc::new(TestClock::new(START));
        let mut settings = settings(&db.url);
        tweak(&mut settings);
        Self::with_settings(db, clock, settings).await
    }

    /// A new server process on the same database and settings (a restart, or a second
    /// instance).
    pub async fn restart(&self) -> Self {
        let settings = (*self.state.settings).clone();
        Self::with_settings(self.db.clone(), self.clock.clone(), settings).await
    }

    /// A new instance on the same database with some settings changed.
    pub async fn restart_with(&self, tweak: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = (*self.state.settings).clone();
        tweak(&mut settings);
        Self::with_settings(self.db.clone(), self.clock.clone(), settings).await
    }

    /// Takes over another client's cookie for an attempt (the same browser, talking to
    /// another instance).
    pub fn adopt_flow(&self, other: &TestApp, id: &AttemptId) {
        if let Some(cookie) = other.flow_cookie(id) {
            self.flows.lock().unwrap().insert(id.clone(), cookie);
        }
    }

    /// A client for a server a test started with settings of its own.
    pub async fn attach(port: u16, state: AppState, db: Arc<TestDb>) -> Self {
        Self {
            port,
            clock: Arc::new(TestClock::new(START)),
            state,
            client: reqwest::Client::new(),
            db,
            metrics_port: None,
            flows: Mutex::new(HashMap::new()),
        }
    }

    pub async fn on(
        db: Arc<TestDb>,
        clock: Arc<TestClock>,
        static_dir: Option<std::path::PathBuf>,
    ) -> Self {
        let mut settings = settings(&db.url);
        settings.static_dir = static_dir;
        Self::with_settings(db, clock, settings).await
    }

    async fn with_settings(db: Arc<TestDb>, clock: Arc<TestClock>, settings: Settings) -> Self {
        let app = Application::build(settings, clock.clone()).await.unwrap();
        let port = app.port();
        let metrics_port = app.metrics_port();
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        Self {
            port,
            state,
            clock,
            client: reqwest::Client::new(),
            db,
            metrics_port,
            flows: Mutex::new(HashMap::new()),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// POSTs any JSON to any path from our own page's origin, for the tests that send what
    /// no well-behaved page would: a malformed body (raw JSON, as no typed request can be
    /// malformed) or a path no endpoint's parameter can fill.
    pub async fn post_raw(&self, path: &str, body: &impl serde::Serialize) -> (StatusCode, Value) {
        let cookie = self
            .flows
            .lock()
            .unwrap()
            .iter()
            .find(|(id, _)| path.contains(id.as_str()))
            .map(|(_, cookie)| cookie.clone());
        let mut post = self.client.post(self.url(path)).header("origin", ORIGIN);
        if let Some(cookie) = cookie {
            post = post.header("cookie", cookie);
        }
        let response = post.json(body).send().await.unwrap();
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// The cookie the server set for an attempt, as a `Cookie` header value.
    pub fn flow_cookie(&self, id: &AttemptId) -> Option<String> {
        self.flows.lock().unwrap().get(id).cloned()
    }

    /// Endpoint `E`'s request as a page on `origin` sends it: a `GET` with the request as
    /// its query, or a `POST` of the request as JSON with the page's `Origin`; with
    /// `cookie`, if any. Not sent yet, for the tests that look at the raw answer.
    pub fn request_from<E: Endpoint>(
        &self,
        origin: &str,
        cookie: Option<&str>,
        params: &E::Params,
        request: &E::Request,
    ) -> reqwest::RequestBuilder {
        let url = self.url(&E::target(params, request).unwrap());
        let builder = match E::METHOD {
            Method::Get => self.client.get(url),
            Method::Post => self.client.post(url).header("origin", origin).json(request),
        };
        match cookie {
            Some(cookie) => builder.header("cookie", cookie),
            None => builder,
        }
    }

    /// Endpoint `E`'s request as our own page sends it (see [`Self::request_from`]).
    pub fn request<E: Endpoint>(
        &self,
        cookie: Option<&str>,
        params: &E::Params,
        request: &E::Request,
    ) -> reqwest::RequestBuilder {
        self.request_from::<E>(ORIGIN, cookie, params, request)
    }

    /// Sends endpoint `E`'s request from our page with `cookie` (if any) and reads the
    /// answer: the headers and the typed body, or the refusal — whose status must be its
    /// code's, and which is never cached (ALL-6).
    pub async fn send<E: Endpoint>(
        &self,
        cookie: Option<&str>,
        params: &E::Params,
        request: &E::Request,
    ) -> Result<(HeaderMap, E::Response), Refused> {
        let response = self
            .request::<E>(cookie, params, request)
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert_eq!(response.headers()["cache-control"], "no-store"); // ALL-6
        if status.is_success() {
            let headers = response.headers().clone();
            Ok((headers, response.json().await.unwrap()))
        } else {
            let error: ApiError = response.json().await.unwrap();
            assert_eq!(status.as_u16(), error.code.http_status(), "{error:?}");
            // OPS-1: the document lists every code an endpoint is refused with.
            assert!(
                E::refusals().contains(&error.code),
                "{} refused with {:?}, which its declaration does not list",
                E::NAME,
                error.code
            );
            Err(Refused { status, error })
        }
    }

    /// Endpoint `E`, from a browser without cookies: the typed answer or the refusal.
    pub async fn call<E: Endpoint>(&self, params: &E::Params, request: &E::Request) -> Reply<E> {
        self.send::<E>(None, params, request)
            .await
            .map(|(_, response)| response)
    }

    /// Endpoint `E`, from a browser holding `cookie` (a session, say).
    pub async fn call_as<E: Endpoint>(
        &self,
        cookie: &str,
        params: &E::Params,
        request: &E::Request,
    ) -> Reply<E> {
        self.send::<E>(Some(cookie), params, request)
            .await
            .map(|(_, response)| response)
    }

    /// One step of an attempt, typed by its endpoint, from the browser that started it.
    pub async fn step<E: Endpoint<Params = AttemptId>>(
        &self,
        id: &AttemptId,
        request: &E::Request,
    ) -> Reply<E> {
        let cookie = self.flow_cookie(id);
        self.step_with_cookie::<E>(id, cookie.as_deref(), request)
            .await
    }

    /// One step of a flow (an attempt, a registration) with whatever cookie the caller
    /// has: the browser's own, an attacker's, or none.
    pub async fn step_with_cookie<E: Endpoint>(
        &self,
        id: &E::Params,
        cookie: Option<&str>,
        request: &E::Request,
    ) -> Reply<E> {
        self.send::<E>(cookie, id, request)
            .await
            .map(|(_, response)| response)
    }

    /// UNL-1: start with a card's GUID; the flow cookie is kept for the attempt's steps.
    pub async fn start(&self, guid: CardGuid) -> Reply<Start> {
        self.start_on(guid, UnlockRoute::Questions).await
    }

    /// UNL-1 on a route of the page's choosing (POL-1).
    pub async fn start_on(&self, guid: CardGuid, route: UnlockRoute) -> Reply<Start> {
        let request = StartRequest {
            card_guid: guid,
            route,
        };
        let (headers, started) = self.send::<Start>(None, &(), &request).await?;
        let set_cookie = headers["set-cookie"].to_str().unwrap();
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(set_cookie.contains(attribute), "{set_cookie}");
        }
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        self.flows
            .lock()
            .unwrap()
            .insert(started.attempt_id.clone(), cookie);
        Ok(started)
    }

    pub async fn count(&self, table: &str) -> i64 {
        #[derive(sqlx::FromRow)]
        struct Count {
            n: i64,
        }
        sqlx::query_as::<_, Count>(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(&self.state.store.pool)
            .await
            .unwrap()
            .n
    }

    /// The trail's events tied to no card and no user: (action, outcome, detail).
    pub async fn anonymous_events(&self) -> Vec<(String, String, String)> {
        sqlx::query_as::<_, (String, String, String)>(
            "SELECT action, outcome, detail FROM audit_log \
             WHERE card_guid IS NULL AND user_uuid IS NULL",
        )
        .fetch_all(&self.state.store.pool)
        .await
        .unwrap()
    }

    pub async fn counters(&self, card: &TestCard) -> UnlockCounters {
        let mut conn = self.state.store.pool.acquire().await.unwrap();
        server::store::users::find(&mut conn, &UserUuid::parse(&card.uuid).unwrap())
            .await
            .unwrap()
            .unwrap()
            .counters
    }

    /// A staff member with a locked virtual card, enrolled like the demo users.
    pub async fn enroll(&self, registered: bool) -> TestCard {
        self.enroll_with_pin_state(registered, true).await
    }

    /// A registered staff member whose card works (PIN [`PIN`], not locked).
    pub async fn enroll_unlocked(&self) -> TestCard {
        self.enroll_with_pin_state(true, false).await
    }

    /// A staff member not yet registered for self-service, whose card works.
    pub async fn enroll_unregistered_unlocked(&self) -> TestCard {
        self.enroll_with_pin_state(false, false).await
    }

    pub async fn enroll_with_pin_state(&self, registered: bool, locked: bool) -> TestCard {
        self.enroll_person(("John", "Rigby"), registered, locked)
            .await
    }

    /// A staff member of this name with a card (PIN [`PIN`]), locked or not.
    pub async fn enroll_person(
        &self,
        name: (&str, &str),
        registered: bool,
        locked: bool,
    ) -> TestCard {
        let puk = Puk::generate(&mut OsRng);
        let card = VirtualCard::create(&CreateOptions {
            pin: PIN.into(),
            puk: puk_text(&puk),
            guid: None,
            locked,
        })
        .unwrap();
        self.enroll_named(card, puk, registered, name).await
    }

    async fn enroll_named(
        &self,
        card: VirtualCard,
        puk: Puk,
        registered: bool,
        (given_name, family_name): (&str, &str),
    ) -> TestCard {
        let guid = CardGuid::from_bytes(card.guid());
        let uuid: String = (0..12)
            .map(|_| char::from(b'0' + rand::random::<u8>() % 10))
            .collect();
        let email = format!("t{}@nhs.net", random_hex(6));
        enroll(
            &self.state.store,
            &self.state.kek,
            &self.state.hasher,
            self.clock.now(),
            &Enrolment {
                user: NewUser {
                    uuid: &uuid,
                    title: "Mr",
                    given_name,
                    family_name,
                    email: &email,
                    role: "staff",
                    registered,
                },
                answers: ANSWERS,
                card_guid: guid,
                // Issuance (below) has the card generate its 9E key.
                card_auth_public_key: Vec::new(),
                puk,
                channel_keys: card.scp03_keys(),
                channel_key_version: virtual_card::SCP03_KEY_VERSION,
            },
        )
        .await
        .unwrap();
        let card = SharedCard::new(card);
        // CERT-1: issued as every card is, through the secure channel.
        self.state.issue_card(card.clone(), &guid).await.unwrap();
        TestCard {
            card,
            guid,
            uuid,
            email,
        }
    }

    /// UNL-1 + CARD-6: start with the card's GUID and prove it with the 9E key.
    pub async fn start_and_prove(&self, card: &TestCard) -> (AttemptId, Reply<CardProof>) {
        let started = self.start(card.guid).await.unwrap();
        let proof = self
            .prove(&started.attempt_id, card.sign(&started.challenge))
            .await;
        (started.attempt_id, proof)
    }

    /// CARD-6: the card's signature over the challenge.
    pub async fn prove(&self, id: &AttemptId, signature: CardSignature) -> Reply<CardProof> {
        self.step::<CardProof>(id, &CardProofRequest { signature })
            .await
    }

    /// The answers to the questions asked: right (with case and spaces changed) or wrong.
    pub async fn answer(
        &self,
        id: &AttemptId,
        proof: &CardProofResponse,
        right: bool,
    ) -> Reply<Answers> {
        let answers = proof
            .questions
            .iter()
            .map(|q| {
                let answer = ANSWERS
                    .iter()
                    .find(|(id, _)| *id == i64::from(q.id))
                    .unwrap()
                    .1;
                let answer = if right {
                    format!("  {}  ", answer.to_uppercase())
                } else {
                    "wrong".into()
                };
                Answer {
                    question_id: q.id,
                    answer: SecurityAnswer::parse(&answer).unwrap(),
                }
            })
            .collect();
        let request = AnswersRequest {
            answers: BoundedVec::new(answers).unwrap(),
        };
        self.step::<Answers>(id, &request).await
    }

    /// Start → proof → right answers → the code from the email.
    pub async fn up_to_code(&self, card: &TestCard) -> (AttemptId, UnlockCode) {
        let (id, proof) = self.start_and_prove(card).await;
        self.answer(&id, &proof.unwrap(), true).await.unwrap();
        let mail = wait_for_mail(&card.email, "Smartcard Unlock Code").await;
        (id, code_in(&mail))
    }

    pub async fn code(&self, id: &AttemptId, code: &UnlockCode) -> Reply<Code> {
        self.step::<Code>(
            id,
            &CodeRequest {
                code: code.clone().into(),
            },
        )
        .await
    }

    pub async fn channel(&self, id: &AttemptId) -> Reply<Channel> {
        self.step::<Channel>(id, &ChannelRequest {}).await
    }

    pub async fn script(&self, id: &AttemptId, card_answers: Vec<ResponseHex>) -> Reply<Script> {
        let request = ScriptRequest {
            card_answers: BoundedVec::new(card_answers).unwrap(),
        };
        self.step::<Script>(id, &request).await
    }

    /// Opens the channel through the card and gets the sealed script, as the page does.
    pub async fn sealed_script(&self, card: &TestCard, id: &AttemptId) -> SealedScript {
        let opening = self.channel(id).await.unwrap();
        let answers = card.open(&opening);
        self.script(id, answers).await.unwrap()
    }

    /// The card update up to the bridge's local PIN change, as the page does it: channel,
    /// sealed script, the card's answers judged by the server — and again from a new
    /// channel when the server says the card is not updated yet (a PUK reconciled).
    pub async fn update_card(&self, card: &TestCard, id: &AttemptId) -> SealedScript {
        for _ in 0..3 {
            let sealed = self.sealed_script(card, id).await;
            let answers = card.relay(&sealed.relay);
            match self.complete(id, answers, false).await {
                Ok(updated) => {
                    assert!(updated.card_updated && !updated.unlocked);
                    return sealed;
                }
                Err(refused) if refused.code() == ErrorCode::CardUpdateFailed => {}
                Err(refused) => panic!("card update refused: {refused:?}"),
            }
        }
        panic!("the card update did not converge")
    }

    /// The PUK the server believes the card has, and whether one is pending.
    pub async fn server_puk(&self, card: &TestCard) -> (Vec<u8>, bool) {
        let mut conn = self.state.store.pool.acquire().await.unwrap();
        let row = server::store::cards::find(&mut conn, &card.guid)
            .await
            .unwrap()
            .unwrap();
        let puk = self
            .state
            .kek
            .open(&row.puk_enc, &card.guid, server::secrets::SealPurpose::Puk)
            .unwrap();
        (puk.to_vec(), row.puk_next_enc.is_some())
    }

    pub async fn complete(
        &self,
        id: &AttemptId,
        responses: Vec<ResponseHex>,
        pin_changed: bool,
    ) -> Reply<Complete> {
        let request = CompleteRequest {
            script_responses: BoundedVec::new(responses).unwrap(),
            pin_changed,
        };
        self.step::<Complete>(id, &request).await
    }

    /// Code → channel → sealed script on the card → local PIN change → complete, as the
    /// page does.
    pub async fn finish_unlock(
        &self,
        card: &TestCard,
        id: &AttemptId,
        code: &UnlockCode,
        new_pin: &str,
    ) {
        self.code(id, code).await.unwrap();
        let sealed = self.update_card(card, id).await;
        card.change_pin(&sealed, new_pin);
        let done = self.complete(id, Vec::new(), true).await.unwrap();
        assert!(done.unlocked);
    }

    pub async fn audit_events(&self, card: &TestCard) -> Vec<(String, String)> {
        let mut conn = self.state.store.pool.acquire().await.unwrap();
        let theirs = server::store::audit_search::Filter {
            user: UserUuid::parse(&card.uuid).ok(),
            ..Default::default()
        };
        let mut events = server::store::audit_search::page(&mut conn, &theirs, i64::MAX)
            .await
            .unwrap();
        // Oldest first, as they happened.
        events.reverse();
        events.into_iter().map(|e| (e.action, e.outcome)).collect()
    }
}

pub fn puk_text(puk: &Puk) -> String {
    puk.as_bytes().iter().map(|b| char::from(*b)).collect()
}

pub struct TestCard {
    pub card: SharedCard,
    pub guid: CardGuid,
    pub uuid: String,
    pub email: String,
}

impl TestCard {
    /// The PUK the card holds now, as the bytes sent to it.
    pub fn puk_bytes(&self) -> Vec<u8> {
        let text = self.card.with_card(|c| c.state().puk.clone());
        hex::decode(&text).unwrap_or_else(|_| text.into_bytes())
    }
}

impl TestCard {
    /// CARD-6, as the bridge has the card sign for our page: the digest of the purpose,
    /// [`ORIGIN`] and the challenge.
    pub fn sign(&self, challenge: &Challenge) -> CardSignature {
        let mut piv = PivClient::new(self.card.clone());
        piv.select().unwrap();
        let digest = SignedFor::CardProof.digest(ORIGIN, challenge.as_bytes());
        let signature = piv.sign_with_card_auth_key(&digest).unwrap();
        CardSignature::from_bytes(signature).unwrap()
    }

    fn apdus(relay: &SignedRelay) -> Vec<Vec<u8>> {
        relay
            .apdus
            .as_slice()
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect()
    }

    fn run(piv: &mut PivClient<SharedCard>, relay: &SignedRelay) -> Vec<ResponseHex> {
        piv.run_script(&Self::apdus(relay))
            .unwrap()
            .into_iter()
            .map(|r| ResponseHex::from_bytes(r).unwrap())
            .collect()
    }

    /// What the bridge does with an opening: select PIV, then relay it.
    pub fn open(&self, opening: &ChannelOpen) -> Vec<ResponseHex> {
        let mut piv = PivClient::new(self.card.clone());
        piv.select().unwrap();
        Self::run(&mut piv, &opening.relay)
    }

    /// What the bridge does with any opening's relay: select PIV, then relay it.
    pub fn open_relay(&self, relay: &SignedRelay) -> Vec<ResponseHex> {
        let mut piv = PivClient::new(self.card.clone());
        piv.select().unwrap();
        Self::run(&mut piv, relay)
    }

    /// What the bridge does with a sealed script: relay it, adding nothing.
    pub fn relay(&self, relay: &SignedRelay) -> Vec<ResponseHex> {
        Self::run(&mut PivClient::new(self.card.clone()), relay)
    }

    /// The sealed script relayed to a card pulled after `after` commands: the bridge's
    /// error, and the card back in (powered up afresh).
    pub fn relay_pulled_after(&self, relay: &SignedRelay, after: usize) {
        self.card.remove_after(after);
        let pulled = PivClient::new(self.card.clone()).run_script(&Self::apdus(relay));
        assert!(pulled.is_err());
        self.card.insert();
    }

    /// What the bridge does next, locally: one-time PIN → the user's new passcode.
    /// The card takes `pin` (UNL-7: unlocked, with the passcode set).
    pub fn verify_pin(&self, pin: &str) {
        let mut piv = PivClient::new(self.card.clone());
        piv.select().unwrap();
        piv.verify_pin(&Pin::parse(pin).unwrap()).unwrap();
    }

    pub fn change_pin(&self, sealed: &SealedScript, new_pin: &str) {
        let mut piv = PivClient::new(self.card.clone());
        piv.select().unwrap();
        piv.change_pin(
            &Pin::parse(sealed.one_time_pin.expose()).unwrap(),
            &Pin::parse(new_pin).unwrap(),
        )
        .unwrap();
    }
}

/// Polls the real mail catcher for the oldest message to `to` with `subject` that this
/// test binary has not read yet (each message is read once).
pub async fn wait_for_mail(to: &str, subject: &str) -> String {
    static READ: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let api = std::env::var("MAILDEV_API_URL").unwrap_or_else(|_| "http://127.0.0.1:1080".into());
    for _ in 0..150 {
        let mut mails: Vec<Value> = reqwest::get(format!("{api}/api/email"))
            .await
            .expect("the maildev catcher must run (cargo xtask test starts it)")
            .json()
            .await
            .unwrap();
        mails.sort_by(|a, b| a["date"].as_str().cmp(&b["date"].as_str()));
        let text = {
            let mut read = READ.lock().unwrap();
            let found = mails.iter().find(|m| {
                m["subject"] == subject
                    && m["to"]
                        .as_array()
                        .is_some_and(|t| t.iter().any(|a| a["address"] == to))
                    && !read.iter().any(|id| m["id"] == id.as_str())
            });
            found.map(|mail| {
                read.push(mail["id"].as_str().unwrap_or_default().to_owned());
                mail["text"].as_str().unwrap_or_default().to_owned()
            })
        };
        if let Some(text) = text {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no \"{subject}\" email to {to} within 15 s");
}

/// A well-formed code that is not `code`.
pub fn wrong_code(code: &UnlockCode) -> UnlockCode {
    UnlockCode::from_draw(code.expose().parse::<u32>().unwrap() + 1)
}

pub fn code_in(text: &str) -> UnlockCode {
    text.split(|c: char| !c.is_ascii_digit())
        .find_map(|w| UnlockCode::parse(w).ok())
        .unwrap_or_else(|| panic!("no 6-digit code in {text}"))
}
