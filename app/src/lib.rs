//! The Smartcard Self-Service pages (Leptos, client-side rendered, WASM), talking to the
//! server (same origin, [`api`]) and to the card bridge on 127.0.0.1 (a different origin,
//! reached with CORS and a custom header, [`bridge`]). Errors are shown in plain language
//! with their stable reason code ([`errors`]).
//!
//! Issue 18: one WASM per audience (`src/bin/`), each starting here with only its own
//! pages ([`start_unlock`], [`start_account`], [`start_renew`], [`start_ra`]), so what one audience's page
//! never draws is never in its download: the unlock ([`unlock`]); sign-in, My card,
//! registration, "this wasn't me" and Check my setup ([`account`], [`setup_check`]); the
//! certificate renewal ([`start_renew`]); and the Registration Authority's console under `/ra` (RA-1…RA-6, [`ra`]). Which page a
//! path is comes from [`api_types::pages`], the table the server serves by too.

mod account;
pub mod api;
pub mod bridge;
mod card_check;
mod contact;
pub mod errors;
pub mod local_network;
mod location;
mod ra;
mod renewal_steps;
mod setup_check;
mod submit;
mod unlock;
mod widgets;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use api_types::pages::{Page, SETTINGS_ELEMENT_ID};
use api_types::unlock::{Config, PublicConfig};
use errors::{Problem, ProblemSummary};

/// The organisation's settings, as the server wrote them into the page
/// ([`SETTINGS_ELEMENT_ID`]): read once, before the first screen, with no round trip; the
/// RA console reads them too (the bridge that follows the RA's card, RA-5).
type Settings = Result<PublicConfig, Problem>;

/// What an entry draws for a page of its own; none for a page that is another's.
type Pages = fn(&Page, &Settings) -> Option<AnyView>;

/// The unlock page (and "not found" for any path we don't know).
pub fn start_unlock() {
    start(unlock_pages);
}

/// A cardholder's pages besides the unlock.
pub fn start_account() {
    start(account_pages);
}

/// The certificate renewal.
pub fn start_renew() {
    start(renew_pages);
}

/// The RA console.
pub fn start_ra() {
    start(ra_pages);
}

/// Every page in one WASM: only for `trunk serve` while working on the SPA (never built
/// by app/build.sh, never served by the server). Trunk's page has no settings in it, so
/// they are asked of the server first and written in as the server would have.
pub fn start_all() {
    leptos::task::spawn_local(async {
        if let Ok(config) = api::call::<Config>(&(), &()).await {
            let element = document().create_element("script");
            if let (Ok(element), Ok(json)) = (element, serde_json::to_string(&config)) {
                element.set_id(SETTINGS_ELEMENT_ID);
                element.set_text_content(Some(&json));
                let _ = document().body().map(|body| body.append_child(&element));
            }
        }
        start(|page, settings| {
            unlock_pages(page, settings)
                .or_else(|| account_pages(page, settings))
                .or_else(|| renew_pages(page, settings))
                .or_else(|| ra_pages(page, settings))
        });
    });
}

fn unlock_pages(page: &Page, settings: &Settings) -> Option<AnyView> {
    match page {
        Page::Unlock => Some(with_config(settings, |config| {
            view! { <unlock::Unlock config=config/> }.into_any()
        })),
        _ => None,
    }
}

fn account_pages(page: &Page, settings: &Settings) -> Option<AnyView> {
    let page: fn(PublicConfig) -> AnyView = match page {
        Page::SignIn => |config| view! { <account::SignIn config=config/> }.into_any(),
        Page::MyCard => |config| view! { <account::MyCard config=config/> }.into_any(),
        Page::Register => |config| view! { <account::Register config=config/> }.into_any(),
        Page::CheckSetup => |config| view! { <setup_check::SetupCheck config=config/> }.into_any(),
        Page::NotMe => return Some(view! { <account::NotMePage/> }.into_any()),
        _ => return None,
    };
    Some(with_config(settings, page))
}

fn renew_pages(page: &Page, settings: &Settings) -> Option<AnyView> {
    match page {
        Page::Renew => Some(with_config(settings, |config| {
            view! { <account::Renew config=config/> }.into_any()
        })),
        Page::Passcodes => Some(with_config(settings, |config| {
            view! { <account::ManagePasscodes config=config/> }.into_any()
        })),
        _ => None,
    }
}

fn ra_pages(page: &Page, _: &Settings) -> Option<AnyView> {
    Some(match page {
        Page::RaHome => view! { <ra::HomePage/> }.into_any(),
        Page::RaUser(_) => view! { <ra::UserPage/> }.into_any(),
        Page::RaAudit => view! { <ra::AuditPage/> }.into_any(),
        Page::RaReports => view! { <ra::ReportsPage/> }.into_any(),
        Page::RaHelpdesk => view! { <ra::HelpdeskPage/> }.into_any(),
        _ => return None,
    })
}

/// Mounts the page the address names, inside the service's header.
fn start(pages: Pages) {
    leptos::mount::mount_to_body(move || {
        let settings = settings_in_page();
        provide_context(settings.clone());
        let page = Page::from_path(&location::path())
            .and_then(|page| pages(&page, &settings))
            .unwrap_or_else(|| view! { <NotFound/> }.into_any());
        view! {
            <a class="nhsuk-skip-link" href="#maincontent">"Skip to main content"</a>
            <header class="nhsuk-header" role="banner">
                <div class="nhsuk-header__container nhsuk-width-container">
                    <div class="nhsuk-header__service">
                        <a class="nhsuk-header__service-logo" href="/" aria-label="Smartcard Self-Service homepage">
                            <span class="nhsuk-header__service-name app-service-name">
                                "Smartcard Self-Service"
                            </span>
                        </a>
                    </div>
                </div>
            </header>
            <div class="nhsuk-width-container">
                <main class="nhsuk-main-wrapper" id="maincontent" role="main">{page}</main>
            </div>
        }
    });
}

/// The settings the server wrote into the page; missing or unreadable, the server's
/// answer could not be read.
fn settings_in_page() -> Settings {
    document()
        .get_element_by_id(SETTINGS_ELEMENT_ID)
        .and_then(|element| element.text_content())
        .and_then(|json| serde_json::from_str(&json).ok())
        .ok_or_else(Problem::network)
}

/// `page` with the settings; settings that cannot be read are a page of their own.
fn with_config(config: &Settings, page: fn(PublicConfig) -> AnyView) -> AnyView {
    match config {
        Ok(config) => page(config.clone()),
        Err(problem) => unavailable(problem.clone()).into_any(),
    }
}

/// Moves keyboard and screen-reader focus to the new screen's heading.
pub(crate) fn focus_heading() {
    request_animation_frame(|| {
        let heading = document()
            .query_selector("main h1")
            .ok()
            .flatten()
            .and_then(|h| h.dyn_into::<leptos::web_sys::HtmlElement>().ok());
        if let Some(heading) = heading {
            let _ = heading.focus();
        }
    });
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <p>"If you typed the web address, check it is correct."</p>
        <p><a href="/unlock">"Unlock your smartcard"</a></p>
    }
}

/// The page when the organisation's settings cannot be read, in the same words as every
/// other problem.
fn unavailable(problem: Problem) -> impl IntoView {
    view! {
        <h1>"Smartcard Self-Service is not available"</h1>
        <ProblemSummary problem=problem/>
    }
}
