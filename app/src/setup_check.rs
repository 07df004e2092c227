//! "Check my setup" (ALL-3, BRG-1…BRG-7): everything between this browser and the card,
//! one line each — browser and secure context, local network access, the card bridge
//! over HTTPS and its version, its certificate, readers, the card, whether it is a PIV
//! card, its tries left, and its card-authentication key — each green, or with the plain
//! fix. Every bridge problem on the other pages links here.

use api_types::bridge::{
    certificate_due_for_renewal, BridgeStatus, SignChallengeRequest, SignChallengeResponse,
    PATH_SIGN_CHALLENGE, PATH_STATUS,
};
use api_types::time::utc_date;
use api_types::unlock::PublicConfig;
use api_types::values::Challenge;
use leptos::prelude::*;

use crate::bridge::Bridge;
use crate::local_network::{self, Browser, Permission};

#[component]
pub fn CheckSetupLink() -> impl IntoView {
    view! { <p><a href="/check-setup">"Check my setup"</a>" to see what is missing."</p> }
}

/// What the page found out, for [`lines`].
#[derive(Debug, Clone)]
pub struct Facts {
    pub browser: Browser,
    pub secure_context: bool,
    pub permission: Permission,
    pub page_on_loopback: bool,
    pub bridge_https: bool,
    /// `None`: the bridge did not answer.
    pub status: Option<BridgeStatus>,
    /// Whether the card signed with its card-authentication key (9E); `None` if not tried.
    pub card_auth_key: Option<bool>,
    pub now: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Ok,
    Fix,
    /// Not checked, because an earlier line needs fixing first.
    Waiting,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub id: &'static str,
    pub label: &'static str,
    pub mark: Mark,
    pub text: String,
}

fn line(id: &'static str, label: &'static str, mark: Mark, text: impl Into<String>) -> Line {
    Line {
        id,
        label,
        mark,
        text: text.into(),
    }
}

const IT_INSTALL: &str = "Ask your IT team to install the Smartcard Self-Service card bridge \
     (`card-bridge install`, then start it).";

/// The pure judgement, line by line.
pub fn lines(f: &Facts) -> Vec<Line> {
    use Mark::{Fix, Ok, Waiting};
    let mut out = vec![if f.secure_context {
        line(
            "browser",
            "Browser",
            Ok,
            format!("{}, on a secure (HTTPS) page", f.browser.name()),
        )
    } else {
        line(
            "browser",
            "Browser",
            Fix,
            "This page was not opened securely. Open it with an address that starts with https://.",
        )
    }];
    out.push(match f.permission {
        Permission::Denied => line(
            "local-network",
            "Local network access",
            Fix,
            format!("Blocked for this website. {}", f.browser.how_to_allow()),
        ),
        Permission::Prompt if !f.page_on_loopback && f.status.is_none() => line(
            "local-network",
            "Local network access",
            Fix,
            "Not allowed yet. Go to the start page, press Continue and choose Allow when your \
             browser asks.",
        ),
        Permission::Granted => line("local-network", "Local network access", Ok, "Allowed"),
        Permission::Prompt | Permission::Unknown => {
            line("local-network", "Local network access", Ok, "Not needed")
        }
    });
    let Some(status) = &f.status else {
        out.push(line(
            "bridge",
            "Card bridge",
            Fix,
            format!(
                "Not reached. Either it is not running, or this computer does not trust its \
                 certificate. {IT_INSTALL}"
            ),
        ));
        for (id, label) in [
            ("certificate", "Card bridge certificate"),
            ("readers", "Smartcard readers"),
            ("card", "Smartcard"),
        ] {
            out.push(line(
                id,
                label,
                Waiting,
                "Not checked: the card bridge comes first",
            ));
        }
        return out;
    };
    out.push(if f.bridge_https {
        line(
            "bridge",
            "Card bridge",
            Ok,
            format!("Running, version {}, over HTTPS", status.version),
        )
    } else {
        line(
            "bridge",
            "Card bridge",
            Fix,
            format!(
                "Running, version {}, but over plain HTTP: Safari and pages on the internet need \
                 it on HTTPS. {IT_INSTALL}",
                status.version
            ),
        )
    });
    out.push(match (f.bridge_https, status.certificate_expires_at) {
        (true, Some(end)) if certificate_due_for_renewal(end, f.now) => line(
            "certificate",
            "Card bridge certificate",
            Fix,
            format!(
                "Trusted, but it ends on {}. Ask your IT team to renew it (`card-bridge install`).",
                utc_date(end)
            ),
        ),
        (true, Some(end)) => line(
            "certificate",
            "Card bridge certificate",
            Ok,
            format!("Trusted by this browser, until {}", utc_date(end)),
        ),
        (true, None) => line(
            "certificate",
            "Card bridge certificate",
            Ok,
            "Trusted by this browser",
        ),
        (false, _) => line(
            "certificate",
            "Card bridge certificate",
            Fix,
            "None: the bridge is on plain HTTP",
        ),
    });
    out.push(if status.readers.is_empty() {
        line(
            "readers",
            "Smartcard readers",
            Fix,
            "None found. Plug in your smartcard reader.",
        )
    } else {
        let names: Vec<_> = status.readers.iter().map(|r| r.name.as_str()).collect();
        line("readers", "Smartcard readers", Ok, names.join(", "))
    });
    let card_in_reader = status.readers.iter().any(|r| r.card_present);
    match &status.card {
        None if !card_in_reader => {
            out.push(line(
                "card",
                "Smartcard",
                Fix,
                "No card. Insert your smartcard into the reader.",
            ));
        }
        None => {
            out.push(line("card", "Smartcard", Ok, "A card is in the reader"));
            out.push(line(
                "piv",
                "Smartcard type",
                Fix,
                "This card is not a smartcard this service knows (no PIV application). Check it \
                 is your NHS smartcard, the right way round.",
            ));
        }
        Some(card) => {
            out.push(line("card", "Smartcard", Ok, format!("In {}", card.reader)));
            out.push(line(
                "piv",
                "Smartcard type",
                Ok,
                format!("PIV card {}", card.guid),
            ));
            out.push(if card.pin_blocked {
                line(
                    "tries",
                    "Passcode tries left",
                    Fix,
                    "None: the passcode is locked. Unlock your smartcard from the start page.",
                )
            } else {
                line(
                    "tries",
                    "Passcode tries left",
                    Ok,
                    card.pin_tries_left.to_string(),
                )
            });
            out.push(match f.card_auth_key {
                Some(true) => line(
                    "card-auth-key",
                    "Card authentication key",
                    Ok,
                    "Present: the card can prove it is genuine",
                ),
                Some(false) => line(
                    "card-auth-key",
                    "Card authentication key",
                    Fix,
                    "Missing or not working, so self-service unlock cannot start. Contact your \
                     Registration Authority.",
                ),
                None => line(
                    "card-auth-key",
                    "Card authentication key",
                    Waiting,
                    "Not checked",
                ),
            });
        }
    }
    out
}

/// Asks the card to sign a random challenge with its card-authentication key (9E, no
/// passcode needed): whether it could.
async fn card_auth_key_works(bridge: &Bridge) -> bool {
    let mut challenge = [0u8; 32];
    let filled = window()
        .crypto()
        .and_then(|crypto| crypto.get_random_values_with_u8_array(&mut challenge));
    if filled.is_err() {
        return false;
    }
    let request = SignChallengeRequest {
        challenge: Challenge::from_bytes(challenge),
        expected_guid: None,
    };
    bridge
        .post::<_, SignChallengeResponse>(PATH_SIGN_CHALLENGE, &request)
        .await
        .is_ok()
}

async fn gather(bridge: Bridge) -> Facts {
    let permission = local_network::permission().await;
    let status = bridge.get::<BridgeStatus>(PATH_STATUS).await.ok();
    let card_auth_key = match status.as_ref().and_then(|s| s.card.as_ref()) {
        Some(_) => Some(card_auth_key_works(&bridge).await),
        None => None,
    };
    Facts {
        browser: Browser::this_one(),
        secure_context: window().is_secure_context(),
        permission,
        page_on_loopback: local_network::page_on_loopback(),
        bridge_https: bridge.base().starts_with("https://"),
        status,
        card_auth_key,
        now: (js_sys::Date::now() / 1000.0) as i64,
    }
}

#[component]
pub fn SetupCheck(config: PublicConfig) -> impl IntoView {
    let bridge = Bridge::new(&config.bridge_url);
    let facts = LocalResource::new(move || gather(bridge.clone()));
    view! {
        <h1 tabindex="-1">"Check my setup"</h1>
        <p>"This page checks everything Smartcard Self-Service needs on this computer, from this browser to your smartcard."</p>
        <Suspense fallback=|| view! { <p role="status" aria-live="polite">"Checking this computer and your smartcard…"</p> }>
            {move || Suspend::new(async move {
                let found = lines(&facts.await);
                let all_ok = found.iter().all(|l| l.mark == Mark::Ok);
                view! {
                    <p id="setup-summary" role="status">
                        {if all_ok { "Everything is ready." } else { "Something needs fixing: see below." }}
                    </p>
                    <dl class="nhsuk-summary-list" id="setup-check">
                        {found.into_iter().map(|l| view! {
                            <div class="nhsuk-summary-list__row" id=format!("check-{}", l.id)>
                                <dt class="nhsuk-summary-list__key">{l.label}</dt>
                                <dd class="nhsuk-summary-list__value">
                                    {match l.mark {
                                        Mark::Ok => view! { <strong class="nhsuk-tag nhsuk-tag--green">"OK"</strong> }.into_any(),
                                        Mark::Fix => view! { <strong class="nhsuk-tag nhsuk-tag--red">"Fix"</strong> }.into_any(),
                                        Mark::Waiting => view! { <strong class="nhsuk-tag nhsuk-tag--grey">"Waiting"</strong> }.into_any(),
                                    }}
                                    " "
                                    <span class="app-check-text">{l.text}</span>
                                </dd>
                            </div>
                        }).collect_view()}
                    </dl>
                }
            })}
        </Suspense>
        <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=move |_| facts.refetch()>
            "Check again"
        </button>
        <p><a href="/">"Back to Smartcard Unlock"</a></p>
    }
}

#[cfg(test)]
mod tests {
    use api_types::bridge::{CardInfo, ReaderInfo};

    use super::*;

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = 86_400;

    fn ready() -> Facts {
        Facts {
            browser: Browser::Firefox,
            secure_context: true,
            permission: Permission::Unknown,
            page_on_loopback: false,
            bridge_https: true,
            status: Some(BridgeStatus {
                version: "1".into(),
                backend: "pcsc".into(),
                readers: vec![ReaderInfo {
                    name: "Reader 0".into(),
                    card_present: true,
                }],
                card: Some(CardInfo {
                    reader: "Reader 0".into(),
                    guid: api_types::CardGuid::from_bytes([0; 16]),
                    pin_tries_left: 3,
                    pin_blocked: false,
                }),
                certificate_expires_at: Some(NOW + 200 * DAY),
            }),
            card_auth_key: Some(true),
            now: NOW,
        }
    }

    fn marks(f: &Facts) -> Vec<(&'static str, Mark)> {
        lines(f).into_iter().map(|l| (l.id, l.mark)).collect()
    }

    fn mark(f: &Facts, id: &str) -> Mark {
        lines(f)
            .into_iter()
            .find(|l| l.id == id)
            .map(|l| l.mark)
            .unwrap()
    }

    #[test]
    fn all_3_a_ready_computer_is_green_on_every_line() {
        let found = marks(&ready());
        assert_eq!(found.len(), 9);
        assert!(found.iter().all(|(_, m)| *m == Mark::Ok), "{found:?}");
    }

    #[test]
    fn brg_7_each_missing_piece_is_its_own_fix() {
        let mut f = ready();
        f.permission = Permission::Denied;
        assert_eq!(mark(&f, "local-network"), Mark::Fix);

        let mut f = ready();
        f.status = None;
        assert_eq!(mark(&f, "bridge"), Mark::Fix);
        assert_eq!(mark(&f, "card"), Mark::Waiting);

        let mut f = ready();
        f.bridge_https = false;
        assert_eq!(mark(&f, "bridge"), Mark::Fix);
        assert_eq!(mark(&f, "certificate"), Mark::Fix);

        let mut f = ready();
        f.status.as_mut().unwrap().certificate_expires_at = Some(NOW + 10 * DAY);
        assert_eq!(mark(&f, "certificate"), Mark::Fix);

        let mut f = ready();
        f.status
            .as_mut()
            .unwrap()
            .card
            .as_mut()
            .unwrap()
            .pin_blocked = true;
        assert_eq!(mark(&f, "tries"), Mark::Fix);

        let mut f = ready();
        f.card_auth_key = Some(false);
        assert_eq!(mark(&f, "card-auth-key"), Mark::Fix);

        let mut f = ready();
        f.status.as_mut().unwrap().card = None;
        assert_eq!(mark(&f, "card"), Mark::Ok);
        assert_eq!(mark(&f, "piv"), Mark::Fix);
        f.status.as_mut().unwrap().readers[0].card_present = false;
        assert_eq!(mark(&f, "card"), Mark::Fix);

        let mut f = ready();
        f.secure_context = false;
        assert_eq!(mark(&f, "browser"), Mark::Fix);
    }

    #[test]
    fn brg_7_a_public_page_not_yet_allowed_is_told_how() {
        let mut f = ready();
        f.permission = Permission::Prompt;
        f.status = None;
        assert_eq!(mark(&f, "local-network"), Mark::Fix);
        f.page_on_loopback = true;
        assert_eq!(mark(&f, "local-network"), Mark::Ok);
    }
}
