//! The card bridge client: the localhost daemon that reaches the card (BRG-1). It is
//! another origin, so every call carries `Content-Type: application/json` and the
//! bridge's custom header (BRG-2) — GETs included. Card insert/remove arrives as
//! [`CardEvent`]s on its WebSocket; there is no polling. Before the first call the page
//! makes sure the browser will let it reach this computer ([`crate::local_network`]).

use api_types::bridge::{CardEvent, CardInfo, BRIDGE_HEADER, BRIDGE_HEADER_VALUE, PATH_EVENTS};
use api_types::ApiError;
use futures_util::StreamExt;
use gloo_net::http::{Request, RequestBuilder};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::Message;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::send;
use crate::errors::Problem;
use crate::local_network::{self, Access};

/// How long to wait before trying the WebSocket again while the bridge is down.
const RECONNECT_MS: u32 = 2_000;

/// What the page knows about the card, live from the bridge.
#[derive(Debug, Clone, PartialEq)]
pub enum CardState {
    Connecting,
    BridgeUnreachable,
    /// The browser will ask before the page may reach the bridge: explain, then ask on
    /// the user's press (`refused`: it was asked and not allowed).
    AskLocalNetwork {
        refused: bool,
    },
    /// The user told the browser not to let this page reach this computer.
    LocalNetworkBlocked,
    Trouble(Problem),
    NoCard,
    Present(CardInfo),
}

/// The bridge's base URL, e.g. `http://127.0.0.1:9981`, without a trailing slash.
#[derive(Debug, Clone)]
pub struct Bridge {
    base: String,
}

impl Bridge {
    pub fn new(url: &str) -> Self {
        Self {
            base: url.trim_end_matches('/').to_owned(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The events WebSocket: the bridge URL with `http` → `ws` (`https` → `wss`).
    pub fn events_url(&self) -> String {
        let ws = match self.base.strip_prefix("http") {
            Some(rest) => format!("ws{rest}"),
            None => self.base.clone(),
        };
        format!("{ws}{PATH_EVENTS}")
    }

    fn with_headers(builder: RequestBuilder) -> RequestBuilder {
        builder
            .header("Content-Type", "application/json")
            .header(BRIDGE_HEADER, BRIDGE_HEADER_VALUE)
    }

    // Built before the future, which then holds only the request (not `self`, the path
    // or the body): the WASM's copy per answer type stays small (issue 18).
    pub fn get<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> impl std::future::Future<Output = Result<T, Problem>> + use<T> {
        let request = Self::with_headers(Request::get(&format!("{}{path}", self.base))).build();
        send(request, Problem::bridge_unreachable)
    }

    pub fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> impl std::future::Future<Output = Result<T, Problem>> + use<B, T> {
        let request = Self::with_headers(Request::post(&format!("{}{path}", self.base))).json(body);
        send(request, Problem::bridge_unreachable)
    }
}

/// Follows the card over the bridge's WebSocket into `card`; while the bridge is down it
/// says so and tries to connect again every few seconds. First, and after each failure,
/// it asks whether the browser lets this page reach this computer at all, and waits for
/// the user where it does not. When the page that asked goes away (another route), the
/// socket is closed and the following stops.
pub fn watch_card(bridge: &Bridge, card: RwSignal<CardState>) {
    let url = bridge.events_url();
    let (follow, stop) = futures_util::future::abortable(async move {
        let on_loopback = local_network::page_on_loopback();
        let mut allowed = false;
        loop {
            let permission = local_network::permission().await;
            let waiting = match local_network::before_bridge(permission, on_loopback) {
                Access::Blocked => Some(CardState::LocalNetworkBlocked),
                Access::Explain if !allowed => Some(CardState::AskLocalNetwork { refused: false }),
                Access::Explain | Access::Go => None,
            };
            if let Some(waiting) = waiting {
                card.set(waiting);
                local_network::wait_for_access(card).await;
                // The user's press reached the bridge (or the block was lifted).
                allowed = card.get_untracked() == CardState::Connecting;
                continue;
            }
            if let Ok(socket) = WebSocket::open(&url) {
                let (_sink, mut events) = socket.split();
                while let Some(Ok(message)) = events.next().await {
                    if let Message::Text(text) = message {
                        if let Some(state) = card_state(&text) {
                            card.set(state);
                        }
                    }
                }
            }
            card.set(CardState::BridgeUnreachable);
            TimeoutFuture::new(RECONNECT_MS).await;
        }
    });
    on_cleanup(move || stop.abort());
    spawn_local(async move {
        let _ = follow.await;
    });
}

/// The card state a bridge event gives; `None` for events that only announce a change
/// (the bridge follows each with a snapshot).
pub fn card_state(text: &str) -> Option<CardState> {
    match serde_json::from_str::<CardEvent>(text) {
        Ok(CardEvent::Snapshot { status }) => {
            Some(status.card.map_or(CardState::NoCard, CardState::Present))
        }
        Ok(CardEvent::Inserted { .. } | CardEvent::Removed { .. }) => None,
        Err(_) => serde_json::from_str::<ApiError>(text)
            .ok()
            .map(|error| CardState::Trouble(error.into())),
    }
}

#[cfg(test)]
mod tests {
    use api_types::ErrorCode;

    use super::*;

    #[test]
    fn events_url_swaps_the_scheme() {
        assert_eq!(
            Bridge::new("http://127.0.0.1:9981/").events_url(),
            "ws://127.0.0.1:9981/v1/events"
        );
        assert_eq!(
            Bridge::new("https://localhost:9981").events_url(),
            "wss://localhost:9981/v1/events"
        );
    }

    #[test]
    fn snapshots_give_the_card_state() {
        let none = r#"{"event":"snapshot","status":{"version":"1","backend":"pcsc","readers":[],"card":null}}"#;
        assert_eq!(card_state(none), Some(CardState::NoCard));
        let some = r#"{"event":"snapshot","status":{"version":"1","backend":"pcsc","readers":[],
            "card":{"reader":"r","guid":"000102030405060708090a0b0c0d0e0f","pin_tries_left":0,
            "pin_blocked":true}}}"#;
        assert!(matches!(card_state(some), Some(CardState::Present(c)) if c.pin_blocked));
        // A GUID that is not 16 bytes of hex is no card the page can use (ALL-2).
        let malformed = some.replace("000102030405060708090a0b0c0d0e0f", "00");
        assert_eq!(card_state(&malformed), None);
        assert_eq!(card_state(r#"{"event":"removed","reader":"r"}"#), None);
        let trouble = card_state(r#"{"code":"pcsc_unavailable","message":"x"}"#);
        assert!(matches!(trouble, Some(CardState::Trouble(p)) if p.is(ErrorCode::PcscUnavailable)));
        assert_eq!(card_state("not json"), None);
    }
}
