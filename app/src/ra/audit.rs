//! The audit trail (RA-4): every security event (who, what, when, from where, outcome),
//! filtered by user, card, action, outcome, client address and dates (UTC days), newest
//! first, a page at a time; whether the trail's chains verify (tamper evidence); and the
//! same filters as a CSV download. `?user=UUID` in the page's address fills in the user.

use std::net::IpAddr;

use api_types::ra::{
    ActionFilter, Audit as Search, AuditCsv, AuditFilter, AuditPage as Page, AuditRecord,
    ChainState, OutcomeWord, UserUuid,
};
use api_types::time::parse_utc_date;
use api_types::CardGuid;
use api_types::Endpoint;
use api_types::ErrorCode;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::{console, events_table, nav};
use crate::api;
use crate::errors::{FieldError, Problem, ProblemSummary};
use crate::submit::{Screens, Submit};
use crate::widgets::{warning_callout, Field};

const USER: &str = "audit-user";
const CARD: &str = "audit-card";
const ACTION: &str = "audit-action";
const OUTCOME: &str = "audit-outcome";
const CLIENT: &str = "audit-client";
const FROM: &str = "audit-from";
const TO: &str = "audit-to";

/// `/ra/audit`.
#[component]
pub fn AuditPage() -> impl IntoView {
    console(|_| view! { <Audit/> }.into_any())
}

/// The filters as typed: user, card, action, outcome, client, from, to.
type Typed = [String; 7];

/// RA-4: the filters to send, or what is wrong with each input. `to` is the whole of
/// its day: the server's `to` is exclusive.
fn filter(typed: &Typed) -> Result<AuditFilter, Vec<FieldError>> {
    let [user, card, action, outcome, client, from, to] =
        typed.clone().map(|t| t.trim().to_owned());
    let mut errors = Vec::new();
    let mut refuse = |field, message: &str| {
        errors.push(FieldError {
            field,
            message: message.to_owned(),
        });
    };
    // Each input as the server reads it: empty is "any"; anything else must parse.
    let mut parsed = |field, text: &str, parse: &dyn Fn(&str) -> bool, message: &str| {
        let ok = text.is_empty() || parse(text);
        if !ok {
            refuse(field, message);
        }
        ok && !text.is_empty()
    };
    let given = [
        parsed(
            USER,
            &user,
            &|t| UserUuid::parse(t).is_ok(),
            "A UUID is 12 digits.",
        ),
        parsed(
            CARD,
            &card,
            &|t| CardGuid::parse(t).is_ok(),
            "A card's GUID is 32 hex characters.",
        ),
        parsed(
            ACTION,
            &action,
            &|t| ActionFilter::parse(t).is_ok(),
            "Enter an action like unlock.answers, or unlock. for every step of the unlock.",
        ),
        parsed(
            OUTCOME,
            &outcome,
            &|t| OutcomeWord::parse(t).is_ok(),
            "An outcome is a word like ok or wrong_answers.",
        ),
        parsed(
            CLIENT,
            &client,
            &|t| t.parse::<IpAddr>().is_ok(),
            "Enter an IP address, like 192.0.2.10.",
        ),
    ];
    let mut day = |field, text: &str| match (text.is_empty(), parse_utc_date(text)) {
        (true, _) => None,
        (false, Some(start)) => Some(start),
        (false, None) => {
            refuse(field, "Enter a real date, for example 2026-11-23.");
            None
        }
    };
    let from = day(FROM, &from);
    let to = day(TO, &to).map(|start| start + 86_400);
    if let (Some(from), Some(to)) = (from, to) {
        if to <= from {
            refuse(
                TO,
                "The end date must be the same as or after the start date.",
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let [user_given, card_given, action_given, outcome_given, client_given] = given;
    Ok(AuditFilter {
        user: user_given.then(|| UserUuid::parse(&user).ok()).flatten(),
        card: card_given.then(|| CardGuid::parse(&card).ok()).flatten(),
        action: action_given
            .then(|| ActionFilter::parse(&action).ok())
            .flatten(),
        outcome: outcome_given
            .then(|| OutcomeWord::parse(&outcome).ok())
            .flatten(),
        client: client_given.then(|| client.parse().ok()).flatten(),
        from,
        to,
        before: None,
    })
}

/// The trail as shown: the filters of the first page, the events so far, where the next
/// page starts, and the chain check of the first page.
#[derive(Clone, Copy)]
struct Trail {
    problem: RwSignal<Option<Problem>>,
    applied: RwSignal<Option<AuditFilter>>,
    events: RwSignal<Vec<AuditRecord>>,
    next_before: RwSignal<Option<i64>>,
    chain: RwSignal<Option<ChainState>>,
}

impl Screens for Trail {
    type Step = (AuditFilter, Page);

    fn problem(&self) -> RwSignal<Option<Problem>> {
        self.problem
    }

    fn advance(&self, (filter, page): (AuditFilter, Page)) {
        self.problem.set(None);
        self.next_before.set(page.next_before);
        if filter.before.is_some() {
            self.events.update(|events| events.extend(page.events));
        } else {
            self.events.set(page.events);
            self.chain.set(page.chain);
            self.applied.set(Some(filter));
        }
    }

    fn fail(&self, problem: Problem) {
        self.problem.set(Some(super::in_console_words(problem)));
    }
}

#[component]
fn Audit() -> impl IntoView {
    let trail = Trail {
        problem: RwSignal::new(None),
        applied: RwSignal::new(None),
        events: RwSignal::new(Vec::new()),
        next_before: RwSignal::new(None),
        chain: RwSignal::new(None),
    };
    let prefill = crate::location::query("user").unwrap_or_default();
    let typed: [RwSignal<String>; 7] = std::array::from_fn(|i| {
        RwSignal::new(if i == 0 {
            prefill.clone()
        } else {
            String::new()
        })
    });
    let send = Submit::new(
        trail,
        "Searching the audit trail…",
        |filter: &AuditFilter| {
            let filter = filter.clone();
            async move {
                let page = api::call::<Search>(&(), &filter).await?;
                Ok((filter, page))
            }
        },
    );
    let search = move || {
        send.dispatch(|| {
            filter(&typed.map(|t| t.get_untracked()))
                .map_err(|errors| Problem::from_code(ErrorCode::BadRequest).on_fields(errors))
        });
    };
    search();
    let older = move |_| {
        let (Some(filter), Some(before)) = (
            trail.applied.get_untracked(),
            trail.next_before.get_untracked(),
        ) else {
            return;
        };
        send.dispatch(|| {
            Ok(AuditFilter {
                before: Some(before),
                ..filter
            })
        });
    };
    let [user, card, action, outcome, client, from, to] = typed;
    view! {
        {nav("/ra/audit")}
        {move || trail.problem.get().map(|problem| view! { <ProblemSummary problem=problem/> })}
        <h1 tabindex="-1">"Audit trail"</h1>
        <form on:submit=move |ev: SubmitEvent| { ev.prevent_default(); search(); } novalidate>
            {Field::new(USER, "User UUID").view(trail.problem, user)}
            {Field::new(CARD, "Card GUID").view(trail.problem, card)}
            {Field::new(ACTION, "Action")
                .hint("audit-action-hint", "For example unlock.answers, or unlock. for every step of the unlock.")
                .view(trail.problem, action)}
            {Field::new(OUTCOME, "Outcome")
                .hint("audit-outcome-hint", "ok, or a reason code such as wrong_answers.")
                .view(trail.problem, outcome)}
            {Field::new(CLIENT, "Client address").view(trail.problem, client)}
            {Field::new(FROM, "From (UTC)").kind("date").view(trail.problem, from)}
            {Field::new(TO, "To (UTC, including that day)").kind("date").view(trail.problem, to)}
            {send.status_line("audit-progress")}
            <button type="submit" id="audit-search-button" class="nhsuk-button">"Search"</button>
        </form>
        {move || trail.chain.get().map(chain_state)}
        {move || trail.applied.get().map(|filter| {
            // A download, not JSON: the page links to it.
            let csv = AuditCsv::target(&(), &filter).ok().map(|csv| view! {
                <p><a href=csv id="audit-csv" download>"Download as CSV"</a></p>
            });
            let events = trail.events.get();
            let none = events.is_empty().then(|| view! {
                <p id="audit-none">"No events match these filters."</p>
            });
            view! {
                {csv}
                {events_table("audit-results", "Security events, newest first".to_owned(), events, true)}
                {none}
            }
        })}
        {move || trail.next_before.get().map(|_| view! {
            <button type="button" id="audit-older" class="nhsuk-button nhsuk-button--secondary"
                on:click=older>
                "Older events"
            </button>
        })}
    }
}

/// RA-4: how far the trail is verified intact, or where it broke (a warning).
fn chain_state(state: ChainState) -> impl IntoView {
    match state {
        ChainState::Intact { rows, unchecked } => view! {
            <div class="nhsuk-inset-text">
                <span class="nhsuk-u-visually-hidden">"Information: "</span>
                <p id="chain-state">{intact_words(rows, unchecked)}</p>
            </div>
        }
        .into_any(),
        ChainState::Broken { seq, chain, reason } => {
            let at = seq
                .map(|seq| format!(" at event #{seq}"))
                .unwrap_or_default();
            view! {
                {warning_callout("The audit trail has been changed", view! {
                    <p id="chain-state">{format!("Audit trail BROKEN{at} (chain {chain}): {reason}")}</p>
                })}
            }
            .into_any()
        }
    }
}

fn intact_words(rows: u64, unchecked: u64) -> String {
    match unchecked {
        0 => format!("Audit trail verified: {rows} events, every chain intact"),
        _ => format!(
            "Audit trail verified up to {rows} events, every chain intact so far; \
             {unchecked} newer events not checked yet"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(user: &str, from: &str, to: &str) -> Typed {
        let mut typed = Typed::default();
        typed[0] = user.to_owned();
        typed[2] = " unlock. ".to_owned();
        typed[5] = from.to_owned();
        typed[6] = to.to_owned();
        typed
    }

    // The console's end-to-end test looks for "verified" whether or not the background
    // check has caught up.
    #[test]
    fn ra_4_the_page_says_how_far_the_trail_is_verified() {
        assert_eq!(
            intact_words(12, 0),
            "Audit trail verified: 12 events, every chain intact"
        );
        let behind = intact_words(1_000, 999_000);
        assert!(behind.contains("verified up to 1000 events"), "{behind}");
        assert!(
            behind.contains("999000 newer events not checked yet"),
            "{behind}"
        );
    }

    #[test]
    fn ra_4_dates_are_whole_utc_days_and_the_filters_are_checked() {
        let found = filter(&typed("123456789012", "2026-11-23", "2026-11-23"));
        let found = found.unwrap_or_default();
        assert_eq!(
            found.user.as_ref().map(UserUuid::as_str),
            Some("123456789012")
        );
        assert_eq!(found.action.map(|a| a.text()).as_deref(), Some("unlock."));
        assert_eq!(found.card, None);
        assert_eq!(found.from, Some(1_795_392_000));
        assert_eq!(found.to, Some(1_795_392_000 + 86_400));
        assert_eq!(filter(&Typed::default()), Ok(AuditFilter::default()));
        let wrong = filter(&typed("12345", "2026-02-31", ""))
            .err()
            .unwrap_or_default();
        let fields: Vec<_> = wrong.iter().map(|e| e.field).collect();
        assert_eq!(fields, [USER, FROM]);
        let mut odd = Typed::default();
        odd[1] = "xyz".into();
        odd[2] = "nope.".into();
        odd[3] = "a b".into();
        odd[4] = "somewhere".into();
        let wrong = filter(&odd).err().unwrap_or_default();
        let fields: Vec<_> = wrong.iter().map(|e| e.field).collect();
        assert_eq!(fields, [CARD, ACTION, OUTCOME, CLIENT]);
        let backwards = filter(&typed("", "2026-11-24", "2026-11-23"))
            .err()
            .unwrap_or_default();
        assert_eq!(backwards.first().map(|e| e.field), Some(TO));
    }
}
