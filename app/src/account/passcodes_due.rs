//! PASS-4: what the page says when the passcodes are due — the server decides
//! (`SessionInfo::passcodes`, by `PasscodeExpiry`), the page only words it: a reminder the
//! user may decline, and once expired, a change before anything else.

use api_types::passcodes::PasscodesDue;
use api_types::time::utc_date;
use leptos::prelude::*;

/// The notice: a heading and what to do, or nothing when nothing is due (a locked
/// account never gets a session to show it in).
pub(super) fn notice(due: PasscodesDue) -> Option<(&'static str, String)> {
    match due {
        PasscodesDue::NotDue | PasscodesDue::Locked { .. } => None,
        PasscodesDue::Reminder { expires_at } => Some((
            "Your passcodes expire soon",
            format!(
                "They expire on {}. Change them now on Manage Passcodes, or later: from then \
                 you will be asked to change them before anything else.",
                utc_date(expires_at)
            ),
        )),
        PasscodesDue::Expired {
            expires_at,
            locks_at,
        } => Some((
            "Change your passcodes now",
            format!(
                "They expired on {}. Change them before anything else: from {} your \
                 account is locked until your Registration Authority unlocks it.",
                utc_date(expires_at),
                utc_date(locks_at)
            ),
        )),
    }
}

/// The notice, with the way to Manage Passcodes; "Not now" hides a reminder until the
/// next sign-in (PASS-4: the user may decline).
#[component]
pub(super) fn PasscodesNotice(due: PasscodesDue, #[prop(optional)] here: bool) -> impl IntoView {
    let declined = RwSignal::new(false);
    let reminder = matches!(due, PasscodesDue::Reminder { .. });
    notice(due).map(|(heading, text)| {
        view! {
            <Show when=move || !declined.get()>
                <div class="nhsuk-warning-callout" id="passcodes-notice">
                    <h2 class="nhsuk-warning-callout__label">{heading}</h2>
                    <p>{text.clone()}</p>
                    {(!here).then(|| view! {
                        <a href="/passcodes" id="passcodes-notice-change" class="nhsuk-button">"Change passcodes"</a>
                    })}
                    {(reminder && !here).then(|| view! {
                        <button type="button" id="passcodes-notice-later"
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
    const EXPIRES: i64 = 1_795_392_000 + 25 * DAY; // 2026-12-18

    #[test]
    fn pass_4_a_reminder_says_the_date_and_expiry_says_when_it_locks() {
        let (_, reminder) = notice(PasscodesDue::Reminder {
            expires_at: EXPIRES,
        })
        .unwrap_or_default();
        assert!(reminder.contains("2026-12-18"), "{reminder}");
        let expired = PasscodesDue::Expired {
            expires_at: EXPIRES,
            locks_at: EXPIRES + 21 * DAY,
        };
        let (heading, text) = notice(expired).unwrap_or_default();
        assert_eq!(heading, "Change your passcodes now");
        assert!(
            text.contains("2026-12-18") && text.contains("2027-01-08"),
            "{text}"
        );
        assert_eq!(notice(PasscodesDue::NotDue), None);
    }
}
