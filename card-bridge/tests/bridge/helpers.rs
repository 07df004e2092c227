use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use api_types::bridge::{
    CardEvent, CardLoginRequest, SignedGrant, BRIDGE_HEADER, PATH_CARD_LOGIN, PATH_CHANGE_PIN,
    PATH_RELAY, PATH_VERIFY_PIN,
};
use bridge_grant::{GrantRequest, GrantSigner, GrantVerifier, Operation};
use card_bridge::simulated::SimulatedAccess;
use card_bridge::worker::{CardInReader, Leave};
use card_bridge::{Bridge, BridgeConfig, BridgeError, CardAccess, CardWorker, Clock};
use card_protocol::client::{CardTransport, PivClient, TransportError};
use card_protocol::issue::{self, KeySlot};
use card_protocol::scp03::{HostHandshake, SecurityLevel};
use rand::rngs::OsRng;
use tokio::sync::broadcast;
use virtual_card::{CreateOptions, SharedCard, VirtualCard};

pub const ORIGIN: &str = "http://127.0.0.1:8080";
/// Also allowed to call the bridge, but grants for it are not grants for [`ORIGIN`].
pub const OTHER_ORIGIN: &str = "http://127.0.0.1:8081";
pub const PIN: &str = "1234";
pub const PUK: &str = "12345678";
/// Where the bridge's test clock starts (unix seconds).
pub const NOW: i64 = 1_900_000_000;

type Sent = Arc<Mutex<Vec<Vec<u8>>>>;

pub struct TestBridge {
    pub port: u16,
    pub card: SharedCard,
    pub client: reqwest::Client,
    pub events: broadcast::Sender<CardEvent>,
    /// The server's grant key; the bridge pins its public half.
    pub signer: Arc<GrantSigner>,
    clock: Arc<AtomicI64>,
    /// Every APDU the bridge sent to the simulated card.
    sent: Sent,
}

pub fn new_card(locked: bool) -> SharedCard {
    SharedCard::new(virtual_card_with(locked, None))
}

pub fn virtual_card_with(locked: bool, guid: Option<[u8; 16]>) -> VirtualCard {
    VirtualCard::create(&CreateOptions {
        pin: PIN.into(),
        puk: PUK.into(),
        guid,
        locked,
    })
    .unwrap()
}

/// Issuance's first step as the server runs it (CARD-1, AUTH-1), sent straight to the
/// card: in an SCP03 session at level 33 the card generates its 9A (PIV authentication)
/// key pair. Returns the new public key; the card is left reset, as after issuance.
pub fn issue_login_key(card: &SharedCard) -> p256::PublicKey {
    let keys = card.with_card(|c| c.scp03_keys());
    let mut client = PivClient::new(card.clone());
    client.select().unwrap();
    let handshake = HostHandshake::random(keys, 0, &mut OsRng);
    let answer = client.transmit(&handshake.initialize_update()).unwrap();
    let (external_authenticate, mut session) = handshake
        .authenticate(&answer, SecurityLevel::CMacCDecRMacREnc)
        .unwrap();
    let answer = client.transmit(&external_authenticate).unwrap();
    session.confirm_external_authenticate(&answer).unwrap();
    let sealed = session
        .wrap(issue::generate_key_pair(KeySlot::PivAuth))
        .unwrap();
    let answer = session.unwrap(client.transmit(&sealed).unwrap()).unwrap();
    let key = issue::public_key(&answer).unwrap();
    card.with_card(|c| c.reset());
    key
}

/// Records every APDU on its way to the card behind it.
pub struct Recording {
    inner: Box<dyn CardAccess>,
    sent: Sent,
}

struct RecordingTransport<'a> {
    inner: &'a mut dyn CardTransport,
    sent: &'a Sent,
}

impl CardTransport for RecordingTransport<'_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.sent.lock().unwrap().push(command.to_vec());
        self.inner.transmit(command)
    }
}

impl CardAccess for Recording {
    fn backend_name(&self) -> &'static str {
        self.inner.backend_name()
    }

    fn readers(&mut self) -> Result<Vec<api_types::bridge::ReaderInfo>, BridgeError> {
        self.inner.readers()
    }

    fn with_card(
        &mut self,
        leave: Leave,
        operation: &mut dyn FnMut(CardInReader<'_>) -> Result<(), BridgeError>,
    ) -> Result<(), BridgeError> {
        let sent = self.sent.clone();
        self.inner.with_card(leave, &mut |card| {
            let mut transport = RecordingTransport {
                inner: card.transport,
                sent: &sent,
            };
            operation(CardInReader {
                presence: card.presence,
                transport: &mut transport,
            })
        })
    }
}

pub async fn start_with(access: Box<dyn CardAccess>, card: SharedCard) -> TestBridge {
    start_serving(access, card, None).await
}

/// A bridge with a simulated card that serves HTTPS/WSS with `tls` (BRG-7).
pub async fn start_tls(tls: card_bridge::tls::Served) -> TestBridge {
    let card = new_card(false);
    start_serving(
        Box::new(SimulatedAccess::new(card.clone())),
        card,
        Some(tls),
    )
    .await
}

async fn start_serving(
    access: Box<dyn CardAccess>,
    card: SharedCard,
    tls: Option<card_bridge::tls::Served>,
) -> TestBridge {
    let (events, _) = broadcast::channel(16);
    let sent = Sent::default();
    let access = Box::new(Recording {
        inner: access,
        sent: sent.clone(),
    });
    let worker = CardWorker::spawn(access).unwrap();
    let signer = GrantSigner::generate();
    let clock = Arc::new(AtomicI64::new(NOW));
    let now = clock.clone();
    let bridge = Bridge::bind(
        0,
        BridgeConfig {
            allowed_origins: vec![ORIGIN.to_owned(), OTHER_ORIGIN.to_owned()],
            server_key: GrantVerifier::from_hex(&signer.public_key_hex()).unwrap(),
            clock: Clock::from_fn(move || now.load(Ordering::SeqCst)),
            tls,
        },
        worker,
        events.clone(),
    )
    .await
    .unwrap();
    let port = bridge.port();
    tokio::spawn(bridge.run());
    TestBridge {
        port,
        card,
        client: reqwest::Client::new(),
        events,
        signer: Arc::new(signer),
        clock,
        sent,
    }
}

/// A bridge with an in-process virtual card (`--simulate`).
pub async fn start_simulated(locked: bool) -> TestBridge {
    let card = new_card(locked);
    start_with(Box::new(SimulatedAccess::new(card.clone())), card).await
}

impl TestBridge {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A request as the allowed page would send it.
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(self.url(path))
            .header("origin", ORIGIN)
            .header("content-type", "application/json")
            .header(BRIDGE_HEADER, "1")
    }

    pub fn post(&self, path: &str, body: &serde_json::Value) -> reqwest::RequestBuilder {
        self.post_from(ORIGIN, path, body)
    }

    /// [`Self::post`] from a page of `origin` (allowed, or not).
    pub fn post_from(
        &self,
        origin: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(path))
            .header("origin", origin)
            .header(BRIDGE_HEADER, "1")
            .json(body)
    }

    pub fn guid(&self) -> [u8; 16] {
        self.card.with_card(|c| c.guid())
    }

    pub fn now(&self) -> i64 {
        self.clock.load(Ordering::SeqCst)
    }

    /// Moves the bridge's clock.
    pub fn advance(&self, seconds: i64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }

    /// What the server would grant for the card in the reader, from [`ORIGIN`], now.
    pub fn request<'a>(
        &self,
        operation: Operation,
        apdus: Option<&'a [Vec<u8>]>,
    ) -> GrantRequest<'a> {
        GrantRequest {
            origin: ORIGIN,
            card_guid: self.guid(),
            attempt: "attempt-1",
            operation,
            apdus,
            now: self.now(),
            lifetime_secs: 120,
        }
    }

    pub fn grant(&self, operation: Operation, apdus: Option<&[Vec<u8>]>) -> SignedGrant {
        self.signer.grant(&self.request(operation, apdus))
    }

    pub async fn relay(&self, apdus: &[Vec<u8>], grant: Option<SignedGrant>) -> reqwest::Response {
        let apdus: Vec<String> = apdus.iter().map(hex::encode).collect();
        self.post(
            PATH_RELAY,
            &serde_json::json!({ "apdus": apdus, "grant": grant }),
        )
        .send()
        .await
        .unwrap()
    }

    pub async fn change_pin(
        &self,
        grant: Option<SignedGrant>,
        current_pin: &str,
        new_pin: &str,
        confirm_last_try: bool,
    ) -> reqwest::Response {
        self.post(
            PATH_CHANGE_PIN,
            &serde_json::json!({
                "grant": grant,
                "current_pin": current_pin,
                "new_pin": new_pin,
                "confirm_last_try": confirm_last_try,
            }),
        )
        .send()
        .await
        .unwrap()
    }

    pub async fn verify_pin(&self, pin: &str, confirm_last_try: bool) -> reqwest::Response {
        self.post(
            PATH_VERIFY_PIN,
            &serde_json::json!({ "pin": pin, "confirm_last_try": confirm_last_try }),
        )
        .send()
        .await
        .unwrap()
    }

    pub async fn card_login(&self, request: &CardLoginRequest) -> reqwest::Response {
        self.post(PATH_CARD_LOGIN, &serde_json::to_value(request).unwrap())
            .send()
            .await
            .unwrap()
    }

    /// The APDUs the bridge sent to the card since the last call.
    pub fn take_sent(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *self.sent.lock().unwrap())
    }

    /// The card's whole persistent state (PIN, PUK, tries, history, keys), to show an
    /// operation changed nothing.
    pub fn card_state(&self) -> serde_json::Value {
        serde_json::to_value(self.card.with_card(|c| c.state())).unwrap()
    }
}

/// Sends raw HTTP/1.1 text (for headers reqwest will not let us forge, like Host).
pub async fn raw_http(port: u16, request: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    (status, response)
}

pub async fn error_code(response: reqwest::Response) -> String {
    let body: serde_json::Value = response.json().await.unwrap();
    body["code"].as_str().unwrap().to_owned()
}

/// The status and the error body, for refusals.
pub async fn refusal(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}
