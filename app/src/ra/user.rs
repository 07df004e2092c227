//! One user's page (RA-2): who they are, their role and contact details, their
//! registration and why self-service is closed, their cards (certificate expiry, the
//! passcode tries as last seen), a live phone code, and their security events (RA-4),
//! with the RA's actions on the account (RA-3, [`super::actions`]). The record is loaded
//! again after every action.

use api_types::auth::SessionInfo;
use api_types::pages::Page;
use api_types::policy::RenewalDue;
use api_types::ra::{CardRecord, Locks, Role, UserRecord, UserUuid, ViewUser};
use api_types::time::utc_date;
use leptos::prelude::*;

use super::card::RaCard;
use super::desk_renewal::DeskRenewalStatus;
use super::{actions, console, events_table, loading, nav, not_loaded, role_name, Desk};
use crate::api;
use crate::widgets::{minute, row, table_head};

/// `/ra/users/:uuid`.
#[component]
pub fn UserPage() -> impl IntoView {
    console(|me| view! { <ByUuid me=me/> }.into_any())
}

/// The user the address names; a malformed UUID is nobody.
#[component]
fn ByUuid(me: SessionInfo) -> impl IntoView {
    let uuid = match Page::from_path(&crate::location::path()) {
        Some(Page::RaUser(uuid)) => uuid,
        _ => String::new(),
    };
    match UserUuid::parse(&uuid) {
        Ok(uuid) => view! { <User me=me uuid=uuid/> }.into_any(),
        Err(_) => view! {
            {nav("")}
            <h1 tabindex="-1">"User not found"</h1>
            <p>"A UUID is 12 digits. Check the address, or find the user from the RA console."</p>
        }
        .into_any(),
    }
}

#[component]
fn User(me: SessionInfo, uuid: UserUuid) -> impl IntoView {
    let desk = Desk::new();
    let user = uuid.clone();
    let record = LocalResource::new(move || {
        desk.version.track();
        let user = user.clone();
        async move { api::call::<ViewUser>(&user, &()).await }
    });
    let manager = me.role == Role::RaManager;
    let uuid = StoredValue::new(uuid);
    view! {
        {nav("")}
        {desk.banners()}
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                match record.await {
                    Ok(found) => page(desk, manager, uuid.get_value(), found).into_any(),
                    Err(problem) => view! {
                        <h1 tabindex="-1">"User not found"</h1>
                        {not_loaded("ra-user-problem", "", problem)}
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// RA-2: why self-service is closed, in words.
fn self_service(locks: &Locks) -> String {
    if !locks.self_service_closed {
        return if locks.recovery_locked {
            "Open, but not the Account Recovery route: 5 wrong Account Recovery details".to_owned()
        } else {
            "Open".to_owned()
        };
    }
    let mut why = Vec::new();
    if locks.recovery_locked {
        why.push("5 wrong Account Recovery details".to_owned());
    }
    if locks.questions_locked {
        why.push("3 wrong answers to the security questions".to_owned());
    }
    if locks.code_locked {
        why.push("too many wrong unlock codes".to_owned());
    }
    match locks.open_reports {
        0 => {}
        1 => why.push("1 open \"this wasn't me\" report".to_owned()),
        n => why.push(format!("{n} open \"this wasn't me\" reports")),
    }
    if why.is_empty() {
        "Closed".to_owned()
    } else {
        format!("Closed: {}", why.join("; "))
    }
}

fn page(desk: Desk, manager: bool, uuid: UserUuid, record: UserRecord) -> impl IntoView {
    let UserRecord {
        summary,
        mobile,
        locks,
        cards,
        phone_code,
        events,
    } = record;
    let name = summary.display_name.clone();
    let failures = format!(
        "Wrong answers to the security questions: {}; wrong unlock codes: {}",
        locks.answer_failures, locks.code_failures
    );
    let audit_link = format!("/ra/audit?user={}", uuid.as_str());
    // RA-3 / CERT-4: the card whose renewal the RA may do at the desk.
    let due_card = cards
        .iter()
        .find(|card| !matches!(card.renewal, RenewalDue::NotDue))
        .map(|card| card.guid);
    let desk_status = use_context::<RaCard>().map(|ra| view! { <DeskRenewalStatus ra=ra/> });
    let caption = format!("Security events of {name}, newest first");
    view! {
        <span class="nhsuk-caption-l">"User"</span>
        <h1 tabindex="-1">{name.clone()}</h1>
        <dl class="nhsuk-summary-list" id="ra-user">
            {row("Name", "ra-user-name", name)}
            {row("UUID", "ra-user-uuid", summary.uuid.as_str().to_owned())}
            {row("Role", "ra-user-role", role_name(summary.role).to_owned())}
            {row("Email", "ra-user-email", summary.email.clone())}
            {row("Mobile", "ra-user-mobile", mobile.clone().unwrap_or_else(|| "None".into()))}
            {row("Registered for self-service", "ra-user-registered",
                if summary.registered { "Yes" } else { "No" }.to_owned())}
            {row("Self-service unlock", "ra-user-self-service", self_service(&locks))}
            {row("Passcodes", "ra-user-passcodes", if locks.passcodes_locked {
                "Locked: expired and not changed in time".to_owned()
            } else {
                "In date, or within the time to change them".to_owned()
            })}
            {row("Failed tries", "ra-user-failures", failures)}
        </dl>
        {cards_table(cards)}
        {phone_code.map(|code| view! {
            <div class="nhsuk-inset-text" id="ra-live-phone-code">
                <span class="nhsuk-u-visually-hidden">"Information: "</span>
                <p>
                    {format!(
                        "A code given by phone is waiting to be used: it expires at {} UTC, with \
                         {} {} left.",
                        minute(code.expires_at),
                        code.tries_left,
                        if code.tries_left == 1 { "try" } else { "tries" },
                    )}
                </p>
            </div>
        })}
        {desk_status}
        {actions::actions(desk, manager, uuid, &summary, (mobile, due_card), (locks.self_service_closed || locks.recovery_locked, locks.passcodes_locked))}
        <h2>"Security events"</h2>
        {events_table("ra-events", caption, events, false)}
        <p><a href=audit_link id="ra-user-audit-link">"All events in the audit trail"</a></p>
    }
}

/// CERT-2 / CERT-4: the renewals used in a row, and what is due.
fn renewals(in_a_row: i64, due: RenewalDue) -> String {
    let due = match due {
        RenewalDue::NotDue => "not due",
        RenewalDue::Offered { .. } => "self-service renewal offered",
        RenewalDue::Forced { .. } => "renewal forced at the next sign-in",
        RenewalDue::ByRa { .. } => "the RA renews at the desk",
    };
    format!("{in_a_row} in a row by self-service; {due}")
}

fn cards_table(cards: Vec<CardRecord>) -> impl IntoView {
    let cell = |text: String| view! { <td class="nhsuk-table__cell">{text}</td> };
    view! {
        <div class="app-table-scroll" role="region" aria-label="Smartcards" tabindex="0">
            <table class="nhsuk-table" id="ra-cards">
                <caption class="nhsuk-table__caption">"Smartcards"</caption>
                {table_head(["GUID", "Issued", "Certificate expires", "Renewals", "Passcode tries left, as last seen"])}
                <tbody class="nhsuk-table__body">
                    {cards.into_iter().map(|card| {
                        let tries = match (card.pin_tries_left, card.pin_tries_seen_at) {
                            (Some(n), Some(at)) => format!("{n} (seen {} UTC)", minute(at)),
                            (Some(n), None) => n.to_string(),
                            (None, _) => "Not known".to_owned(),
                        };
                        view! {
                            <tr class="nhsuk-table__row">
                                {cell(card.guid.to_hex())}
                                {cell(utc_date(card.issued_at))}
                                {cell(card.certificate_expires_at.map(utc_date).unwrap_or_else(|| "No certificate".into()))}
                                {cell(renewals(card.renewals_in_a_row, card.renewal))}
                                {cell(tries)}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_2_the_page_says_why_self_service_is_closed() {
        let open = Locks {
            self_service_closed: false,
            questions_locked: false,
            code_locked: false,
            open_reports: 0,
            answer_failures: 1,
            code_failures: 0,
            passcodes_locked: false,
            recovery_locked: false,
        };
        assert_eq!(self_service(&open), "Open");
        let closed = Locks {
            self_service_closed: true,
            questions_locked: true,
            open_reports: 2,
            ..open.clone()
        };
        assert_eq!(
            self_service(&closed),
            "Closed: 3 wrong answers to the security questions; 2 open \"this wasn't me\" reports"
        );
        let bare = Locks {
            self_service_closed: true,
            ..open
        };
        assert_eq!(self_service(&bare), "Closed");
    }
}
