//! CARD-3: the server holds each card's SCP03 keys sealed with its KEK, and with them
//! opens a secure channel to the card; after a KEK rotation it still can.

use card_protocol::apdu::{CommandApdu, ResponseApdu};
use card_protocol::piv;
use card_protocol::scp03::SecurityLevel;
use server::store::cards;

use crate::both;
use crate::helpers::*;

/// The server's side of a handshake with the card, then one sealed GET DATA (CHUID).
async fn open_channel_and_read_chuid(app: &TestApp, card: &TestCard) {
    let mut conn = app.state.store.pool.acquire().await.unwrap();
    let row = cards::find(&mut conn, &card.guid).await.unwrap().unwrap();
    drop(conn);
    let sealed = row.scp03_keys_enc.clone().unwrap();
    let keys = card.card.with_card(|c| c.scp03_keys().to_bytes());
    assert!(
        !sealed.windows(16).any(|w| w == &keys[..16]),
        "keys stored in clear"
    );

    let challenge = server::card_channel::fresh_challenge();
    let handshake = server::card_channel::handshake(&app.state.kek, &row, challenge).unwrap();
    let send = |command: &CommandApdu| {
        let raw = card.card.transmit_apdu(&command.to_bytes()).unwrap();
        ResponseApdu::parse(&raw).unwrap()
    };
    assert!(send(&piv::select()).sw.is_success());
    let answer = send(&handshake.initialize_update());
    let (external_authenticate, mut session) = handshake
        .authenticate(&answer, SecurityLevel::CMacCDecRMacREnc)
        .unwrap();
    let confirmed = send(&external_authenticate);
    session.confirm_external_authenticate(&confirmed).unwrap();
    let sealed_get = session.wrap(piv::get_data(piv::TAG_CHUID)).unwrap();
    let answer = session.unwrap(send(&sealed_get)).unwrap();
    assert!(answer.sw.is_success(), "{answer:?}");
    assert!(answer.data.windows(16).any(|w| w == card.guid.as_bytes()));
}

async fn card_3_the_server_opens_a_secure_channel_from_sealed_keys(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    open_channel_and_read_chuid(&app, &card).await;
    // KEK rotation re-seals the channel keys too.
    let rotating = app
        .restart_with(|s| {
            s.kek_hex = "55".repeat(32).into();
            s.kek_version = 2;
            s.previous_keks = format!("1:{}", "11".repeat(32)).into();
        })
        .await;
    server::rotate::rotate_kek(&rotating.state).await.unwrap();
    let rotated = app
        .restart_with(|s| {
            s.kek_hex = "55".repeat(32).into();
            s.kek_version = 2;
        })
        .await;
    open_channel_and_read_chuid(&rotated, &card).await;
}
both!(card_3_the_server_opens_a_secure_channel_from_sealed_keys);

// CERT-1: the server publishes its CA certificate; a restart (or a second instance on
// the same database) keeps the same CA.
async fn cert_1_the_ca_certificate_is_published_and_kept(db: Db) {
    let app = TestApp::spawn(db).await;
    // A PEM file, not JSON: the raw answer.
    let fetch = |app: &TestApp| {
        let request = app.request::<api_types::unlock::CaCertificate>(None, &(), &());
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.headers()["content-type"], "application/x-pem-file");
            response.text().await.unwrap()
        }
    };
    let pem = fetch(&app).await;
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let again = app.restart().await;
    assert_eq!(fetch(&again).await, pem);
}
both!(cert_1_the_ca_certificate_is_published_and_kept);
