//! The "this wasn't me" queue (RA-4): every open report from a notice email, oldest
//! needing action first as the server sends them, each marked as reviewed with a reason
//! (RA-3); the list is loaded again after each review.

use std::cell::RefCell;

use api_types::ra::{ReasonRequest, Report, Reports as OpenReports, ReviewReport};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::{
    console, loading, nav, not_loaded, notice_name, post_done, reason, user_link, Desk, ReasonField,
};
use crate::api;
use crate::submit::Submit;
use crate::widgets::{minute, table_head};

/// `/ra/reports`.
#[component]
pub fn ReportsPage() -> impl IntoView {
    console(|_| view! { <Reports/> }.into_any())
}

#[component]
fn Reports() -> impl IntoView {
    let desk = Desk::new();
    let list = LocalResource::new(move || {
        desk.version.track();
        api::call::<OpenReports>(&(), &())
    });
    view! {
        {nav("/ra/reports")}
        {desk.banners()}
        <h1 tabindex="-1">"\"This wasn't me\" reports"</h1>
        <p>
            "A user reported that they did not do what a notice email told them about. \
             Self-service is closed for them until you have looked into it. Once you have \
             spoken to the user, mark the report as reviewed."
        </p>
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(found) if found.reports.is_empty() => view! {
                        <p id="reports-none">"There are no open reports."</p>
                    }
                    .into_any(),
                    Ok(found) => table(desk, found.reports).into_any(),
                    Err(problem) => {
                        not_loaded("reports-problem", "The reports could not be loaded. ", problem)
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

fn table(desk: Desk, reports: Vec<Report>) -> impl IntoView {
    view! {
        <div class="app-table-scroll" role="region" aria-label="Open reports" tabindex="0">
            <table class="nhsuk-table" id="reports">
                <caption class="nhsuk-table__caption">"Open reports"</caption>
                {table_head(["User", "Notice", "Reported (UTC)", "Review"])}
                <tbody class="nhsuk-table__body">
                    {reports.into_iter().enumerate().map(|(row, report)| {
                        let id = report.id.as_str().to_owned();
                        let user = user_link(&report.user.uuid, report.user.display_name.clone());
                        let notice = notice_name(&report.notice);
                        let at = minute(report.reported_at);
                        view! {
                            <tr class="nhsuk-table__row" data-report-id=id>
                                <td class="nhsuk-table__cell">{user}</td>
                                <td class="nhsuk-table__cell">{notice}</td>
                                <td class="nhsuk-table__cell">{at}</td>
                                <td class="nhsuk-table__cell">{review_form(desk, row, report)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The ids of row `row`'s reason and its hint, `review-reason-{row}`. The error summary
/// links to inputs by `'static` ids, so each is made once and kept: as many as the
/// longest queue shown.
fn review_ids(row: usize) -> (&'static str, &'static str) {
    thread_local! {
        static IDS: RefCell<Vec<(&'static str, &'static str)>> = const { RefCell::new(Vec::new()) };
    }
    IDS.with_borrow_mut(|ids| {
        while ids.len() <= row {
            let n = ids.len();
            let field = String::leak(format!("review-reason-{n}"));
            ids.push((field, String::leak(format!("{field}-hint"))));
        }
        ids.get(row)
            .copied()
            .unwrap_or(("review-reason", "review-reason-hint"))
    })
}

/// One report's reason and "Mark as reviewed".
fn review_form(desk: Desk, row: usize, report: Report) -> impl IntoView {
    let (field, hint) = review_ids(row);
    let text = RwSignal::new(String::new());
    let name = report.user.display_name.clone();
    let label = format!("Reason for marking the report for {name} as reviewed");
    let id = report.id.clone();
    let send = Submit::new(desk, "Saving…", move |request: &ReasonRequest| {
        let said = format!("The report for {name} is marked as reviewed.");
        post_done::<ReviewReport>(id.clone(), request.clone(), said)
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send.dispatch(|| {
            Ok(ReasonRequest {
                reason: reason(field, &text.get_untracked())?,
            })
        });
    };
    view! {
        <form on:submit=submit novalidate>
            <ReasonField desk=desk field=field hint=hint label=label told="It is kept in the audit trail." text=text/>
            <button type="submit" class="nhsuk-button nhsuk-button--secondary review-button">
                "Mark as reviewed"
            </button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_4_every_review_row_has_its_own_ids() {
        assert_eq!(review_ids(2), ("review-reason-2", "review-reason-2-hint"));
        assert_eq!(review_ids(0).0, "review-reason-0");
        assert!(std::ptr::eq(review_ids(1).0, review_ids(1).0), "made once");
    }
}
