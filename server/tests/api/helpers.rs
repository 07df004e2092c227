use std::sync::Arc;
use std::time::Duration;

use card_protocol::client::PivClient;
use card_protocol::pin::{Pin, Puk};
use rand::rngs::OsRng;
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::store::{enroll, NewCard, NewUser};
use server::{AppState, Application, Settings, TestClock};
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
    async fn new(db: Db) -> Self {
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
}

pub fn settings(database_url: &str) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.to_owned(),
        kek_hex: "11".repeat(32),
        smtp_port: std::env::var("MAILDEV_SMTP_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(1025),
        argon2_memory_kib: 8,
        argon2_iterations: 1,
        ..Settings::default()
    }
}

impl TestApp {
    pub async fn spawn(db: Db) -> Self {
        Self::on(
            Arc::new(TestDb::new(db).await),
            Arc::new(TestClock::new(START)),
            None,
        )
        .await
    }

    /// A new server process on the same database (a restart, or a second instance).
    pub async fn restart(&self) -> Self {
        Self::on(self.db.clone(), self.clock.clone(), None).await
    }

    pub async fn on(
        db: Arc<TestDb>,
        clock: Arc<TestClock>,
        static_dir: Option<std::path::PathBuf>,
    ) -> Self {
        let mut settings = settings(&db.url);
        settings.static_dir = static_dir;
        let app = Application::build(settings, clock.clone()).await.unwrap();
        let port = app.port();
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        Self {
            port,
            state,
            clock,
            client: reqwest::Client::new(),
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    pub async fn count(&self, table: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&self.state.pool)
            .await
            .unwrap()
            .try_get::<i64, _>(0)
            .unwrap()
    }

    /// A staff member with a locked virtual card, enrolled like the demo users.
    pub async fn enroll(&self, registered: bool) -> TestCard {
        let puk = puk_text(&Puk::generate(&mut OsRng));
        let card = VirtualCard::create(&CreateOptions {
            pin: PIN.into(),
            puk: puk.clone(),
            guid: None,
            locked: true,
        })
        .unwrap();
        self.enroll_card(card, &puk, registered).await
    }

    pub async fn enroll_card(&self, card: VirtualCard, puk: &str, registered: bool) -> TestCard {
        let guid = hex::encode(card.guid());
        let uuid: String = (0..12)
            .map(|_| char::from(b'0' + rand::random::<u8>() % 10))
            .collect();
        let email = format!("t{}@nhs.net", random_hex(6));
        enroll(
            &self.state.pool,
            &self.state.kek,
            &self.state.hasher,
            self.clock_now(),
            &NewUser {
                uuid: &uuid,
                title: "Mr",
                given_name: "John",
                family_name: "Rigby",
                email: &email,
                role: "staff",
                registered,
            },
            ANSWERS,
            &NewCard {
                guid: &guid,
                card_auth_public_key: &card.card_auth_public_key_sec1(),
                puk,
            },
        )
        .await
        .unwrap();
        TestCard {
            card: SharedCard::new(card),
            guid,
            uuid,
            email,
        }
    }

    fn clock_now(&self) -> i64 {
        use server::Clock;
        self.clock.now()
    }

    /// UNL-1: start with the card's GUID and prove it with the 9E key.
    pub async fn start_and_prove(&self, card: &TestCard) -> (String, Value) {
        let (status, started) = self
            .post("/api/unlock/start", json!({ "card_guid": card.guid }))
            .await;
        assert_eq!(status, 201, "{started}");
        let id = started["attempt_id"].as_str().unwrap().to_owned();
        let signature = card.sign(started["challenge"].as_str().unwrap());
        let (status, proof) = self
            .post(
                &format!("/api/unlock/{id}/card-proof"),
                json!({ "signature": signature }),
            )
            .await;
        (id, json!({ "status": status.as_u16(), "body": proof }))
    }

    pub async fn answer(&self, id: &str, proof: &Value, right: bool) -> (StatusCode, Value) {
        let answers: Vec<Value> = proof["body"]["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                let qid = q["id"].as_i64().unwrap();
                let answer = ANSWERS.iter().find(|(id, _)| *id == qid).unwrap().1;
                let answer = if right {
                    format!("  {}  ", answer.to_uppercase())
                } else {
                    "wrong".into()
                };
                json!({ "question_id": qid, "answer": answer })
            })
            .collect();
        self.post(
            &format!("/api/unlock/{id}/answers"),
            json!({ "answers": answers }),
        )
        .await
    }

    /// Start → proof → right answers → the code from the email.
    pub async fn up_to_code(&self, card: &TestCard) -> (String, String) {
        let (id, proof) = self.start_and_prove(card).await;
        assert_eq!(proof["status"], 200, "{proof}");
        let (status, sent) = self.answer(&id, &proof, true).await;
        assert_eq!(status, 200, "{sent}");
        let mail = wait_for_mail(&card.email, "Smartcard Unlock Code").await;
        (id, code_in(&mail))
    }
}

pub fn puk_text(puk: &Puk) -> String {
    puk.as_bytes().iter().map(|b| char::from(*b)).collect()
}

pub struct TestCard {
    pub card: SharedCard,
    pub guid: String,
    pub uuid: String,
    pub email: String,
}

impl TestCard {
    pub fn sign(&self, challenge_hex: &str) -> String {
        let challenge: [u8; 32] = hex::decode(challenge_hex).unwrap().try_into().unwrap();
        let mut piv = PivClient::new(self.card.clone());
        piv.select().unwrap();
        hex::encode(piv.sign_with_card_auth_key(&challenge).unwrap())
    }

    /// What the bridge does with the server's script: run it, then change the PIN locally.
    pub fn run_script(&self, code_response: &Value) -> Vec<String> {
        let apdus: Vec<Vec<u8>> = code_response["script"]["apdus"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| hex::decode(a.as_str().unwrap()).unwrap())
            .collect();
        let mut piv = PivClient::new(self.card.clone());
        piv.run_script(&apdus)
            .unwrap()
            .iter()
            .map(hex::encode)
            .collect()
    }

    pub fn change_pin(&self, code_response: &Value, new_pin: &str) {
        let one_time = code_response["one_time_pin"].as_str().unwrap();
        let mut piv = PivClient::new(self.card.clone());
        piv.select().unwrap();
        piv.change_pin(
            &Pin::parse(one_time).unwrap(),
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

pub fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no 6-digit code in {text}"))
        .to_owned()
}
