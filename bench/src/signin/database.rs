//! What the database did per sign-in: its statements, from PostgreSQL's own log, and its
//! transactions (and those that wrote) and rows written, from its statistics.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bench::backend::{BenchDb, PG_ADMIN};
use bench::process::{free_port, ServerConfig, ServerProcess};
use bench::unlock::{enroll_users, BenchUser, Cards};
use server::{AppState, SystemClock};
use sqlx::{Connection, Row};

use super::one_client;

/// PostgreSQL's own log, where `log_statement = 'all'` writes each statement.
const POSTGRES_LOG: &str = "/var/log/postgresql/postgresql-15-main.log";
const COUNTED_SIGNINS: usize = 100;

/// Untimed: one more instance, whose new connections PostgreSQL logs statement by
/// statement (set for this database only), signs users in one after another; the log's
/// lines for this database say how many statements each sign-in took.
pub(super) async fn statements_per_signin(
    server_bin: &std::path::Path,
    config: &ServerConfig,
    db: &BenchDb,
    origin: &str,
) -> Result<f64> {
    let name = db
        .url
        .rsplit('/')
        .next()
        .context("no database name")?
        .to_owned();
    let mut admin = sqlx::PgConnection::connect(PG_ADMIN).await?;
    sqlx::query(&format!("ALTER DATABASE {name} SET log_statement = 'all'"))
        .execute(&mut admin)
        .await?;
    let counted = async {
        let client = reqwest::Client::new();
        let mut counter =
            ServerProcess::start(server_bin, &config.on_port(free_port()?), db.dir())?;
        counter
            .wait_healthy(&client, Duration::from_secs(30))
            .await?;
        let state = AppState::new(config.settings()?, Arc::new(SystemClock)).await?;
        let users = enroll_users(&state, 4, 2, Cards::Working).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let from = std::fs::metadata(POSTGRES_LOG)
            .with_context(|| format!("reading {POSTGRES_LOG}"))?
            .len();
        let mut done = 0;
        while done < COUNTED_SIGNINS {
            let until = Instant::now() + Duration::from_millis(1);
            let one = one_client((&counter.base_url, origin), users_again(&users), until).await?;
            done += one.done.max(1);
        }
        let log = std::fs::read(POSTGRES_LOG)?;
        let tail = String::from_utf8_lossy(log.get(from as usize..).unwrap_or_default());
        let ours = format!("@{name} LOG:  ");
        let statements = tail
            .lines()
            .filter_map(|line| line.split_once(&ours).map(|(_, rest)| rest))
            .filter(|rest| rest.starts_with("execute") || rest.starts_with("statement:"))
            .count();
        Ok::<f64, anyhow::Error>(statements as f64 / done as f64)
    }
    .await;
    sqlx::query(&format!("ALTER DATABASE {name} RESET log_statement"))
        .execute(&mut admin)
        .await?;
    counted
}

/// The same users and cards again (a card is shared, not copied).
fn users_again(users: &[BenchUser]) -> Vec<BenchUser> {
    users
        .iter()
        .map(|user| BenchUser {
            card: user.card.clone(),
            guid: user.guid,
            email: user.email.clone(),
            addr: String::new(),
        })
        .collect()
}

/// The database's counters so far.
pub(super) struct DatabaseStats {
    /// Committed or rolled back, as PostgreSQL counts them: a statement outside any
    /// transaction is one.
    pub(super) transactions: i64,
    /// Transaction ids handed out (cluster-wide; nothing else writes meanwhile): only a
    /// transaction that writes takes one.
    pub(super) next_xid: i64,
    pub(super) rows_written: i64,
}

pub(super) async fn database_stats(url: &str) -> Result<DatabaseStats> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let row = sqlx::query(
        "SELECT (SELECT (xact_commit + xact_rollback)::BIGINT FROM pg_stat_database \
         WHERE datname = current_database()) AS transactions, \
         pg_snapshot_xmax(pg_current_snapshot())::TEXT::BIGINT AS next_xid, \
         (SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0)::BIGINT \
         FROM pg_stat_user_tables) AS rows_written",
    )
    .fetch_one(&mut conn)
    .await?;
    Ok(DatabaseStats {
        transactions: row.get("transactions"),
        next_xid: row.get("next_xid"),
        rows_written: row.get("rows_written"),
    })
}
