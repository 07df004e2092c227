//! Serving an axum app over HTTPS with rustls (ring): the server's own TLS when it is
//! given a certificate (ALL-3: every browser, Safari's engine included, needs the page on
//! HTTPS) and the card bridge's (BRG-7). One TLS handshake per connection, at most 10 s;
//! HTTP/1.1 with upgrades (the bridge's WebSocket); the peer's address as axum's
//! `ConnectInfo`, as `axum::serve` gives it on plain HTTP. Also the JSON content-type
//! check both servers make ([`is_json`]).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use std::convert::Infallible;

use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tower::{Service, ServiceExt};

pub use rustls::ServerConfig;

#[derive(Debug, thiserror::Error)]
pub enum TlsFileError {
    #[error("{0}: no PEM certificate in it")]
    Certificates(String),
    #[error("{0}: no PEM private key in it")]
    Key(String),
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// A TLS configuration from a PEM certificate chain (leaf first) and its private key.
pub fn config_from_files(
    certificates: &Path,
    key: &Path,
) -> Result<(Arc<ServerConfig>, Vec<CertificateDer<'static>>), TlsFileError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certificates)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|_| TlsFileError::Certificates(certificates.display().to_string()))?;
    if chain.is_empty() {
        return Err(TlsFileError::Certificates(
            certificates.display().to_string(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|_| TlsFileError::Key(key.display().to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain.clone(), key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), chain))
}

/// What one listener takes on at once (ALL-2, ALL-5): a client that connects and says
/// nothing holds its connection no longer than [`HEADER_READ_TIMEOUT`], and no more than
/// `max_connections` are open — the rest wait in the kernel's backlog, so a flood of idle
/// sockets cannot take the process's file descriptors or memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
        }
    }
}

/// How long a client may take to send a request's headers, and a TLS handshake.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// ALL-6 / BRG-2: the request says its body is JSON (`application/json`, any parameters
/// after it) — the one check the server and the card bridge both make.
pub fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// Serves `router` on `listener` over TLS until the process stops.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    config: Arc<ServerConfig>,
) -> std::io::Result<()> {
    serve_with(listener, router, Some(config), Limits::default()).await
}

/// Serves `router` on `listener` — over TLS when `tls` is given, else plain HTTP (behind
/// a TLS-terminating proxy, or on this computer) — within `limits`, until the process
/// stops.
pub async fn serve_with(
    listener: TcpListener,
    router: axum::Router,
    tls: Option<Arc<ServerConfig>>,
    limits: Limits,
) -> std::io::Result<()> {
    serve_until(
        listener,
        router,
        tls,
        limits,
        std::future::pending(),
        Duration::ZERO,
    )
    .await;
    Ok(())
}

/// How a drain ended (OPS-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// Every connection finished its request in flight and closed.
    Finished,
    /// The grace period ran out with this many connections still open.
    TimedOut { open: usize },
}

/// As [`serve_with`], until `stop` resolves: then the listener closes (new connections
/// are refused, so a load balancer retries them elsewhere), idle connections close, and a
/// connection with a request in flight closes once that request is answered — waiting at
/// most `grace` for the last of them.
pub async fn serve_until(
    listener: TcpListener,
    router: axum::Router,
    tls: Option<Arc<ServerConfig>>,
    limits: Limits,
    stop: impl std::future::Future<Output = ()>,
    grace: Duration,
) -> Drained {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let open = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let (draining, drain) = tokio::sync::watch::channel(false);
    tokio::pin!(stop);
    loop {
        let (permit, accepted) = tokio::select! {
            () = &mut stop => break,
            // Never closed, so this never fails; waiting here leaves the rest in the backlog.
            permit = open.clone().acquire_owned() => match permit {
                Ok(permit) => tokio::select! {
                    () = &mut stop => break,
                    accepted = listener.accept() => (permit, accepted),
                },
                Err(_) => break,
            },
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait, don't spin or stop.
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (acceptor, router, drain) = (acceptor.clone(), router.clone(), drain.clone());
        tokio::spawn(async move {
            let _open = permit;
            // Each request is told its peer on the way in. (`Router::layer` here would
            // rebuild every route's service for each connection, and box one more layer
            // that every request clones.)
            let router = router.map_request(move |mut request: Request<Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                request
            });
            match acceptor {
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(HEADER_READ_TIMEOUT, acceptor.accept(stream));
                    if let Ok(Ok(tls)) = handshake.await {
                        serve_connection(tls, router, drain).await;
                    }
                }
                None => serve_connection(stream, router, drain).await,
            }
        });
    }
    drop(listener);
    let _ = draining.send(true);
    let everyone = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let finished = tokio::time::timeout(grace, open.acquire_many(everyone))
        .await
        .is_ok();
    if finished {
        Drained::Finished
    } else {
        Drained::TimedOut {
            open: limits.max_connections - open.available_permits(),
        }
    }
}

async fn serve_connection<I, S>(io: I, router: S, mut drain: tokio::sync::watch::Receiver<bool>)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<Incoming>, Response = axum::response::Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let service = hyper_util::service::TowerToHyperService::new(router);
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(hyper_util::rt::TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(connection);
    let served = tokio::select! {
        served = connection.as_mut() => served,
        () = async { drop(drain.wait_for(|draining| *draining).await) } => {
            // The request in flight, if any, is answered; then the connection closes.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = served {
        tracing::debug!(%error, "connection ended");
    }
}
