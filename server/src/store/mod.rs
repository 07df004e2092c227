//! The database edge: one sqlx `AnyPool` over SQLite (default) or PostgreSQL, chosen by
//! URL, with each backend's migrations. Every SQL statement is a named function in one
//! module per table family, returning typed rows read by column name; the dialect
//! differences (`BEGIN IMMEDIATE`, `FOR UPDATE`) live here and nowhere else. No policy:
//! the rules are in the flows, which hand the store the values to write.

pub mod answers;
pub mod attempts;
pub mod audit;
pub mod audit_check;
mod audit_checkpoints;
pub mod audit_search;
pub mod cards;
pub mod certificates;
pub mod enroll;
pub mod jobs;
pub mod not_me;
pub mod outbox;
pub mod passcodes;
pub mod phone_codes;
pub mod ra;
pub mod rate_limits;
pub mod registrations;
pub mod renewals;
pub mod sessions;
pub mod spent_logins;
pub mod users;

use api_types::ra::UserUuid;
use sqlx::any::AnyPoolOptions;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Transaction};

/// A step's transaction.
pub type Tx = Transaction<'static, Any>;
/// A connection outside any transaction (see [`Store::begin_on`]).
pub type Conn = PoolConnection<Any>;
/// A statement on either database, before its parameters are all bound.
pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value that does not parse (a bad state name, a bad id list).
    #[error("corrupt row in {table}: {column}")]
    Corrupt {
        table: &'static str,
        column: &'static str,
    },
    #[error(
        "the database schema is at migration {applied}, this server needs {latest}: \
         run `smartcard-server migrate` as the database owner"
    )]
    SchemaBehind { applied: i64, latest: i64 },
    /// A conditional write found the row changed under it.
    #[error("{table} changed under a conditional write")]
    Conflict { table: &'static str },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Self {
        if url.starts_with("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    /// Row lock for read-then-write steps. SQLite needs none: `BEGIN IMMEDIATE` already
    /// holds the database's one write lock for the whole transaction.
    fn for_update(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// [`Self::for_update`] for a row other rows refer to, when the step keeps its key:
    /// inserting a row that refers to it (a session, its user) then need not wait.
    fn for_no_key_update(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR NO KEY UPDATE",
        }
    }
}

/// Whether connecting may change the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrations {
    Run,
    Check,
}

/// The pool and its dialect.
#[derive(Clone)]
pub struct Store {
    pub pool: AnyPool,
    pub backend: Backend,
}

impl Store {
    /// Connects and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, Migrations::Run).await
    }

    /// Connects; with [`Migrations::Check`] (a service role that may not change the
    /// schema) only checks the schema is current and refuses to start otherwise.
    pub async fn connect_with(url: &str, migrations: Migrations) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url);
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 1,
                Backend::Postgres => 10,
            })
            // A ping before every step was one more round trip to the database per step
            // (issue 22); a connection found broken fails its one step and is dropped.
            .test_before_acquire(false)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    // ALL-7: wiped rows (sent mail, old sealed values) are overwritten on
                    // disk, not left in SQLite's free pages.
                    if backend == Backend::Sqlite {
                        sqlx::query("PRAGMA secure_delete = ON")
                            .execute(conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        match migrations {
            Migrations::Run => {
                migrator(backend).run(&pool).await?;
                users::fill_name_keys(&pool).await?;
            }
            Migrations::Check => {
                let (applied, latest) = schema_versions(&pool, backend).await?;
                if applied < latest {
                    return Err(StoreError::SchemaBehind { applied, latest });
                }
            }
        }
        Ok(Self { pool, backend })
    }

    /// One step's transaction. SQLite takes the write lock up front: a deferred
    /// transaction that reads and then writes can deadlock with another server process on
    /// the same file.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        self.begin_on(self.acquire().await?).await
    }

    /// A connection for reads that need no transaction around them.
    pub async fn acquire(&self) -> Result<Conn, StoreError> {
        Ok(self.pool.acquire().await?)
    }

    /// [`Self::begin`] on a connection already held.
    pub async fn begin_on(&self, conn: Conn) -> Result<Tx, StoreError> {
        let statement = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        // What Pool::begin_with does, on a connection the step already holds.
        Ok(Transaction::begin(conn, Some(statement.into())).await?)
    }
}

fn migrator(backend: Backend) -> sqlx::migrate::Migrator {
    match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    }
}

/// The newest migration applied to the database, and the newest this build knows (OPS-4:
/// an instance whose schema is behind is not ready).
pub async fn schema_versions(pool: &AnyPool, backend: Backend) -> Result<(i64, i64), StoreError> {
    #[derive(sqlx::FromRow)]
    struct Applied {
        version: Option<i64>,
    }
    let applied = sqlx::query_as::<_, Applied>(
        "SELECT MAX(version) AS version FROM _sqlx_migrations WHERE success",
    )
    .fetch_one(pool)
    .await?
    .version
    .unwrap_or(0);
    let latest = migrator(backend)
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0);
    Ok((applied, latest))
}

/// A stored value that does not parse: the row is corrupt, whichever module read it.
pub(crate) fn corrupt(table: &'static str, column: &'static str) -> StoreError {
    StoreError::Corrupt { table, column }
}

/// A user's name as every page and mail shows it: title, given and family name.
fn display_name(title: &str, given_name: &str, family_name: &str) -> String {
    format!("{title} {given_name} {family_name}")
        .trim()
        .to_owned()
}

/// A stored user UUID, parsed once where the row is read.
fn user_uuid(
    table: &'static str,
    column: &'static str,
    text: &str,
) -> Result<UserUuid, StoreError> {
    UserUuid::parse(text).map_err(|_| corrupt(table, column))
}

/// Id lists are stored as comma-separated integers ('' for none).
fn parse_ids(text: &str) -> Option<Vec<i64>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

fn join_ids(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Flags are 0/1 integers in both databases.
fn flag(value: i64) -> bool {
    value != 0
}
