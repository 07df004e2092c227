//! The RA console's home (RA-2): find a user by UUID (exact) or the start of their name,
//! a page of results at a time, and the users at risk: no verified email, certificates
//! expiring within 30 days, repeat lockouts and open "this wasn't me" reports (RA-4).

use api_types::ra::{Dashboard, SearchUsers, UserList, UserQuery, UserSummary, ViewDashboard};
use api_types::time::utc_date;
use api_types::ErrorCode;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::{console, loading, nav, not_loaded, notice_name, user_link};
use crate::api;
use crate::errors::{Problem, ProblemSummary};
use crate::submit::{Screens, Submit};
use crate::widgets::{minute, table_head, Field};

const SEARCH_FIELD: &str = "ra-search";

/// `/ra`.
#[component]
pub fn HomePage() -> impl IntoView {
    console(|_| view! { <Home/> }.into_any())
}

/// The search: what was asked, and the page of users found.
#[derive(Clone, Copy)]
struct Search {
    problem: RwSignal<Option<Problem>>,
    found: RwSignal<Option<(String, UserList)>>,
}

impl Screens for Search {
    type Step = (String, UserList);

    fn problem(&self) -> RwSignal<Option<Problem>> {
        self.problem
    }

    fn advance(&self, found: (String, UserList)) {
        self.problem.set(None);
        self.found.set(Some(found));
    }

    fn fail(&self, problem: Problem) {
        self.problem.set(Some(super::in_console_words(problem)));
    }
}

#[component]
fn Home() -> impl IntoView {
    let search = Search {
        problem: RwSignal::new(None),
        found: RwSignal::new(None),
    };
    let typed = RwSignal::new(String::new());
    let send = Submit::new(search, "Searching…", |(q, page): &(String, u32)| {
        let query = UserQuery {
            q: q.clone(),
            page: *page,
        };
        async move {
            Ok((
                query.q.clone(),
                api::call::<SearchUsers>(&(), &query).await?,
            ))
        }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send.dispatch(|| {
            let q = typed.get_untracked().trim().to_owned();
            if q.is_empty() {
                return Err(Problem::from_code(ErrorCode::BadRequest)
                    .with_message("Enter a UUID or the start of a name.")
                    .on_field(SEARCH_FIELD));
            }
            Ok((q, 0))
        });
    };
    let turn = move |q: String, page: u32| send.dispatch(move || Ok((q, page)));
    view! {
        {nav("/ra")}
        {move || search.problem.get().map(|problem| view! { <ProblemSummary problem=problem/> })}
        <h1 tabindex="-1">"RA console"</h1>
        <form on:submit=submit novalidate role="search">
            {Field::new(SEARCH_FIELD, "UUID or name")
                .hint(
                    "ra-search-hint",
                    "A UUID is 12 digits. For a name, type its start: family or given name.",
                )
                .kind("search")
                .view(search.problem, typed)}
            {send.status_line("ra-search-progress")}
            <button type="submit" id="ra-search-button" class="nhsuk-button">"Search"</button>
        </form>
        {move || search.found.get().map(|(q, list)| results(q, list, turn))}
        <DashboardLists/>
    }
}

/// A page of users found, with buttons to the pages either side.
fn results(
    q: String,
    list: UserList,
    turn: impl Fn(String, u32) + Copy + 'static,
) -> impl IntoView {
    let page = list.page;
    let caption = format!("Users matching \u{201c}{q}\u{201d}, page {}", page + 1);
    let (back, on) = (q.clone(), q.clone());
    if list.users.is_empty() {
        return view! { <p id="ra-no-results">{format!("No users match \u{201c}{q}\u{201d}.")}</p> }
            .into_any();
    }
    let region = caption.clone();
    view! {
        <div class="app-table-scroll" role="region" aria-label=region tabindex="0">
            <table class="nhsuk-table" id="ra-results">
                <caption class="nhsuk-table__caption">{caption}</caption>
                {table_head(["Name", "UUID", "Email", "Registered", "Self-service"])}
                <tbody class="nhsuk-table__body">
                    {list.users.into_iter().map(|user| view! {
                        <tr class="nhsuk-table__row">
                            <td class="nhsuk-table__cell">{user_link(&user.uuid, user.display_name)}</td>
                            <td class="nhsuk-table__cell">{user.uuid.as_str().to_owned()}</td>
                            <td class="nhsuk-table__cell">{user.email}</td>
                            <td class="nhsuk-table__cell">{if user.registered { "Yes" } else { "No" }}</td>
                            <td class="nhsuk-table__cell">{if user.self_service_closed { "Closed" } else { "Open" }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <div class="nhsuk-button-group">
            {(page > 0).then(|| view! {
                <button type="button" id="ra-previous" class="nhsuk-button nhsuk-button--secondary"
                    on:click=move |_| turn(back.clone(), page - 1)>
                    "Previous page"
                </button>
            })}
            {list.has_more.then(|| view! {
                <button type="button" id="ra-next" class="nhsuk-button nhsuk-button--secondary"
                    on:click=move |_| turn(on.clone(), page + 1)>
                    "Next page"
                </button>
            })}
        </div>
    }
    .into_any()
}

/// One user in a list: their UUID linking to their page, then their name. (The name is
/// the link in the search results; here it stays plain text, so one name is one link.)
fn who(user: &UserSummary) -> impl IntoView {
    view! { {user_link(&user.uuid, user.uuid.as_str().to_owned())} {format!(" {}", user.display_name)} }
}

/// One list of users at risk, or "None".
fn at_risk(heading: &'static str, id: &'static str, items: Vec<AnyView>) -> impl IntoView {
    view! {
        <h3>{heading}</h3>
        {if items.is_empty() {
            view! { <p id=id>"None."</p> }.into_any()
        } else {
            view! {
                <ul class="nhsuk-list nhsuk-list--bullet app-wrap-anywhere" id=id>
                    {items.into_iter().map(|item| view! { <li>{item}</li> }).collect_view()}
                </ul>
            }
            .into_any()
        }}
    }
}

/// The users at risk (`GET /api/ra/dashboard`), each linking to their page.
#[component]
fn DashboardLists() -> impl IntoView {
    let dashboard = LocalResource::new(|| api::call::<ViewDashboard>(&(), &()));
    view! {
        <h2>"Users who may need help"</h2>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match dashboard.await {
                    Ok(board) => lists(board).into_any(),
                    Err(problem) => {
                        not_loaded("dashboard-problem", "These lists could not be loaded. ", problem)
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn lists(board: Dashboard) -> impl IntoView {
    let unverified = board
        .unverified_email
        .iter()
        .map(|user| view! { {who(user)} {format!(", {}", user.email)} }.into_any())
        .collect();
    let expiring = board
        .expiring_certificates
        .iter()
        .map(|e| {
            let card = e.card_guid.to_hex();
            let when = utc_date(e.expires_at);
            // CERT-2 / RA-3: straight to the renewal at the desk on the user's page.
            let renewal = format!("/ra/users/{}#desk-renewal", e.user.uuid.as_str());
            view! {
                {who(&e.user)} {format!(": card {card} expires {when} — ")}
                <a href=renewal>"renewal"</a>
            }
            .into_any()
        })
        .collect();
    let lockouts = board
        .repeat_lockouts
        .iter()
        .map(|l| {
            view! { {who(&l.user)} {format!(": {} lockouts in 30 days", l.lockouts)} }.into_any()
        })
        .collect();
    let reports = board
        .open_reports
        .iter()
        .map(|r| {
            let said = format!(
                ": {}, reported {}",
                notice_name(&r.notice),
                minute(r.reported_at)
            );
            view! { {who(&r.user)} {said} }.into_any()
        })
        .collect();
    view! {
        {at_risk("No verified email", "dash-unverified", unverified)}
        {at_risk("Certificates expiring within 30 days", "dash-expiring", expiring)}
        {at_risk("Repeat lockouts", "dash-lockouts", lockouts)}
        {at_risk("Open 'this wasn't me' reports", "dash-reports", reports)}
    }
}
