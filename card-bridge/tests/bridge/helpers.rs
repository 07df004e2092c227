use api_types::bridge::{CardEvent, BRIDGE_HEADER};
use card_bridge::simulated::SimulatedAccess;
use card_bridge::{Bridge, BridgeConfig, CardAccess, CardWorker};
use tokio::sync::broadcast;
use virtual_card::{CreateOptions, SharedCard, VirtualCard};

pub const ORIGIN: &str = "http://127.0.0.1:8080";
pub const PIN: &str = "1234";
pub const PUK: &str = "12345678";

pub struct TestBridge {
    pub port: u16,
    pub card: SharedCard,
    pub client: reqwest::Client,
    pub events: broadcast::Sender<CardEvent>,
}

pub fn new_card(locked: bool) -> SharedCard {
    let card = VirtualCard::create(&CreateOptions {
        pin: PIN.into(),
        puk: PUK.into(),
        guid: None,
        locked,
    })
    .unwrap();
    SharedCard::new(card)
}

pub async fn start_with(access: Box<dyn CardAccess>, card: SharedCard) -> TestBridge {
    let (events, _) = broadcast::channel(16);
    let worker = CardWorker::spawn(access).unwrap();
    let bridge = Bridge::bind(
        0,
        BridgeConfig {
            allowed_origins: vec![ORIGIN.to_owned()],
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
        self.client
            .post(self.url(path))
            .header("origin", ORIGIN)
            .header(BRIDGE_HEADER, "1")
            .json(body)
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
