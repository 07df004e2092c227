//! A fresh database per backend: a SQLite file in a temp dir, or a PostgreSQL database
//! `scss_bench_<random>` made through the admin connection. [`BenchDb::remove`] drops it;
//! callers run it on every exit, errors included.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sqlx::Connection;

/// Where PostgreSQL databases are created and dropped from.
pub const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

pub struct BenchDb {
    pub url: String,
    /// Logs, and the SQLite file.
    pub dir: PathBuf,
    pg_name: Option<String>,
}

pub fn random_hex(bytes: usize) -> String {
    hex::encode((0..bytes).map(|_| rand::random::<u8>()).collect::<Vec<_>>())
}

impl BenchDb {
    pub async fn create(backend: Backend) -> Result<Self> {
        let tag = random_hex(6);
        let dir = std::env::temp_dir().join(format!("scss-bench-{tag}"));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        match backend {
            Backend::Sqlite => Ok(Self {
                url: format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
                dir,
                pg_name: None,
            }),
            Backend::Postgres => {
                let name = format!("scss_bench_{tag}");
                let created = create_pg(&name).await;
                if let Err(error) = created {
                    let _ = std::fs::remove_dir_all(&dir);
                    return Err(error);
                }
                Ok(Self {
                    url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
                    dir,
                    pg_name: Some(name),
                })
            }
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Drops the database and removes the temp dir.
    pub async fn remove(self) -> Result<()> {
        let dropped = match &self.pg_name {
            Some(name) => drop_pg(name).await,
            None => Ok(()),
        };
        let _ = std::fs::remove_dir_all(&self.dir);
        dropped
    }
}

async fn create_pg(name: &str) -> Result<()> {
    let mut admin = sqlx::PgConnection::connect(PG_ADMIN)
        .await
        .with_context(|| format!("connecting to {PG_ADMIN}"))?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .with_context(|| format!("creating database {name}"))?;
    Ok(())
}

async fn drop_pg(name: &str) -> Result<()> {
    let mut admin = sqlx::PgConnection::connect(PG_ADMIN)
        .await
        .with_context(|| format!("connecting to {PG_ADMIN} to drop {name}"))?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .with_context(|| format!("dropping database {name}"))?;
    Ok(())
}
