//! CERT-2 / CERT-4 / POL-4: what the page says when a card's certificates are due —
//! the server decides (`SessionInfo::renewal`), the page only words it, in the words of
//! the profile in force (`PublicConfig::policy`), and sends a forced renewal first.

use api_types::policy::{Policy, RenewalDue};
use api_types::time::utc_date;
use leptos::prelude::*;

/// The notice on My card: a heading and what to do, or nothing when nothing is due.
pub(super) fn notice(due: RenewalDue, policy: Policy) -> Option<(&'static str, String)> {
    match due {
        RenewalDue::NotDue => None,
        RenewalDue::Offered { not_after } => Some((
            "Your certificates end soon",
            match policy.renewal_forced_days() {
                Some(days) => format!(
                    "They end on {}. Renew them now with your card and passcode, or later: \
                     from {} you will be asked to renew before anything else.",
                    utc_date(not_after),
                    utc_date(not_after - days * 86_400)
                ),
                None => format!(
                    "They end on {}. Renew them now with your card and passcode, or the next \
                     time you sign in.",
                    utc_date(not_after)
                ),
            },
        )),
        RenewalDue::Forced { not_after } => Some((
            "Renew your certificates now",
            format!(
                "They end on {}: renew them before anything else.",
                utc_date(not_after)
            ),
        )),
        RenewalDue::ByRa { not_after } => Some((
            "Your Registration Authority renews your certificates this time",
            format!(
                "They end on {}. Contact your Registration Authority, and take this card \
                 with you.",
                utc_date(not_after)
            ),
        )),
    }
}

/// CERT-4 / POL-4: "Renewals" on My card.
pub(super) fn renewals_used(in_a_row: i64, allowed: Option<i64>) -> String {
    match allowed {
        Some(allowed) => format!(
            "{in_a_row} of {allowed} self-service renewals used since your Registration \
             Authority last renewed your card"
        ),
        None => format!("{in_a_row} self-service renewals (no limit)"),
    }
}

/// The notice, with the way to renew when self-service may: "Not now" hides an offer
/// until the next sign-in (POL-4: the user may decline).
#[component]
pub(super) fn RenewalNotice(due: RenewalDue, policy: Policy) -> impl IntoView {
    let declined = RwSignal::new(false);
    let offered = matches!(due, RenewalDue::Offered { .. });
    let renewable = offered || matches!(due, RenewalDue::Forced { .. });
    notice(due, policy).map(|(heading, text)| {
        view! {
            <Show when=move || !declined.get()>
                <div class="nhsuk-warning-callout" id="renewal-notice">
                    <h2 class="nhsuk-warning-callout__label">{heading}</h2>
                    <p>{text.clone()}</p>
                    {renewable.then(|| view! {
                        <a href="/renew" id="renewal-notice-renew" class="nhsuk-button">"Renew now"</a>
                    })}
                    {offered.then(|| view! {
                        <button type="button" id="renewal-notice-later"
                            class="nhsuk-button nhsuk-button--secondary"
                            on:click=move |_| declined.set(true)>"Not now"</button>
                    })}
                </div>
            </Show>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;
    const ENDS: i64 = 1_795_392_000 + 25 * DAY; // 2026-12-18

    #[test]
    fn pol_1_the_offer_is_worded_for_the_profile_in_force() {
        let due = RenewalDue::Offered { not_after: ENDS };
        let (_, seed) = notice(due, Policy::Seed2006).unwrap_or_default();
        assert!(
            seed.contains("2026-12-18") && seed.contains("from 2026-11-28"),
            "{seed}"
        );
        let (_, nhs) = notice(due, Policy::Nhs2023).unwrap_or_default();
        assert!(
            nhs.contains("2026-12-18") && !nhs.contains("before anything else"),
            "{nhs}"
        );
        assert_eq!(notice(RenewalDue::NotDue, Policy::Seed2006), None);
        let by_ra = notice(RenewalDue::ByRa { not_after: ENDS }, Policy::Seed2006);
        assert!(by_ra.is_some_and(|(h, _)| h.contains("Registration Authority renews")));
    }

    #[test]
    fn cert_4_renewals_used_say_the_limit_or_that_there_is_none() {
        assert!(renewals_used(1, Some(2)).starts_with("1 of 2 self-service renewals used"));
        assert_eq!(renewals_used(5, None), "5 self-service renewals (no limit)");
    }
}
