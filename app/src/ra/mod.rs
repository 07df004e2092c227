//! The Registration Authority console (RA-1…RA-4), one module per page: find a user and
//! the users at risk ([`home`]), one user's cards, locks, events and the RA's actions
//! ([`user`], [`actions`]), the audit trail with its chain check and CSV export
//! ([`audit`]), and the "this wasn't me" queue ([`reports`]); the actions share
//! [`desk`].
//!
//! RA-1: every page first asks the server who is signed in; without a session it links
//! to sign in (and back), and a session without an RA role gets no console. The role
//! only shapes the page: the server checks it on every call. Codes, not sentences, come
//! from the server; the words are here and in [`crate::errors`].

mod actions;
mod audit;
mod card;
mod desk;
mod desk_renewal;
mod helpdesk;
mod home;
mod reports;
mod user;

use api_types::auth::{Session, SessionInfo};
use api_types::endpoint::percent_encode;
use api_types::policy::RenewalDue;
use api_types::ra::{AuditRecord, Role, UserUuid};
use api_types::unlock::PublicConfig;
use api_types::ErrorCode;
use leptos::prelude::*;

use crate::api;
use crate::errors::{Flow, Problem, ProblemSummary};
use crate::widgets::{minute, table_head};

use self::card::RaCard;
use self::desk::{post_done, reason, Desk, Did, ReasonField};

pub use audit::AuditPage;
pub use helpdesk::HelpdeskPage;
pub use home::HomePage;
pub use reports::ReportsPage;
pub use user::UserPage;

fn loading() -> impl IntoView {
    view! { <p aria-live="polite">"Loading…"</p> }
}

/// RA-1: the page for a signed-in RA; else why not, and where to go. RA-5: while it is
/// open it follows the RA's card, and ends the session when the card leaves.
/// One function for every page (not generic): the wasm carries this once.
fn console(page: fn(SessionInfo) -> AnyView) -> impl IntoView {
    let session = LocalResource::new(|| api::call::<Session>(&(), &()));
    let config = expect_context::<Result<PublicConfig, Problem>>();
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new({
                let config = config.clone();
                async move {
                match (session.await, config) {
                    // CERT-2: a forced renewal comes before the console too.
                    (Ok(me), _) if matches!(me.renewal, RenewalDue::Forced { .. }) => {
                        let _ = window().location().replace("/renew");
                        loading().into_any()
                    }
                    (Ok(me), _) if !me.role.is_ra() => no_access().into_any(),
                    (Ok(me), Ok(config)) => {
                        let ra = RaCard::follow(&config, me.card_guid);
                        provide_context(ra);
                        (move || {
                            if ra.ended.get() {
                                card::ended().into_any()
                            } else {
                                page(me.clone())
                            }
                        })
                        .into_any()
                    }
                    (Err(problem), _) if problem.is(ErrorCode::NotSignedIn) => {
                        sign_in_first().into_any()
                    }
                    (Err(problem), _) | (Ok(_), Err(problem)) => view! {
                        <h1 tabindex="-1">"The RA console is not available"</h1>
                        <ProblemSummary problem=problem/>
                    }
                    .into_any(),
                }
                }
            })}
        </Suspense>
    }
}

/// What could not be loaded, the problem in words and its reason code (the error summary
/// is kept for the page's forms).
fn not_loaded(id: &'static str, what: &'static str, problem: Problem) -> impl IntoView {
    let problem = in_console_words(problem);
    view! {
        <p id=id>{format!("{what}{}", problem.message)}</p>
        <p class="reason-code">"Reason code: " {problem.code.as_str()}</p>
    }
}

/// Without a session: sign in with your own card (RA-1), then back to this page.
fn sign_in_first() -> impl IntoView {
    let location = window().location();
    let here = format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    );
    view! {
        <h1 tabindex="-1">"You are not signed in"</h1>
        <p>"The RA console is for the Registration Authority team. Sign in with your own smartcard to use it."</p>
        <p>
            <a href=format!("/login?next={}", percent_encode(&here, b"-._~/")) id="sign-in-link">
                "Sign in with your smartcard"
            </a>
        </p>
    }
}

fn no_access() -> impl IntoView {
    view! {
        <h1 tabindex="-1">"You do not have access to the RA console"</h1>
        <p>
            "The RA console is for Registration Authority agents and managers. If you need it \
             for your work, ask an RA manager."
        </p>
        <p><a href="/my-card" id="my-card-link">"Go to My card"</a></p>
    }
}

/// The console's pages, the current one marked.
fn nav(current: &'static str) -> impl IntoView {
    let pages = [
        ("/ra", "ra-home-link", "Find a user"),
        ("/ra/audit", "ra-audit-link", "Audit trail"),
        (
            "/ra/reports",
            "ra-reports-link",
            "\"This wasn't me\" reports",
        ),
    ];
    view! {
        <nav aria-label="RA console">
            <ul class="nhsuk-list">
                {pages.into_iter().map(|(href, id, text)| view! {
                    <li>
                        <a href=href id=id aria-current=(href == current).then_some("page")>{text}</a>
                    </li>
                }).collect_view()}
            </ul>
        </nav>
    }
}

/// A link to one user's page.
fn user_link(uuid: &UserUuid, text: String) -> impl IntoView {
    let href = format!("/ra/users/{}", uuid.as_str());
    view! { <a href=href>{text}</a> }
}

/// A role in words (RA-1).
fn role_name(role: Role) -> &'static str {
    match role {
        Role::Staff => "Staff",
        Role::RaAgent => "RA agent",
        Role::RaManager => "RA manager",
        Role::Helpdesk => "Helpdesk",
    }
}

/// Security events as a table (RA-4): with each event's user and card when `subjects`
/// (the audit trail), without them on one user's page.
fn events_table(
    id: &'static str,
    caption: String,
    events: Vec<AuditRecord>,
    subjects: bool,
) -> impl IntoView {
    let heads = ["Time (UTC)", "Actor", "Action", "Outcome"]
        .into_iter()
        .chain(subjects.then_some(["User", "Card"]).into_iter().flatten())
        .chain(["Client address", "Detail"]);
    let cell = |text: String| view! { <td class="nhsuk-table__cell">{text}</td> };
    let region = caption.clone();
    view! {
        <div class="app-table-scroll" role="region" aria-label=region tabindex="0">
            <table class="nhsuk-table" id=id>
                <caption class="nhsuk-table__caption">{caption}</caption>
                {table_head(heads)}
                <tbody class="nhsuk-table__body">
                    {events.into_iter().map(|e| view! {
                        <tr class="nhsuk-table__row" data-seq=e.seq.to_string()>
                            {cell(minute(e.at))}
                            {cell(e.actor)}
                            {cell(e.action.as_str().to_owned())}
                            {cell(e.outcome)}
                            {subjects.then(|| view! {
                                <td class="nhsuk-table__cell">
                                    {e.user_uuid.and_then(|text| UserUuid::parse(&text).ok())
                                        .map(|uuid| user_link(&uuid, uuid.as_str().to_owned()))}
                                </td>
                                {cell(e.card_guid.unwrap_or_default())}
                            })}
                            {cell(e.client_addr.unwrap_or_default())}
                            {cell(e.detail)}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Which notice email a "this wasn't me" report came from, in words.
fn notice_name(notice: &str) -> String {
    match notice {
        "unlock" => "Smartcard unlocked".to_owned(),
        "registration" => "Registered for self-service".to_owned(),
        "contact" => "Contact details changed".to_owned(),
        "renewal" => "Certificates renewed".to_owned(),
        other => other.to_owned(),
    }
}

/// A problem in the console's words (the reader is the RA, [`Flow::Ra`]), an address
/// off the approved domains beside the contact form's email input.
fn in_console_words(problem: Problem) -> Problem {
    let problem = problem.in_flow(Flow::Ra);
    if problem.is(ErrorCode::EmailNotApproved) && problem.field.is_none() {
        problem.on_field(actions::CONTACT_EMAIL_FIELD)
    } else {
        problem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_3_refusals_speak_to_the_ra() {
        let gone = in_console_words(Problem::from_code(ErrorCode::NotFound));
        assert!(gone.message.contains("could not be found"));
        let mail = in_console_words(Problem::from_code(ErrorCode::EmailNotApproved));
        assert_eq!(mail.field, Some(actions::CONTACT_EMAIL_FIELD));
        let own = in_console_words(Problem::from_code(ErrorCode::OwnAccount));
        assert_eq!(own, Problem::from_code(ErrorCode::OwnAccount));
    }
}
