//! The measured flow: users enrolled straight into the database with in-memory virtual
//! cards; attempts brought to the questions untimed (start, card proof); then only the
//! answers steps timed, over HTTP with the typed `api-types` requests.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use api_types::unlock::{
    Answers, AnswersRequest, CardProof, CardProofRequest, Start, StartRequest,
};
use api_types::values::CardSignature;
use api_types::{ApiError, AttemptId, CardGuid, Endpoint};
use card_protocol::client::PivClient;
use card_protocol::pin::Puk;
use rand::rngs::OsRng;
use reqwest::header::{HeaderMap, COOKIE, ORIGIN, SET_COOKIE};
use server::store::enroll::{enroll, Enrolment};
use server::store::users::NewUser;
use server::AppState;
use tokio::task::JoinSet;
use virtual_card::{CreateOptions, SharedCard, VirtualCard};

/// What every bench user registered, by question id (the demo's answers).
pub const ANSWERS: &[(i64, &str)] = &[
    (1, "Smith"),
    (2, "Birmingham"),
    (3, "Ford Fiesta"),
    (5, "Rex"),
];

/// An enrolled staff member and their card.
pub struct BenchUser {
    pub card: SharedCard,
    pub guid: CardGuid,
    /// Where their mail goes.
    pub email: String,
    /// The user's own address, as the reverse proxy reports it (`X-Forwarded-For`), so
    /// the per-client rate limits (ALL-5) count each user apart, as in production.
    pub addr: String,
}

/// An attempt at the questions, with the right answers ready to send.
pub struct Prepared {
    id: AttemptId,
    addr: String,
    cookie: Option<String>,
    request: AnswersRequest,
}

/// One timed run.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub steps: usize,
    pub elapsed: Duration,
    /// Each step's latency, sorted.
    pub latencies: Vec<Duration>,
}

impl RunResult {
    pub fn steps_per_sec(&self) -> f64 {
        self.steps as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile(&self, p: f64) -> Duration {
        let last = self.latencies.len().saturating_sub(1);
        let at = ((last as f64) * p).round() as usize;
        self.latencies.get(at).copied().unwrap_or_default()
    }
}

/// Enrols `count` users with the server's store, KEK and hasher (their answers hashed
/// as registration does), `in_flight` at a time since hashing is the slow part.
pub async fn enroll_users(
    state: &AppState,
    count: usize,
    in_flight: usize,
    cards: Cards,
) -> Result<Vec<BenchUser>> {
    let group = Group {
        first: 0,
        count,
        cards,
        registered: true,
    };
    enroll_group(state, &group, in_flight).await
}

/// Users enrolled alike: numbered from `first` (groups enrolled apart must not overlap).
#[derive(Debug, Clone, Copy)]
pub struct Group {
    pub first: usize,
    pub count: usize,
    pub cards: Cards,
    /// Registered for self-service with [`ANSWERS`] (REG-4), or not yet.
    pub registered: bool,
}

/// [`enroll_users`] for any [`Group`].
pub async fn enroll_group(
    state: &AppState,
    group: &Group,
    in_flight: usize,
) -> Result<Vec<BenchUser>> {
    let now = state.clock.now();
    let mut users = Vec::with_capacity(group.count);
    let mut tasks = JoinSet::new();
    for index in group.first..group.first + group.count {
        if tasks.len() >= in_flight.max(1) {
            users.push(joined(tasks.join_next().await)?);
        }
        let (state, group) = (state.clone(), *group);
        tasks.spawn(async move { enroll_one(&state, now, index, &group).await });
    }
    while let Some(done) = tasks.join_next().await {
        users.push(joined(Some(done))?);
    }
    Ok(users)
}

fn joined<T>(done: Option<Result<Result<T>, tokio::task::JoinError>>) -> Result<T> {
    done.ok_or_else(|| anyhow!("no task to join"))??
}

/// Whether the users' cards start locked (to unlock) or working (to sign in with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cards {
    Locked,
    Working,
}

/// The PIN of every working bench card.
pub const PIN: &str = "1234";

async fn enroll_one(state: &AppState, now: i64, index: usize, group: &Group) -> Result<BenchUser> {
    let cards = group.cards;
    let puk = Puk::generate(&mut OsRng);
    let card = VirtualCard::create(&CreateOptions {
        pin: PIN.into(),
        puk: puk.as_bytes().iter().map(|b| char::from(*b)).collect(),
        guid: None,
        locked: false,
    })
    .context("creating a virtual card")?;
    let guid = CardGuid::from_bytes(card.guid());
    let uuid = format!("{:012}", 900_000_000_000usize + index);
    let email = format!("bench{index}@nhs.net");
    let enrolment = Enrolment {
        user: NewUser {
            uuid: &uuid,
            title: "Mr",
            given_name: "Bench",
            family_name: "User",
            email: &email,
            role: "staff",
            registered: group.registered,
        },
        answers: if group.registered { ANSWERS } else { &[] },
        card_guid: guid,
        card_auth_public_key: card.card_auth_public_key_sec1(),
        puk,
        channel_keys: card.scp03_keys(),
        channel_key_version: virtual_card::SCP03_KEY_VERSION,
    };
    enroll(&state.store, &state.kek, &state.hasher, now, &enrolment)
        .await
        .with_context(|| format!("enrolling user {uuid}"))?;
    let card = SharedCard::new(card);
    // CERT-1: issued as every card is (its keys and certificates: AUTH-1 signs with 9A,
    // and a card without a valid certificate is not unlocked).
    state
        .issue_card(card.clone(), &guid)
        .await
        .map_err(|e| anyhow!("issuing card {uuid}: {e}"))?;
    if cards == Cards::Locked {
        crate::flows::unlock::lock(&card)?;
    }
    Ok(BenchUser {
        card,
        guid,
        email,
        addr: format!("10.0.{}.{}", index / 250, index % 250 + 1),
    })
}

/// POSTs one step as the page does through the reverse proxy: JSON from the server's own
/// origin (ALL-6), the user's address, and the attempt's flow cookie once there is one.
/// A refusal is an error naming its code.
async fn post<E: Endpoint>(
    client: &reqwest::Client,
    base: &str,
    params: &E::Params,
    (addr, cookie): (&str, Option<&str>),
    request: &E::Request,
) -> Result<(HeaderMap, E::Response)> {
    let path = E::path(params);
    let mut post = client
        .post(format!("{base}{path}"))
        .header(ORIGIN, base)
        .header("x-forwarded-for", addr)
        .json(request);
    if let Some(cookie) = cookie {
        post = post.header(COOKIE, cookie);
    }
    let response = post.send().await.with_context(|| format!("POST {path}"))?;
    let status = response.status();
    if status.is_success() {
        let headers = response.headers().clone();
        let reply = response
            .json()
            .await
            .with_context(|| format!("reading the reply to POST {path}"))?;
        return Ok((headers, reply));
    }
    let error: Option<ApiError> = response.json().await.ok();
    bail!("POST {path} refused with {status}: {error:?}")
}

/// Start → the card signs the challenge with its 9E key → card proof. Untimed.
async fn prepare_one(client: &reqwest::Client, base: &str, user: BenchUser) -> Result<Prepared> {
    let start = StartRequest {
        card_guid: user.guid,
        route: Default::default(),
    };
    let (headers, started) = post::<Start>(client, base, &(), (&user.addr, None), &start).await?;
    // The flow cookie, if this server sets one: `name=value` before the attributes.
    let cookie = headers
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let mut piv = PivClient::new(user.card.clone());
    piv.select().context("selecting the PIV applet")?;
    // As the bridge does: the digest for this page's origin, never the bytes alone.
    let digest = card_protocol::SignedFor::CardProof.digest(base, started.challenge.as_bytes());
    let signature = piv
        .sign_with_card_auth_key(&digest)
        .context("signing the challenge")?;
    let proof = CardProofRequest {
        signature: CardSignature::from_bytes(signature)?,
    };
    let caller = (user.addr.as_str(), cookie.as_deref());
    let (_, proven) = post::<CardProof>(client, base, &started.attempt_id, caller, &proof).await?;
    Ok(Prepared {
        id: started.attempt_id,
        addr: user.addr,
        cookie,
        request: crate::flows::unlock::right_answers(&proven.questions)
            .map_err(|failure| anyhow!("{failure}"))?,
    })
}

/// Brings every user's attempt to the questions, `in_flight` at a time.
pub async fn prepare(
    client: &reqwest::Client,
    base: &str,
    users: Vec<BenchUser>,
    in_flight: usize,
) -> Result<Vec<Prepared>> {
    let mut prepared = Vec::with_capacity(users.len());
    let mut tasks = JoinSet::new();
    for user in users {
        if tasks.len() >= in_flight.max(1) {
            prepared.push(joined(tasks.join_next().await)?);
        }
        let (client, base) = (client.clone(), base.to_owned());
        tasks.spawn(async move { prepare_one(&client, &base, user).await });
    }
    while let Some(done) = tasks.join_next().await {
        prepared.push(joined(Some(done))?);
    }
    Ok(prepared)
}

/// Sends every prepared answers step, `concurrency` at a time, and times the whole run
/// (first send to last reply) and each step.
pub async fn answer_all(
    client: &reqwest::Client,
    base: &str,
    prepared: Vec<Prepared>,
    concurrency: usize,
) -> Result<RunResult> {
    let steps = prepared.len();
    let queue = Arc::new(Mutex::new(VecDeque::from(prepared)));
    let started = Instant::now();
    let mut workers = JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (client, base, queue) = (client.clone(), base.to_owned(), queue.clone());
        workers.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let next = queue
                    .lock()
                    .map_err(|_| anyhow!("the work queue was poisoned"))?
                    .pop_front();
                let Some(step) = next else {
                    return Ok::<_, anyhow::Error>(latencies);
                };
                let sent = Instant::now();
                let caller = (step.addr.as_str(), step.cookie.as_deref());
                post::<Answers>(&client, &base, &step.id, caller, &step.request).await?;
                latencies.push(sent.elapsed());
            }
        });
    }
    let mut latencies = Vec::with_capacity(steps);
    while let Some(done) = workers.join_next().await {
        latencies.extend(joined(Some(done))?);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Ok(RunResult {
        steps,
        elapsed,
        latencies,
    })
}
