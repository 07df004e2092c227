//! Smartcard Self-Service server: the unlock API (axum), its store (sqlx on SQLite or
//! PostgreSQL), its mail (outbox + lettre), and the built SPA.
//!
//! Layers per request: a thin handler ([`routes`]) → one step in [`unlock`]: load, a pure
//! decision with `now` from the injected [`clock`], one `finish` that writes → SQL in
//! [`store`], mail words in [`mail::templates`]. Around it all, [`trace`]: a request id in
//! and out, and one log line per request (OPS-3).

pub mod auth;
pub mod ca;
pub mod card_channel;
pub mod clock;
pub mod config;
pub mod error;
#[cfg(test)]
mod fixtures;
pub mod flow;
pub mod helpdesk;
pub mod issue;
pub mod jobs;
pub mod kdf;
pub mod mail;
pub mod not_me;
pub mod notify;
pub mod ops;
pub mod passcodes;
pub mod ra;
pub mod register;
pub mod renewal;
pub mod rotate;
pub mod routes;
pub mod secrets;
pub mod store;
pub mod trace;
pub mod unlock;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::Notify;

use bridge_grant::GrantSigner;
pub use clock::{Clock, SystemClock, TestClock};
pub use config::Settings;
pub use error::AppError;
use secrets::{AnswerHasher, AuditKey, CodePepper, Kek, PasscodeHasher};
use store::{Store, StoreError};

/// Everything a request needs, shared: every extractor and middleware layer clones the
/// state per request, so a clone is one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct Shared {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    pub kek: Kek,
    pub audit_key: AuditKey,
    pub code_pepper: CodePepper,
    /// AUTH-1: seals login challenges, so no instance stores them.
    pub login_seal: flow::login_challenge::LoginSeal,
    /// Signs the card bridge's grants (BRG-5).
    pub grants: Arc<GrantSigner>,
    /// Issues the certificates of the keys cards generate (CERT-1).
    pub ca: Arc<ca::CertificateAuthority>,
    pub hasher: AnswerHasher,
    /// PASS-1 / PASS-3: the server-side passcodes' hashes and history.
    pub passcodes: PasscodeHasher,
    pub mail_waker: Arc<Notify>,
    /// Held while this process checks the audit chains (RA-4), so the background check
    /// and a page don't walk the same rows at once; a page waits for it only briefly.
    pub audit_checking: Arc<tokio::sync::Mutex<()>>,
    /// This process among the instances sharing the database (JOB-1: `job_runs` says
    /// which ran a job last).
    pub instance: Arc<str>,
    /// OPS-5: told to stop, finishing what is in flight.
    pub draining: ops::Draining,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] secrets::SecretsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    App(#[from] AppError),
    #[error("certificate authority: {0}")]
    Ca(#[from] ca::OpenError),
    #[error("HTTPS: {0}")]
    Tls(#[from] https_serve::TlsFileError),
}

impl AppState {
    pub async fn new(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        settings.validate()?;
        let migrations = if settings.migrate_on_start {
            store::Migrations::Run
        } else {
            store::Migrations::Check
        };
        let store = Store::connect_with(&settings.database_url, migrations).await?;
        let kek = Kek::new(
            settings.kek_version,
            &*settings.kek()?,
            &settings.previous_keks()?,
        );
        let audit_key = AuditKey::new(&*settings.audit_key()?)?;
        let pepper_key = settings.code_pepper()?;
        let code_pepper = CodePepper::new(&pepper_key)?;
        let login_seal = flow::login_challenge::LoginSeal::new(&pepper_key)?;
        let grants = GrantSigner::from_bytes(&*settings.grant_key()?).map_err(|_| {
            config::ConfigError::Invalid {
                name: "grant_key_hex",
                reason: "is not a P-256 private key".into(),
            }
        })?;
        let cost = (settings.argon2_memory_kib, settings.argon2_iterations);
        let hasher = AnswerHasher::new(cost.0, cost.1, &pepper_key)?;
        let passcodes = PasscodeHasher::new(cost.0, cost.1, &pepper_key)?;
        let ca = ca::open_or_create(&store, &kek, &settings.organisation_name, clock.now()).await?;
        Ok(Self(Arc::new(Shared {
            store,
            clock,
            settings: Arc::new(settings),
            kek,
            audit_key,
            code_pepper,
            login_seal,
            grants: Arc::new(grants),
            ca: Arc::new(ca),
            hasher,
            passcodes,
            mail_waker: Arc::new(Notify::new()),
            audit_checking: Arc::default(),
            instance: hex::encode(secrets::random_bytes::<6>()).into(),
            draining: ops::Draining::default(),
        })))
    }
}

/// A bound, ready-to-run server (zero2prod's shape: port 0 in tests).
pub struct Application {
    listener: TcpListener,
    /// OPS-2: where `/metrics` is served, when the settings name an address.
    metrics_listener: Option<TcpListener>,
    state: AppState,
    port: u16,
    /// HTTPS, when the settings name a certificate and key.
    tls: Option<Arc<https_serve::ServerConfig>>,
}

impl Application {
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        let addr = settings.listen;
        let tls = match (&settings.tls_cert_file, &settings.tls_key_file) {
            (Some(certificates), Some(key)) => {
                Some(https_serve::config_from_files(certificates, key)?.0)
            }
            _ => None,
        };
        let metrics_addr = settings.metrics_listen;
        let state = AppState::new(settings, clock).await?;
        let listener = bind(addr).await?;
        let port = local_port(&listener, addr)?;
        let metrics_listener = match metrics_addr {
            Some(addr) => {
                ops::metrics::recorder();
                Some(bind(addr).await?)
            }
            None => None,
        };
        Ok(Self {
            listener,
            metrics_listener,
            state,
            port,
            tls,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `/metrics` is served on, if any.
    pub fn metrics_port(&self) -> Option<u16> {
        let listener = self.metrics_listener.as_ref()?;
        listener.local_addr().ok().map(|addr| addr.port())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves requests and sends mail until SIGTERM (or Ctrl-C), then drains (OPS-5).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(ops::shutdown::terminate_requested()).await
    }

    /// Serves until `stop` resolves; then takes no new connections, answers the requests
    /// in flight, and lets the workers finish what they hold — within the settings'
    /// `shutdown_grace_secs` in all.
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let settings = self.state.settings.clone();
        let grace = settings.shutdown_grace();
        let (switch, stopping) = ops::shutdown::switch();
        let workers = self.spawn_workers(&stopping)?;
        if let Some(listener) = self.metrics_listener {
            let metrics = ops::metrics::router(self.state.clone());
            let mut stopping = stopping.clone();
            tokio::spawn(async move {
                let served = axum::serve(listener, metrics)
                    .with_graceful_shutdown(async move { stopping.raised().await })
                    .await;
                if let Err(error) = served {
                    tracing::warn!(%error, "the metrics listener stopped");
                }
            });
        }
        let limits = https_serve::Limits {
            max_connections: settings.max_connections as usize,
        };
        let router = trace::requests(
            routes::router(self.state.clone()),
            &settings.trusted_proxies,
        );
        let draining = self.state.draining.clone();
        let told = async move {
            stop.await;
            draining.set();
            tracing::info!("told to stop: draining requests in flight");
        };
        let started = tokio::time::Instant::now();
        let drained =
            https_serve::serve_until(self.listener, router, self.tls, limits, told, grace).await;
        switch.stop();
        let left = grace
            .saturating_sub(started.elapsed())
            .max(MIN_WORKER_GRACE);
        let workers_done = tokio::time::timeout(left, futures_util::future::join_all(workers));
        match (drained, workers_done.await.is_ok()) {
            (https_serve::Drained::Finished, true) => tracing::info!("stopped cleanly"),
            (drained, workers) => {
                tracing::warn!(
                    ?drained,
                    workers_finished = workers,
                    "stopped at the deadline"
                )
            }
        }
        Ok(())
    }

    /// The mail and text worker, the sweeps and the scheduled jobs (JOB-1), each told
    /// of the stop.
    fn spawn_workers(
        &self,
        stopping: &ops::shutdown::Stopping,
    ) -> std::io::Result<Vec<tokio::task::JoinHandle<()>>> {
        let settings = &self.state.settings;
        let from = settings
            .mail_from
            .parse()
            .map_err(|e| std::io::Error::other(format!("mail_from: {e}")))?;
        let transport = mail::MailWorker::transport(settings)
            .map_err(|e| std::io::Error::other(format!("smtp: {e}")))?;
        let worker = mail::MailWorker::new(
            self.state.store.pool.clone(),
            self.state.clock.clone(),
            self.state.mail_waker.clone(),
            transport,
            from,
        )
        .with_texts(
            notify::NotifyClient::from_settings(settings)
                .map_err(|e| std::io::Error::other(format!("notify: {e}")))?,
        );
        let sweeper = self.state.clone();
        let mut sweeps_stopping = stopping.clone();
        let sweeps = async move {
            // One interval first: the checks never race a starting instance's first
            // requests (nor a test that runs them itself).
            while !sweeps_stopping
                .sleep(std::time::Duration::from_secs(60))
                .await
            {
                if let Err(error) = sweeper.sweep_rate_limits().await {
                    tracing::warn!(%error, "rate limit sweep failed");
                }
                if let Err(error) = sweeper.check_audit_trail().await {
                    tracing::warn!(%error, "audit trail check failed");
                }
            }
        };
        Ok(vec![
            tokio::spawn(worker.run(stopping.clone())),
            tokio::spawn(sweeps),
            tokio::spawn(jobs::run_forever(self.state.clone(), stopping.clone())),
        ])
    }
}

/// However late the drain ends, the workers get this long to put down what they hold.
const MIN_WORKER_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}

fn local_port(listener: &TcpListener, addr: SocketAddr) -> Result<u16, StartError> {
    Ok(listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?
        .port())
}
