//! The card bridge: a small daemon on 127.0.0.1 that lets the self-service page reach the
//! smartcard through PC/SC (or an in-process virtual card with `--simulate`). It replaces
//! the old Java applet.
//!
//! Shape: an axum app ([`routes`]) behind one request guard ([`security`], BRG-2), talking
//! to a single card worker thread ([`worker`]) that owns the card access ([`pcsc_backend`] or
//! [`simulated`]), so only one card transaction runs at a time (BRG-6). Card
//! insert/remove events come from a blocking PC/SC status-change watcher, never a poll.
//! Whatever changes the card needs a grant the server signed, checked against the
//! server key pinned in [`BridgeConfig`] and used once ([`grants`], BRG-5). Operations that
//! spend a PIN try — verify-pin, change-pin and card login (the PIN verified, then the
//! server's challenge signed with the 9A key: AUTH-1) — read the tries first and reset the
//! card when they leave it (BRG-6). With a certificate from `card-bridge install` it
//! serves HTTPS and WSS ([`tls`], [`trust`]: BRG-7), which Safari's engine needs.

pub mod error;
pub mod grants;
pub mod pcsc_backend;
pub mod routes;
pub mod security;
pub mod simulated;
pub mod tls;
pub mod trust;
pub mod worker;

use std::net::SocketAddr;
use std::sync::Arc;

use api_types::bridge::CardEvent;
use bridge_grant::GrantVerifier;
use tokio::net::TcpListener;
use tokio::sync::broadcast;

pub use error::BridgeError;
pub use grants::Clock;
pub use worker::{CardAccess, CardWorker};

/// Settings the bridge runs with.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    /// Exact origins (scheme://host[:port]) whose pages may call the bridge (BRG-2).
    pub allowed_origins: Vec<String>,
    /// The server's public key, which every grant must be signed with (BRG-5).
    pub server_key: GrantVerifier,
    /// Unix seconds, to judge grants' lifetimes: [`Clock::system`] outside tests.
    pub clock: Clock,
    /// Serve HTTPS/WSS with this certificate (BRG-7); plain HTTP without.
    pub tls: Option<tls::Served>,
}

/// A bound, ready-to-serve bridge. Port 0 in tests; [`Bridge::port`] tells the real one.
pub struct Bridge {
    listener: TcpListener,
    router: axum::Router,
    port: u16,
    tls: Option<Arc<https_serve::ServerConfig>>,
}

impl Bridge {
    /// Binds 127.0.0.1:`port` (never another interface: BRG-1) and builds the app.
    pub async fn bind(
        port: u16,
        config: BridgeConfig,
        worker: CardWorker,
        events: broadcast::Sender<CardEvent>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        let port = listener.local_addr()?.port();
        let state = routes::AppState::new(
            worker,
            events,
            security::Security::new(port, config.allowed_origins),
            grants::Grants::new(config.server_key, config.clock),
            config.tls.as_ref().map(|served| served.not_after),
        );
        Ok(Self {
            listener,
            router: routes::router(state),
            port,
            tls: config.tls.map(|served| served.config),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run(self) -> std::io::Result<()> {
        match self.tls {
            None => axum::serve(self.listener, self.router).await,
            Some(config) => https_serve::serve(self.listener, self.router, config).await,
        }
    }
}
