//! SCSC-2 / POL-3: how the one-time code is sent — Email (to the registered address) or
//! SMS (to the mobile on the profile), each shown masked; seed 000 recommends Email, so
//! it is chosen first. The code goes once the user presses OK.

use api_types::recovery::{Delivery, DeliveryOption, SendCode, SendCodeRequest, UnlockRoute};
use api_types::AttemptId;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::questions::holder_warning;
use super::{Flow, Step, Submit};
use crate::api;

/// Each way's label and input id.
fn label(delivery: Delivery) -> (&'static str, &'static str) {
    match delivery {
        Delivery::Email => ("Email", "delivery-email"),
        Delivery::Sms => ("SMS (text message)", "delivery-sms"),
    }
}

#[component]
pub(super) fn DeliveryPage(
    flow: Flow,
    attempt_id: AttemptId,
    route: UnlockRoute,
    holder_name: Option<String>,
    options: Vec<DeliveryOption>,
) -> impl IntoView {
    // Email first when offered (seed 000's recommendation), else the one there is.
    let first = options
        .iter()
        .map(|o| o.delivery)
        .find(|d| *d == Delivery::Email)
        .or_else(|| options.first().map(|o| o.delivery))
        .unwrap_or(Delivery::Email);
    let chosen = RwSignal::new(first);
    let send = Submit::new(
        flow,
        "Sending your One Time Passcode…",
        move |request: &SendCodeRequest| {
            let (attempt_id, request) = (attempt_id.clone(), request.clone());
            async move {
                let sent = api::call::<SendCode>(&attempt_id, &request).await?;
                Ok(Step::OneTimeCode {
                    attempt_id,
                    route,
                    sent,
                })
            }
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send.dispatch(|| {
            Ok(SendCodeRequest {
                delivery: chosen.get_untracked(),
            })
        });
    };
    let radios = options
        .into_iter()
        .map(|option| {
            let (words, id) = label(option.delivery);
            let hint_id = format!("{id}-hint");
            let delivery = option.delivery;
            view! {
                <div class="nhsuk-radios__item">
                    <input class="nhsuk-radios__input" id=id name="delivery" type="radio"
                        value=delivery.as_str() aria-describedby=hint_id.clone()
                        prop:checked=move || chosen.get() == delivery
                        on:change=move |_| chosen.set(delivery)/>
                    <label class="nhsuk-label nhsuk-radios__label" for=id>{words}</label>
                    <div class="nhsuk-hint nhsuk-radios__hint" id=hint_id>{option.hint}</div>
                </div>
            }
        })
        .collect_view();
    view! {
        {send.progress_line()}
        <h1 tabindex="-1">"How would you like to receive your One Time Passcode?"</h1>
        {holder_name.map(|name| holder_warning(&name))}
        <form on:submit=submit novalidate>
            <div class="nhsuk-form-group">
                <fieldset class="nhsuk-fieldset" aria-describedby="delivery-hint">
                    <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">
                        "Send my One Time Passcode by"
                    </legend>
                    <div class="nhsuk-hint" id="delivery-hint">
                        "We recommend you choose Email and then copy and paste the One Time \
                         Passcode."
                    </div>
                    <div class="nhsuk-radios">{radios}</div>
                </fieldset>
            </div>
            <button type="submit" id="ok-button" class="nhsuk-button">"OK"</button>
        </form>
    }
}
