//! What `load` and `chaos` share: a stage (a fresh PostgreSQL database, the SMTP sink, a
//! fleet of release instances behind HAProxy mailing to the sink), a crowd of clients —
//! each a browser at its own address with cards of its own, since one card serves one
//! person at a time — and the tally of the flows they ran.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use server::{AppState, SystemClock};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use crate::backend::{Backend, BenchDb};
use crate::fleet::Fleet;
use crate::flows::{account, unlock, Failure, Page, Timings};
use crate::mail_sink::MailSink;
use crate::process::{free_port, ServerConfig};
use crate::unlock::{enroll_group, BenchUser, Cards, Group};

/// A fresh database, the sink, the fleet, and the servers' state for enrolling users.
pub struct Stage {
    pub db: BenchDb,
    pub sink: MailSink,
    /// Shared with `chaos`'s killer.
    pub fleet: Arc<Mutex<Fleet>>,
    /// The page's origin: the balancer.
    pub origin: String,
    pub state: AppState,
}

impl Stage {
    /// `instances` servers with argon2id at `cost` (memory KiB, iterations); every other
    /// setting, the rate limits included, is the default.
    pub async fn start(binary: &Path, instances: u16, cost: (u32, u32)) -> Result<Self> {
        let db = BenchDb::create(Backend::Postgres).await?;
        let staged = async {
            let sink = MailSink::start().await?;
            let mut config = ServerConfig::new(&db.url, cost)?;
            config.public_port = free_port()?;
            config.smtp_port = sink.port;
            let fleet = Fleet::start(binary, &config, instances, db.dir()).await?;
            let state = AppState::new(config.settings()?, Arc::new(SystemClock)).await?;
            Ok::<_, anyhow::Error>((sink, fleet, state))
        }
        .await;
        match staged {
            Ok((sink, fleet, state)) => Ok(Self {
                db,
                sink,
                origin: fleet.origin.clone(),
                fleet: Arc::new(Mutex::new(fleet)),
                state,
            }),
            Err(error) => {
                db.remove().await?;
                Err(error)
            }
        }
    }

    /// Stops the fleet and drops the database.
    pub async fn remove(self) -> Result<()> {
        drop(self.fleet);
        self.state.store.pool.close().await;
        self.db.remove().await
    }
}

/// One client's own cards: one to sign in with, locked ones to unlock in turn, and
/// unregistered ones to register (each a few times: REG-4 caps the codes an address
/// gets a day).
pub struct Client {
    pub addr: String,
    pub signs_in: BenchUser,
    pub unlocks: Vec<UnlockCard>,
    /// With how often each began a registration.
    pub registers: Vec<(BenchUser, usize)>,
}

/// A card its user locks and unlocks again.
pub struct UnlockCard {
    pub user: BenchUser,
    /// The passcode its last unlock set, if any.
    pub pin: Option<String>,
    uses: usize,
}

/// Registrations per user: under REG-4's 5 codes per address a day, with one to spare.
const REGISTRATIONS_PER_USER: usize = 4;
/// Unlocks per card: ALL-5 allows 10 starts per card in its 10-minute window, and a flow
/// lost to a killed instance starts again.
const UNLOCKS_PER_CARD: usize = 6;

/// How many cards of each kind a client has.
#[derive(Debug, Clone, Copy)]
pub struct CardsEach {
    pub unlock: usize,
    pub register: usize,
}

/// Enrols `clients` clients' users, straight into the store.
pub async fn enrol(state: &AppState, clients: usize, cards: CardsEach) -> Result<Vec<Client>> {
    let group = |first, count, cards, registered| Group {
        first,
        count,
        cards,
        registered,
    };
    let signs_in = enroll_group(state, &group(0, clients, Cards::Working, true), 2).await?;
    let first = clients;
    let unlock_count = clients * cards.unlock;
    let mut unlocks = enroll_group(state, &group(first, unlock_count, Cards::Locked, true), 2)
        .await?
        .into_iter();
    let first = first + unlock_count;
    let register_count = clients * cards.register;
    let mut registers = enroll_group(
        state,
        &group(first, register_count, Cards::Working, false),
        2,
    )
    .await?
    .into_iter();
    Ok(signs_in
        .into_iter()
        .enumerate()
        .map(|(n, signs_in)| Client {
            addr: address(n),
            signs_in,
            unlocks: unlocks
                .by_ref()
                .take(cards.unlock)
                .map(|user| UnlockCard {
                    user,
                    pin: None,
                    uses: 0,
                })
                .collect(),
            registers: registers
                .by_ref()
                .take(cards.register)
                .map(|u| (u, 0))
                .collect(),
        })
        .collect())
}

/// The `n`th address behind the reverse proxy, in 10.0.0.0/8.
fn address(n: usize) -> String {
    format!("10.{}.{}.{}", n / 62_500 % 250, n / 250 % 250, n % 250 + 1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flow {
    SignIn,
    Unlock,
    Register,
}

impl Flow {
    pub fn name(self) -> &'static str {
        match self {
            Flow::SignIn => "sign-in",
            Flow::Unlock => "unlock",
            Flow::Register => "registration",
        }
    }

    /// The `n`th flow of a client: 2 sign-ins, 2 unlocks, 1 registration in 5.
    pub fn nth(n: usize) -> Flow {
        match n % 5 {
            0 | 3 => Flow::SignIn,
            1 | 4 => Flow::Unlock,
            _ => Flow::Register,
        }
    }
}

/// What a crowd's flows came to.
#[derive(Default)]
pub struct Tally {
    pub done: BTreeMap<Flow, usize>,
    /// Stopped by a 429 (ALL-5), as intended.
    pub limited: BTreeMap<Flow, usize>,
    pub errors: Vec<String>,
    pub timings: Timings,
}

impl Tally {
    pub fn merge(&mut self, other: Tally) {
        for (flow, n) in other.done {
            *self.done.entry(flow).or_default() += n;
        }
        for (flow, n) in other.limited {
            *self.limited.entry(flow).or_default() += n;
        }
        self.errors.extend(other.errors);
        self.timings.merge(other.timings);
    }

    pub fn flows_done(&self) -> usize {
        self.done.values().sum()
    }

    /// Prints the flows, then each step's p50 and p99.
    pub fn print(&self) {
        for flow in [Flow::SignIn, Flow::Unlock, Flow::Register] {
            println!(
                "  {:<13} {:>6} done, {:>4} stopped by 429",
                flow.name(),
                self.done.get(&flow).copied().unwrap_or_default(),
                self.limited.get(&flow).copied().unwrap_or_default()
            );
        }
        println!("  {:<18} {:>7} {:>9} {:>9}", "step", "n", "p50", "p99");
        for (step, latencies) in &self.timings.steps {
            let mut sorted = latencies.clone();
            sorted.sort_unstable();
            println!(
                "  {:<18} {:>7} {:>9} {:>9}",
                step,
                sorted.len(),
                millis(percentile(&sorted, 0.5)),
                millis(percentile(&sorted, 0.99))
            );
        }
    }
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let last = sorted.len().saturating_sub(1);
    sorted
        .get(((last as f64) * p).round() as usize)
        .copied()
        .unwrap_or_default()
}

impl Client {
    /// Runs `flow` with this client's cards, into `tally`. An unlock or registration
    /// when every card has had its share is a sign-in instead.
    pub async fn run(&mut self, page: &Page, flow: Flow, tally: &mut Tally) {
        let t = &mut tally.timings;
        let (flow, outcome) = match flow {
            Flow::SignIn => (
                flow,
                account::sign_in(page, &self.signs_in, t).await.map(drop),
            ),
            Flow::Unlock => {
                let card = self
                    .unlocks
                    .iter_mut()
                    .min_by_key(|card| card.uses)
                    .filter(|card| card.uses < UNLOCKS_PER_CARD);
                match card {
                    Some(card) => {
                        card.uses += 1;
                        let outcome = match unlock::lock(&card.user.card) {
                            Ok(()) => unlock::unlock(page, &card.user, t).await,
                            Err(error) => Err(Failure::from(error)),
                        };
                        (flow, outcome.map(|new_pin| card.pin = Some(new_pin)))
                    }
                    None => (
                        Flow::SignIn,
                        account::sign_in(page, &self.signs_in, t).await.map(drop),
                    ),
                }
            }
            Flow::Register => {
                let free = self
                    .registers
                    .iter_mut()
                    .find(|(_, times)| *times < REGISTRATIONS_PER_USER);
                match free {
                    Some((user, times)) => {
                        // Counted whatever the outcome: a code may have been sent.
                        *times += 1;
                        (flow, account::register(page, user, t).await)
                    }
                    None => (
                        Flow::SignIn,
                        account::sign_in(page, &self.signs_in, t).await.map(drop),
                    ),
                }
            }
        };
        match outcome {
            Ok(()) => *tally.done.entry(flow).or_default() += 1,
            Err(Failure::Limited) => *tally.limited.entry(flow).or_default() += 1,
            Err(failure) => {
                tally
                    .errors
                    .push(format!("{} ({}): {failure}", flow.name(), self.addr))
            }
        }
    }
}

/// How a counted run hands out its flows.
#[derive(Clone, Copy)]
pub struct Schedule {
    pub flows: usize,
    /// Flow `n` begins no sooner than `n / flows` of this after the start; zero: each as
    /// soon as a client is free.
    pub spread: Duration,
    /// Lost requests sent again, flows resumed (chaos).
    pub failover: bool,
}

/// Runs `schedule.flows` flows by `clients`, each taking the next flow number until all
/// are taken; the clients back (their cards' state), and the tally.
pub async fn run_flows(
    stage: &Stage,
    clients: Vec<Client>,
    schedule: Schedule,
) -> Result<(Vec<Client>, Tally)> {
    let began = tokio::time::Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for mut client in clients {
        let (next, origin, sink) = (next.clone(), stage.origin.clone(), stage.sink.clone());
        tasks.spawn(async move {
            let mut tally = Tally::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= schedule.flows {
                    return (client, tally);
                }
                let offset = schedule.spread.mul_f64(n as f64 / schedule.flows as f64);
                tokio::time::sleep_until(began + offset).await;
                // Each flow a person at an address of their own: a client here is a
                // stream of users, not one browser hammering ALL-5's per-address limit.
                let page = Page::new(&origin, address(1 + n), schedule.failover, sink.clone());
                client.run(&page, Flow::nth(n), &mut tally).await;
            }
        });
    }
    let mut tally = Tally::default();
    let mut clients = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (client, theirs) = done?;
        tally.merge(theirs);
        clients.push(client);
    }
    Ok((clients, tally))
}
