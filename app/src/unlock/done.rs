//! Smartcard Unlocked (UNL-7).

use leptos::prelude::*;

#[component]
pub(super) fn DonePage() -> impl IntoView {
    view! {
        <div class="nhsuk-panel nhsuk-panel--confirmation">
            <h1 class="nhsuk-panel__title" tabindex="-1">"Smartcard Unlocked"</h1>
            <div class="nhsuk-panel__body">"Your Smartcard has been successfully unlocked."</div>
        </div>
        <p>
            "Please remove and then reinsert your Smartcard to log in as normal using your new passcode."
        </p>
        <p>"We have emailed you to confirm your smartcard was unlocked."</p>
    }
}
