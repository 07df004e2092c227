//! ★ A timeline, not a surprise (PASS-4, CERT-2, POL-4): the dates that matter for the
//! passcodes and the card's certificates — reminders start, the change or renewal sign-in
//! asks for first, the lock or the end — from the same pure rules the server's sign-in
//! and reminders use (`PasscodeExpiry::dates`, `Policy::renewal_dates`), so the page and
//! the server cannot disagree.

use api_types::auth::MyCard;
use api_types::passcodes::PasscodeExpiry;
use api_types::policy::Policy;
use api_types::time::utc_date;
use leptos::prelude::*;

/// One date on the timeline: what happens then, and whether it has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Milestone {
    pub at: i64,
    pub what: &'static str,
    pub passed: bool,
}

/// Every date that matters for `me`, soonest first.
pub(super) fn milestones(
    me: &MyCard,
    (policy, expiry): (Policy, PasscodeExpiry),
    now: i64,
) -> Vec<Milestone> {
    let mut dates: Vec<(i64, &'static str)> = Vec::new();
    if let Some(passcodes) = expiry.dates(me.passcodes_set_at, me.passcodes_unlocked_at) {
        dates.push((passcodes.reminders_from, "Passcodes: daily reminders start"));
        dates.push((
            passcodes.expires_at,
            "Passcodes expire: sign-in asks you to change them first",
        ));
        dates.push((
            passcodes.locks_at,
            "Passcodes still unchanged: your account locks until your RA unlocks it",
        ));
    }
    if let Some(not_after) = me.certificate_expires_at {
        let renewal = policy.renewal_dates(not_after);
        dates.push((
            renewal.offered_from,
            "Certificates: renewal offered, daily reminders in the last 30 days",
        ));
        if let Some(forced_from) = renewal.forced_from {
            dates.push((
                forced_from,
                "Certificates: sign-in asks you to renew them first",
            ));
        }
        dates.push((
            not_after,
            "Certificates end: only your RA can renew them after this",
        ));
    }
    dates.sort_by_key(|(at, _)| *at);
    dates
        .into_iter()
        .map(|(at, what)| Milestone {
            at,
            what,
            passed: at <= now,
        })
        .collect()
}

#[component]
pub(super) fn Timeline(milestones: Vec<Milestone>) -> impl IntoView {
    (!milestones.is_empty()).then(|| {
        view! {
            <h2>"What is coming"</h2>
            <table class="nhsuk-table" id="my-timeline">
                <caption class="nhsuk-u-visually-hidden">"Dates for your passcodes and certificates"</caption>
                <thead class="nhsuk-table__head">
                    <tr class="nhsuk-table__row">
                        <th scope="col" class="nhsuk-table__header">"Date"</th>
                        <th scope="col" class="nhsuk-table__header">"What happens"</th>
                    </tr>
                </thead>
                <tbody class="nhsuk-table__body">
                    {milestones.into_iter().map(|m| view! {
                        <tr class="nhsuk-table__row">
                            <td class="nhsuk-table__cell">{utc_date(m.at)}{m.passed.then_some(" (passed)")}</td>
                            <td class="nhsuk-table__cell">{m.what}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::auth::MyCard;

    const DAY: i64 = 86_400;
    const SET: i64 = 1_795_392_000; // 2026-11-23

    fn me(certificate_expires_at: Option<i64>) -> MyCard {
        let json = serde_json::json!({
            "display_name": "Mr John Rigby", "uuid": "555555555501", "organisation": "Org",
            "email": "john@nhs.net", "mobile": null, "registered": true,
            "self_service_closed": false, "card_guid": "02020202020202020202020202020202",
            "certificate_expires_at": certificate_expires_at, "renewals_in_a_row": 0,
            "renewals_allowed_in_a_row": 2, "passcodes_set_at": SET,
            "passcodes_unlocked_at": null, "events": []
        });
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn pass_4_cert_2_the_dates_follow_the_rules_sign_in_uses() {
        let ends = SET + 400 * DAY;
        let rules = (Policy::Seed2006, PasscodeExpiry::default());
        let all = milestones(&me(Some(ends)), rules, SET);
        let at: Vec<i64> = all.iter().map(|m| m.at).collect();
        assert_eq!(
            at,
            [
                SET + 351 * DAY,
                SET + 365 * DAY,
                ends - 30 * DAY,
                ends - 20 * DAY,
                SET + 386 * DAY,
                ends
            ]
        );
        // Under nhs-2023 renewal is offered from 90 days and never forced.
        let nhs = milestones(
            &me(Some(ends)),
            (Policy::Nhs2023, PasscodeExpiry::default()),
            SET,
        );
        assert!(nhs.iter().any(|m| m.at == ends - 90 * DAY));
        assert!(!nhs.iter().any(|m| m.what.contains("renew them first")));
    }

    #[test]
    fn pass_4_the_clock_moved_marks_what_has_passed_and_off_shows_nothing() {
        let rules = (Policy::Seed2006, PasscodeExpiry::default());
        let later = milestones(&me(None), rules, SET + 365 * DAY);
        let passed: Vec<bool> = later.iter().map(|m| m.passed).collect();
        assert_eq!(passed, [true, true, false]);
        let off = PasscodeExpiry {
            lifetime_days: 0,
            ..PasscodeExpiry::default()
        };
        assert!(milestones(&me(None), (Policy::Seed2006, off), SET).is_empty());
    }
}
