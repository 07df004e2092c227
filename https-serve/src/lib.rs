//! Serving an axum app over HTTPS with rustls (ring): the server's own TLS when it is
//! given a certificate (ALL-3: every browser, Safari's engine included, needs the page on
//! HTTPS) and the card bridge's (BRG-7). One TLS handshake per connection, at most 10 s;
//! HTTP/1.1 with upgrades (the bridge's WebSocket); the peer's address as axum's
//! `ConnectInfo`, as `axum::serve` gives it on plain HTTP.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;

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

/// Serves `router` on `listener` over TLS until the process stops.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    config: Arc<ServerConfig>,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait, don't spin or stop.
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (acceptor, router) = (acceptor.clone(), router.clone());
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
            let Ok(Ok(tls)) = handshake.await else {
                return;
            };
            let router = router.layer(axum::Extension(ConnectInfo::<SocketAddr>(peer)));
            let service = hyper_util::service::TowerToHyperService::new(router);
            let served = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .with_upgrades()
                .await;
            if let Err(error) = served {
                tracing::debug!(%error, "connection ended");
            }
        });
    }
}
