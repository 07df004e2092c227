//! ALL-3 / ALL-6 over HTTPS: the server serves TLS with the certificate and key from its
//! settings, says so for a year with HSTS, and gives nothing to plain HTTP on that port.

use std::path::PathBuf;

use api_types::unlock::{Config, PublicConfig};
use api_types::Endpoint;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};

use crate::both;
use crate::helpers::*;

/// A CA and a certificate for 127.0.0.1 from it, in files: (CA PEM, chain file, key file).
fn certificate_files() -> (String, PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("server-tls-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.subject_alt_names = vec![SanType::IpAddress([127, 0, 0, 1].into())];
    let leaf = leaf.signed_by(&key, &ca, &ca_key).unwrap();
    let (chain, key_file) = (dir.join("chain.pem"), dir.join("key.pem"));
    std::fs::write(&chain, leaf.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    (ca.pem(), chain, key_file)
}

async fn all_3_the_server_serves_https_with_hsts(db: Db) {
    let (ca, chain, key) = certificate_files();
    let app = TestApp::spawn_with(db, |settings| {
        settings.tls_cert_file = Some(chain);
        settings.tls_key_file = Some(key);
        settings.public_origin = "https://127.0.0.1".into();
    })
    .await;
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .use_rustls_tls()
        .build()
        .unwrap();
    // Its own client (trusting the test CA over HTTPS), so the path by hand.
    let url = format!("https://127.0.0.1:{}{}", app.port, Config::path(&()));
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let config: PublicConfig = response.json().await.unwrap();
    assert!(!config.organisation_name.is_empty());
    // The SPA's fallback and errors carry it too, and a request id (OPS-3).
    let missing = client
        .get(format!("https://127.0.0.1:{}/api/nothing", app.port))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().contains_key("strict-transport-security"));
    assert!(missing.headers().contains_key("x-request-id"));
    // Plain HTTP on the HTTPS port gets no page.
    let plain = app.request::<Config>(None, &(), &()).send().await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
}
both!(all_3_the_server_serves_https_with_hsts);

async fn all_3_a_plain_http_demo_sends_no_hsts(db: Db) {
    let app = TestApp::spawn(db).await;
    let response = app.request::<Config>(None, &(), &()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(!response.headers().contains_key("strict-transport-security"));
}
both!(all_3_a_plain_http_demo_sends_no_hsts);
