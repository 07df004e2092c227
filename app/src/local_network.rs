//! Local Network Access (BRG-7, ALL-3). A page served from the internet that calls the
//! card bridge on 127.0.0.1 makes Chrome and Edge (142+) and Firefox (151+) ask the
//! user first. So before the first bridge call the page reads the permission where the
//! browser exposes it; if the browser is going to ask, the page first says in plain words
//! what it will ask and why, and makes the request that brings up the question only when
//! the user presses the button (`fetch` with `targetAddressSpace: "loopback"`); if the
//! user blocked it, the page says how to allow it again in that browser — rather than
//! "the card bridge is not running", which would send them to the wrong fix.

use api_types::bridge::{BRIDGE_HEADER, BRIDGE_HEADER_VALUE, PATH_STATUS};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, PermissionState, PermissionStatus, RequestInit};

use crate::bridge::{Bridge, CardState};

/// The browser's answer for this page reaching the computer it runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Granted,
    /// The browser will ask (or the user dismissed the question).
    Prompt,
    Denied,
    /// This browser has no such permission (Safari), or will not say.
    Unknown,
}

/// What the page does before it talks to the bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Go,
    /// Explain what the browser is about to ask, and ask on the user's press.
    Explain,
    /// The user blocked it: say how to allow it again.
    Blocked,
}

/// The pure rule. A page on this computer itself reaches the bridge without a question,
/// even though Chrome reports "prompt" there too (measured, Chromium 156).
pub fn before_bridge(permission: Permission, page_on_loopback: bool) -> Access {
    match permission {
        Permission::Denied => Access::Blocked,
        Permission::Prompt if !page_on_loopback => Access::Explain,
        Permission::Prompt | Permission::Granted | Permission::Unknown => Access::Go,
    }
}

/// Whether this host name is this computer (127.0.0.0/8, `localhost`, `[::1]`).
pub fn is_loopback_host(host: &str) -> bool {
    let octets: Vec<_> = host.split('.').collect();
    host == "localhost"
        || host == "[::1]"
        || (octets.len() == 4
            && octets[0] == "127"
            && octets.iter().all(|o| o.parse::<u8>().is_ok()))
}

pub fn page_on_loopback() -> bool {
    window()
        .location()
        .hostname()
        .is_ok_and(|host| is_loopback_host(&host))
}

/// The permission, by its current name (Chrome 145+ and Firefox: `loopback-network`)
/// or its first one (Chrome 142: `local-network-access`).
pub async fn permission() -> Permission {
    for name in ["loopback-network", "local-network-access"] {
        if let Some(state) = query(name).await {
            return state;
        }
    }
    Permission::Unknown
}

async fn query(name: &str) -> Option<Permission> {
    let permissions = window().navigator().permissions().ok()?;
    let descriptor = js_sys::Object::new();
    js_sys::Reflect::set(&descriptor, &"name".into(), &name.into()).ok()?;
    let status = JsFuture::from(permissions.query(&descriptor).ok()?)
        .await
        .ok()?
        .dyn_into::<PermissionStatus>()
        .ok()?;
    Some(match status.state() {
        PermissionState::Granted => Permission::Granted,
        PermissionState::Denied => Permission::Denied,
        _ => Permission::Prompt,
    })
}

/// The request that brings up the browser's question: the bridge's status, saying it
/// is meant for this computer (`targetAddressSpace`). Whether the bridge answered.
pub async fn ask(bridge: &Bridge) -> bool {
    let attempt = async {
        let headers = Headers::new()?;
        headers.set("Content-Type", "application/json")?;
        headers.set(BRIDGE_HEADER, BRIDGE_HEADER_VALUE)?;
        let init = RequestInit::new();
        init.set_method("GET");
        init.set_headers(&headers);
        js_sys::Reflect::set(&init, &"targetAddressSpace".into(), &"loopback".into())?;
        let url = format!("{}{PATH_STATUS}", bridge.base());
        JsFuture::from(window().fetch_with_str_and_init(&url, &init)).await?;
        Ok::<_, JsValue>(())
    };
    attempt.await.is_ok()
}

/// Which browser's settings to describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    Edge,
    Chrome,
    Firefox,
    Safari,
    Other,
}

impl Browser {
    pub fn from_user_agent(agent: &str) -> Self {
        if agent.contains("Edg/") {
            Self::Edge
        } else if agent.contains("Firefox/") {
            Self::Firefox
        } else if agent.contains("Chrome/") || agent.contains("Chromium/") {
            Self::Chrome
        } else if agent.contains("AppleWebKit/") {
            Self::Safari
        } else {
            Self::Other
        }
    }

    pub fn this_one() -> Self {
        Self::from_user_agent(&window().navigator().user_agent().unwrap_or_default())
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Edge => "Microsoft Edge",
            Self::Chrome => "Google Chrome",
            Self::Firefox => "Firefox",
            Self::Safari => "Safari",
            Self::Other => "your browser",
        }
    }

    /// How to allow this site again after the user blocked it.
    pub fn how_to_allow(self) -> &'static str {
        match self {
            Self::Chrome => {
                "Select the icon to the left of the web address (View site information), then \
                 Site settings. Find “Apps on this device” (it may be called “Local network \
                 access”) and choose Allow. Then reload this page."
            }
            Self::Edge => {
                "Select the padlock to the left of the web address, then Permissions for this \
                 site. Find “Apps on this device” (it may be called “Local network access”) and \
                 choose Allow. Then reload this page."
            }
            Self::Firefox => {
                "Select the permissions icon to the left of the web address and remove the \
                 blocked “Device apps and services” permission (the cross beside it). Then \
                 reload this page and choose Allow when Firefox asks."
            }
            Self::Safari | Self::Other => {
                "Open this browser's settings for this website and allow it to reach apps on \
                 this device (local network access). Then reload this page."
            }
        }
    }
}

/// Waits while the page explains or the user has blocked access, until the user allows
/// it (the button below, or the site settings) or lifts the block.
pub async fn wait_for_access(card: RwSignal<CardState>) {
    loop {
        gloo_timers::future::TimeoutFuture::new(1_000).await;
        match (card.get_untracked(), permission().await) {
            (CardState::AskLocalNetwork { .. }, Permission::Granted) => {
                card.set(CardState::Connecting);
                return;
            }
            (CardState::LocalNetworkBlocked, Permission::Denied)
            | (CardState::AskLocalNetwork { .. }, _) => {}
            _ => return,
        }
    }
}

/// The explanation before the browser asks, or the way back after a block; either way
/// with the button that makes the request on the user's press.
#[component]
pub fn LocalNetworkHelp(bridge: Bridge, card: RwSignal<CardState>) -> impl IntoView {
    let browser = Browser::this_one();
    let asking = RwSignal::new(false);
    let press = move |_| {
        let bridge = bridge.clone();
        asking.set(true);
        spawn_local(async move {
            let reached = ask(&bridge).await;
            asking.set(false);
            card.set(match (reached, permission().await) {
                (true, _) => CardState::Connecting,
                (false, Permission::Denied) => CardState::LocalNetworkBlocked,
                (false, _) => CardState::AskLocalNetwork { refused: true },
            });
        });
    };
    let blocked = move || matches!(card.get(), CardState::LocalNetworkBlocked);
    let refused = move || matches!(card.get(), CardState::AskLocalNetwork { refused: true });
    view! {
        <div class="app-local-network" id="local-network-help">
            {move || if blocked() {
                view! {
                    <p><strong>{format!("{} has blocked this page from your smartcard reader", browser.name())}</strong></p>
                    <p>
                        "This page reaches your smartcard through the card bridge, a small program \
                         on this computer. Your browser has been told not to let this website \
                         reach programs on this computer, so it cannot see your card."
                    </p>
                    <p>{browser.how_to_allow()}</p>
                    <p>"If your organisation manages your browser, your IT team can allow this website for everyone."</p>
                    <p class="reason-code">"Reason code: local_network_blocked"</p>
                }
                    .into_any()
            } else {
                view! {
                    <p><strong>"Your browser will ask to let this page reach your smartcard reader"</strong></p>
                    <p>
                        "This page reaches your smartcard through the card bridge, a small program \
                         on this computer. When you press Continue, "
                        {browser.name()}
                        " will ask whether this website may reach apps or devices on this \
                         computer or network. Choose Allow: the page only talks to the card \
                         bridge, and only while this page is open."
                    </p>
                    {move || refused().then(|| view! {
                        <p>"Your browser did not allow it. Press Continue and choose Allow when it asks."</p>
                    })}
                    <p class="reason-code">"Reason code: local_network_permission"</p>
                }
                    .into_any()
            }}
            <button
                type="button"
                class="nhsuk-button nhsuk-button--secondary"
                aria-disabled=move || asking.get().to_string()
                on:click=press
            >
                "Continue"
            </button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brg_7_a_public_page_explains_before_the_browser_asks() {
        assert_eq!(before_bridge(Permission::Prompt, false), Access::Explain);
        assert_eq!(before_bridge(Permission::Denied, false), Access::Blocked);
        assert_eq!(before_bridge(Permission::Denied, true), Access::Blocked);
        assert_eq!(before_bridge(Permission::Granted, false), Access::Go);
        // Safari has no such permission; a page on this computer is not asked about.
        assert_eq!(before_bridge(Permission::Unknown, false), Access::Go);
        assert_eq!(before_bridge(Permission::Prompt, true), Access::Go);
    }

    #[test]
    fn brg_7_loopback_hosts_are_this_computer_only() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "[::1]"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "127.0.0.1.example.com",
            "128.0.0.1",
            "selfservice.nhs.uk",
            "127.0.0.256",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn all_3_each_browser_gets_its_own_way_back() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
        let edge = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 Edg/156.0.0.0";
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0";
        let safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Safari/605.1.15";
        assert_eq!(Browser::from_user_agent(chrome), Browser::Chrome);
        assert_eq!(Browser::from_user_agent(edge), Browser::Edge);
        assert_eq!(Browser::from_user_agent(firefox), Browser::Firefox);
        assert_eq!(Browser::from_user_agent(safari), Browser::Safari);
        assert_ne!(
            Browser::Chrome.how_to_allow(),
            Browser::Firefox.how_to_allow()
        );
    }
}
