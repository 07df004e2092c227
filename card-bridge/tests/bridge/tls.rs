//! BRG-7 tried as a browser and an attacker would: the bridge on HTTPS and WSS with a
//! certificate for 127.0.0.1 from a CA made on this computer, whose key is gone; a
//! client that does not trust that CA gets nowhere; the CA can vouch for 127.0.0.1 only;
//! the status says when the certificate ends; install and uninstall put the CA into and
//! take it out of a browser's NSS database.

use std::path::Path;
use std::sync::Arc;

use api_types::bridge::{BridgeStatus, BRIDGE_HEADER};
use card_bridge::{tls, trust};
use der::{Decode, DecodePem};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use x509_cert::Certificate;

use crate::helpers::*;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bridge-tls-{name}-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The real time: a TLS client checks the certificate against its own clock.
fn real_now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    i64::try_from(since.unwrap().as_secs()).unwrap()
}

fn https_client(ca_pem: Option<&str>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().tls_built_in_root_certs(false);
    if let Some(pem) = ca_pem {
        builder =
            builder.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap());
    }
    builder.use_rustls_tls().build().unwrap()
}

fn status_request(client: &reqwest::Client, port: u16) -> reqwest::RequestBuilder {
    client
        .get(format!("https://127.0.0.1:{port}/v1/status"))
        .header("origin", ORIGIN)
        .header("content-type", "application/json")
        .header(BRIDGE_HEADER, "1")
}

#[tokio::test]
async fn brg_7_the_bridge_serves_https_that_only_its_local_ca_vouches_for() {
    let dir = temp_dir("serve");
    let issued = tls::issue(&dir, real_now()).unwrap();
    let served = tls::load(&dir).unwrap();
    assert_eq!(served.not_after, issued.not_after);
    let bridge = start_tls(served).await;

    let trusted = https_client(Some(&issued.ca_pem));
    let response = status_request(&trusted, bridge.port).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let status: BridgeStatus = response.json().await.unwrap();
    assert_eq!(status.certificate_expires_at, Some(issued.not_after));

    // Without the CA, or with another computer's CA, the handshake fails.
    assert!(status_request(&https_client(None), bridge.port)
        .send()
        .await
        .is_err());
    let other = tls::issue(&temp_dir("other"), real_now()).unwrap();
    assert!(
        status_request(&https_client(Some(&other.ca_pem)), bridge.port)
            .send()
            .await
            .is_err()
    );
    // Plain HTTP to the HTTPS port gets no answer the page could use.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/v1/status", bridge.port))
        .header("origin", ORIGIN)
        .header(BRIDGE_HEADER, "1")
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    // BRG-2 still holds over HTTPS: another origin is refused.
    let foreign = trusted
        .get(format!("https://127.0.0.1:{}/v1/status", bridge.port))
        .header("origin", "https://evil.example")
        .header("content-type", "application/json")
        .header(BRIDGE_HEADER, "1")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
}

#[tokio::test]
async fn brg_7_card_events_come_over_wss() {
    let dir = temp_dir("wss");
    let issued = tls::issue(&dir, real_now()).unwrap();
    let bridge = start_tls(tls::load(&dir).unwrap()).await;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(issued.ca_pem.as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", bridge.port))
        .await
        .unwrap();
    let name = ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
    let stream = connector.connect(name, tcp).await.unwrap();
    let url = format!("wss://127.0.0.1:{}/v1/events", bridge.port);
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
            .unwrap();
    request
        .headers_mut()
        .insert("origin", ORIGIN.parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    assert_eq!(response.status(), 101);
    use futures_util::StreamExt as _;
    let first = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
        .await
        .expect("the bridge says what is in the reader on connect")
        .unwrap()
        .unwrap();
    assert!(first.is_text());
}

fn certificate(path: &Path) -> Certificate {
    Certificate::from_pem(std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn brg_7_the_ca_is_name_constrained_to_127_0_0_1_and_its_key_is_not_kept() {
    let dir = temp_dir("ca");
    tls::issue(&dir, NOW).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, [tls::CA_FILE, tls::KEY_FILE, tls::CERT_FILE]);
    let ca = certificate(&dir.join(tls::CA_FILE));
    let leaf = certificate(&dir.join(tls::CERT_FILE));
    // The one private key kept is the bridge's own, not the CA's.
    let key_pem = std::fs::read_to_string(dir.join(tls::KEY_FILE)).unwrap();
    let key = p256::SecretKey::from_sec1_pem(&key_pem)
        .or_else(|_| <p256::SecretKey as p256::pkcs8::DecodePrivateKey>::from_pkcs8_pem(&key_pem))
        .unwrap();
    let kept = key.public_key();
    let spki = |c: &Certificate| {
        c.tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes()
            .to_vec()
    };
    assert_eq!(spki(&leaf), kept.to_sec1_bytes().to_vec());
    assert_ne!(spki(&ca), kept.to_sec1_bytes().to_vec());
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(dir.join(tls::KEY_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the bridge's key is its owner's only");
    // A CA for one address: basic constraints with path length 0 and name constraints.
    let extensions = ca.tbs_certificate.extensions.unwrap();
    let oids: Vec<String> = extensions.iter().map(|e| e.extn_id.to_string()).collect();
    assert!(oids.contains(&"2.5.29.19".to_owned()), "basic constraints");
    let constraints = extensions
        .iter()
        .find(|e| e.extn_id.to_string() == "2.5.29.30")
        .expect("name constraints");
    let parsed =
        x509_cert::ext::pkix::NameConstraints::from_der(constraints.extn_value.as_bytes()).unwrap();
    let permitted = parsed.permitted_subtrees.unwrap();
    assert_eq!(permitted.len(), 1);
    assert_eq!(
        permitted[0].base,
        x509_cert::ext::pkix::name::GeneralName::IpAddress(
            der::asn1::OctetString::new([127, 0, 0, 1, 255, 255, 255, 255]).unwrap()
        )
    );
    // Renewal is due in the last 30 days.
    let end = tls::load(&dir).unwrap().not_after;
    assert!(!tls::due_for_renewal(end, NOW));
    assert!(tls::due_for_renewal(end, end - 29 * 86_400));
    tls::remove(&dir).unwrap();
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

fn nss_has_ca(db: &Path) -> bool {
    std::process::Command::new("certutil")
        .args(["-L", "-n", trust::NSS_NICKNAME, "-d"])
        .arg(format!("sql:{}", db.display()))
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn brg_7_install_trusts_the_ca_in_each_browsers_nss_database_and_uninstall_removes_it() {
    let home = temp_dir("home");
    // A Firefox profile that already exists.
    let profile = home.join(".mozilla/firefox/abcd.default-esr");
    std::fs::create_dir_all(&profile).unwrap();
    let made = std::process::Command::new("certutil")
        .args(["-N", "--empty-password", "-d"])
        .arg(format!("sql:{}", profile.display()))
        .status()
        .unwrap();
    assert!(made.success());
    let dir = temp_dir("install");
    tls::issue(&dir, NOW).unwrap();
    let stores = trust::Stores {
        system_dir: None,
        home: Some(home.clone()),
    };
    let report = trust::install(&stores, &dir.join(tls::CA_FILE));
    assert_eq!(report.len(), 2, "{report:?}");
    assert!(
        report.iter().all(|line| line.starts_with("trusted")),
        "{report:?}"
    );
    let chromium = home.join(".pki/nssdb");
    assert!(nss_has_ca(&chromium) && nss_has_ca(&profile));
    // Installing again (renewal) replaces the CA rather than adding a second.
    tls::issue(&dir, NOW + 400 * 86_400).unwrap();
    trust::install(&stores, &dir.join(tls::CA_FILE));
    let listed = std::process::Command::new("certutil")
        .args(["-L", "-d"])
        .arg(format!("sql:{}", chromium.display()))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(text.matches(trust::NSS_NICKNAME).count(), 1, "{text}");
    let removed = trust::uninstall(&stores);
    assert_eq!(removed.len(), 2, "{removed:?}");
    assert!(!nss_has_ca(&chromium) && !nss_has_ca(&profile));
}
