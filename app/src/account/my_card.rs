//! "My card" (REG-5, AUTH-2): who is signed in, their registration and self-service
//! state, their card's certificate expiry, their own recent security events, and sign
//! out. Without a session the page says so and links to sign in. An RA (RA-1) also
//! gets a link to the RA console.

use api_types::auth::{ChangeContact, ChangeContactRequest, Logout, LogoutRequest, Me, Session};
use api_types::time::{utc_date as date, utc_date_time};
use api_types::unlock::PublicConfig;
use leptos::prelude::*;

use super::events::{event_words, outcome_words};
use super::sign_in::card_signs;
use crate::api;
use crate::bridge::{watch_card, Bridge, CardState};
use crate::errors::{tries_left_text, ProblemSummary};
use crate::local_network::LocalNetworkHelp;
use crate::widgets::row;

/// REG-5: new email and mobile, after the passcode again on the card.
fn contact_form(bridge: Bridge, email: String, mobile: Option<String>) -> impl IntoView {
    let email = RwSignal::new(email);
    let mobile = RwSignal::new(mobile.unwrap_or_default());
    let pin = RwSignal::new(String::new());
    let save = Action::new_local(move |_: &()| {
        let (bridge, typed) = (bridge.clone(), pin.get_untracked());
        let (email, mobile) = (email.get_untracked(), mobile.get_untracked());
        pin.set(String::new());
        async move {
            let (login_id, signature) = card_signs(&bridge, typed, false).await?;
            let request = ChangeContactRequest {
                login_id,
                signature,
                email,
                mobile: Some(mobile),
            };
            api::call::<ChangeContact>(&(), &request).await
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            let _ = window().location().reload();
        }
    });
    view! {
        <details class="nhsuk-details" id="contact-details">
            <summary class="nhsuk-details__summary">
                <span class="nhsuk-details__summary-text">"Change your contact details"</span>
            </summary>
            <div class="nhsuk-details__text">
                {move || save.value().get().and_then(Result::err).map(|p| view! { <ProblemSummary problem=p/> })}
                <form on:submit=move |ev| { ev.prevent_default(); save.dispatch_local(()); } novalidate>
                    <div class="nhsuk-form-group">
                        <label class="nhsuk-label" for="contact-email">"Email address"</label>
                        <input class="nhsuk-input" id="contact-email" type="email" autocomplete="email"
                            prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev))/>
                    </div>
                    <div class="nhsuk-form-group">
                        <label class="nhsuk-label" for="contact-mobile">"Mobile number (optional)"</label>
                        <input class="nhsuk-input nhsuk-input--width-20" id="contact-mobile" type="tel" autocomplete="tel"
                            prop:value=move || mobile.get() on:input=move |ev| mobile.set(event_target_value(&ev))/>
                    </div>
                    <div class="nhsuk-form-group">
                        <label class="nhsuk-label" for="contact-passcode">"Smartcard passcode, to confirm it is you"</label>
                        <input class="nhsuk-input nhsuk-input--width-10" id="contact-passcode" type="password"
                            autocomplete="current-password"
                            prop:value=move || pin.get() on:input=move |ev| pin.set(event_target_value(&ev))/>
                    </div>
                    <button type="submit" id="save-contact-button" class="nhsuk-button">"Save contact details"</button>
                </form>
            </div>
        </details>
    }
}

#[component]
pub fn MyCard(config: PublicConfig) -> impl IntoView {
    let current = LocalResource::new(|| api::call::<Me>(&(), &()));
    // RA-1: the console link is for RA roles only (the server checks every RA call).
    let session = LocalResource::new(|| api::call::<Session>(&(), &()));
    let is_ra = move || session.map(|s| s.as_ref().is_ok_and(|s| s.role.is_ra())) == Some(true);
    let bridge = StoredValue::new(Bridge::new(&config.bridge_url));
    // The card's state is the card's to say: tries left, live from the bridge.
    let card = RwSignal::new(CardState::Connecting);
    watch_card(&bridge.get_value(), card);
    let tries = move || match card.get() {
        CardState::Present(info) if info.pin_blocked => "Locked: unlock your smartcard".to_owned(),
        CardState::Present(info) => tries_left_text(u32::from(info.pin_tries_left)),
        _ => "Insert your smartcard to see".to_owned(),
    };
    // BRG-7: a public page may need the browser's leave to reach the card bridge.
    let local_network = move || {
        matches!(
            card.get(),
            CardState::AskLocalNetwork { .. } | CardState::LocalNetworkBlocked
        )
        .then(|| view! { <LocalNetworkHelp bridge=bridge.get_value() card=card/> })
    };
    let sign_out =
        Action::new_local(|_: &()| async { api::call::<Logout>(&(), &LogoutRequest {}).await });
    Effect::new(move |_| {
        if let Some(Ok(_)) = sign_out.value().get() {
            let _ = window().location().assign("/login");
        }
    });
    view! {
        <Suspense fallback=|| view! { <p aria-live="polite">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match current.await {
                    Ok(me) => view! {
                        <h1 tabindex="-1">"My card"</h1>
                        <dl class="nhsuk-summary-list">
                            {row("Name", "my-name", me.display_name)}
                            {row("UUID", "my-uuid", me.uuid)}
                            {row("Organisation", "my-organisation", me.organisation)}
                            {row("Email", "my-email", me.email.clone())}
                            {row("Mobile", "my-mobile", me.mobile.clone().unwrap_or_else(|| "None".into()))}
                            {row("Smartcard", "my-card-guid", me.card_guid.to_hex())}
                            <div class="nhsuk-summary-list__row">
                                <dt class="nhsuk-summary-list__key">"Passcode tries"</dt>
                                <dd class="nhsuk-summary-list__value" id="my-tries" aria-live="polite">{tries}</dd>
                            </div>
                            {row("Certificate expires", "my-certificate-expiry",
                                me.certificate_expires_at.map(date).unwrap_or_else(|| "No current certificate".into()))}
                            {row("Self-service unlock", "my-registration",
                                match (me.registered, me.self_service_closed) {
                                    (_, true) => "Closed: contact your Registration Authority".into(),
                                    (true, false) => "Registered".into(),
                                    (false, false) => "Not registered".into(),
                                })}
                        </dl>
                        {local_network}
                        <p><a href="/register" id="register-link">
                            {if me.registered { "Change your security questions" } else { "Register for self-service unlock" }}
                        </a></p>
                        {move || is_ra().then(|| view! {
                            <p><a href="/ra" id="ra-console-link">"RA console"</a></p>
                        })}
                        {contact_form(bridge.get_value(), me.email, me.mobile)}
                        <h2>"Recent security events"</h2>
                        <table class="nhsuk-table" id="my-events">
                            <thead class="nhsuk-table__head"><tr>
                                <th scope="col">"Date and time"</th><th scope="col">"What happened"</th><th scope="col">"Outcome"</th>
                            </tr></thead>
                            <tbody>
                                {me.events.into_iter().map(|e| view! {
                                    <tr>
                                        <td>{utc_date_time(e.at)}" UTC"</td>
                                        <td>{event_words(e.action)}</td>
                                        <td>{outcome_words(&e.outcome)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        {move || sign_out.value().get().and_then(Result::err).map(|p| view! { <ProblemSummary problem=p/> })}
                        <button type="button" id="sign-out-button" class="nhsuk-button nhsuk-button--secondary"
                            on:click=move |_| { sign_out.dispatch_local(()); }>
                            "Sign out"
                        </button>
                    }.into_any(),
                    Err(problem) => view! {
                        <h1 tabindex="-1">"You are not signed in"</h1>
                        <ProblemSummary problem=problem/>
                        <p><a href="/login">"Sign in with your smartcard"</a></p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reg_5_dates_read_as_people_write_them() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_900_000_000), "2030-03-17");
        assert_eq!(date(951_782_400), "2000-02-29");
    }
}
