//! The passcode checked on the card, shared by sign-in (AUTH-1) and the registration's
//! "Confirm it's you" (REG-1): the card's tries left from the bridge, the warning before
//! the last try (BRG-6), and the card signing a fresh login challenge with its 9A key.
//! The passcode goes to the bridge on this computer only, never to the server.

use api_types::auth::{LoginId, LoginStart, LoginStartRequest};
use api_types::bridge::{
    BridgeStatus, CardLoginRequest, CardLoginResponse, PATH_CARD_LOGIN, PATH_STATUS,
};
use api_types::passcode::CardPasscode;
use api_types::values::CardSignature;
use api_types::{CardGuid, ErrorCode};
use leptos::prelude::*;

use crate::api;
use crate::bridge::{Bridge, CardState};
use crate::errors::{tries_left_text, Problem};
use crate::local_network::LocalNetworkHelp;
use crate::setup_check::CheckSetupLink;

/// The passcode input's id.
pub(super) const PASSCODE_FIELD: &str = "passcode";

/// AUTH-1 / REG-1: the passcode verified on the card in the reader, which then signs a
/// fresh login challenge with its 9A key (the bridge applies BRG-6): the login id and
/// the signature, for the server. With `expected`, any other card is refused before a
/// try is spent.
pub(super) async fn card_signs(
    bridge: &Bridge,
    passcode: &CardPasscode,
    confirm_last_try: bool,
    expected: Option<CardGuid>,
) -> Result<(LoginId, CardSignature), Problem> {
    let status: BridgeStatus = bridge.get(PATH_STATUS).await?;
    let card = status
        .card
        .ok_or_else(|| Problem::from_code(ErrorCode::NoCard))?;
    let card_guid = card.guid;
    if expected.is_some_and(|expected| expected != card_guid) {
        return Err(Problem::from_code(ErrorCode::CardChanged));
    }
    let started = api::call::<LoginStart>(&(), &LoginStartRequest { card_guid }).await?;
    let signed: CardLoginResponse = bridge
        .post(
            PATH_CARD_LOGIN,
            &CardLoginRequest {
                challenge: started.challenge,
                pin: passcode.clone(),
                confirm_last_try,
                expected_guid: Some(card_guid),
            },
        )
        .await?;
    Ok((started.login_id, signed.signature))
}

/// What a press of the passcode form does (BRG-6).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Gate {
    /// Nothing is sent: the problem is shown.
    Refuse(Problem),
    /// One try left, not yet confirmed: show the warning and wait for a second press.
    WarnLastTry,
    /// Verify on the card; the last try only once the warning was shown.
    Verify {
        passcode: CardPasscode,
        confirm_last_try: bool,
    },
}

/// The tries left and whether the passcode is locked, when the card is in the reader.
pub(super) fn tries(card: &CardState) -> Option<(u8, bool)> {
    match card {
        CardState::Present(info) => Some((info.pin_tries_left, info.pin_blocked)),
        _ => None,
    }
}

/// BRG-6 / CARD-2: what to do with the typed passcode, given the card's tries left and
/// whether the last-try warning is showing. A passcode the card could never hold, or a
/// locked card, costs no try.
pub(super) fn gate(typed: &str, tries: Option<(u8, bool)>, warned: bool) -> Gate {
    if typed.is_empty() {
        return Gate::Refuse(
            Problem::from_code(ErrorCode::InvalidPasscode)
                .with_message("Enter your smartcard passcode.")
                .on_field(PASSCODE_FIELD),
        );
    }
    let Ok(passcode) = CardPasscode::parse(typed) else {
        return Gate::Refuse(
            Problem::from_code(ErrorCode::InvalidPasscode).on_field(PASSCODE_FIELD),
        );
    };
    match tries {
        Some((_, true)) => Gate::Refuse(Problem::from_code(ErrorCode::PinBlocked)),
        Some((1, false)) if !warned => Gate::WarnLastTry,
        _ => Gate::Verify {
            passcode,
            confirm_last_try: warned,
        },
    }
}

/// A wrong passcode changes the tries left but is no card event: read them again.
pub(super) fn refresh_card(bridge: Bridge, card: RwSignal<CardState>) {
    leptos::task::spawn_local(async move {
        if let Ok(BridgeStatus {
            card: Some(info), ..
        }) = bridge.get(PATH_STATUS).await
        {
            card.set(CardState::Present(info));
        }
    });
}

/// The card in the reader and its tries left, live from the bridge.
#[component]
pub(super) fn CardTries(bridge: Bridge, card: RwSignal<CardState>) -> impl IntoView {
    view! {
        <div id="card-status" class="nhsuk-inset-text" aria-live="polite">
            {move || {
                let state = card.get();
                let tries = tries(&state);
                match (state, tries) {
                (_, Some((_, true))) => view! {
                    <p><strong>"Your smartcard passcode is locked."</strong></p>
                    <p><a href="/unlock">"Unlock your smartcard"</a></p>
                }.into_any(),
                (_, Some((n, false))) => view! {
                    <p><strong>"Smartcard detected. "</strong>{tries_left_text(u32::from(n))}</p>
                }.into_any(),
                (CardState::BridgeUnreachable, _) => view! {
                    <p>{Problem::bridge_unreachable().message}</p>
                    <CheckSetupLink/>
                }.into_any(),
                (CardState::AskLocalNetwork { .. } | CardState::LocalNetworkBlocked, _) => view! {
                    <LocalNetworkHelp bridge=bridge.clone() card=card/>
                    <CheckSetupLink/>
                }.into_any(),
                (CardState::Trouble(problem), _) => view! {
                    <p>{problem.message}</p>
                    <CheckSetupLink/>
                }.into_any(),
                (CardState::NoCard, _) => view! { <p>"Insert your smartcard into the reader."</p> }.into_any(),
                _ => view! { <p>"Looking for your smartcard…"</p> }.into_any(),
            }}}
        </div>
    }
}

/// The last-try warning (BRG-6) and the passcode input, with its error beside it. The
/// input shows `pin`, so clearing `pin` clears it.
#[component]
pub(super) fn PasscodeField(
    pin: RwSignal<String>,
    last_try: RwSignal<bool>,
    problem: RwSignal<Option<Problem>>,
    hint: &'static str,
) -> impl IntoView {
    let error = move || problem.get().and_then(|p| p.message_for(PASSCODE_FIELD));
    view! {
        {move || last_try.get().then(|| view! {
            <div class="nhsuk-warning-callout" id="last-try-warning" role="alert">
                <h2 class="nhsuk-warning-callout__label">"This is your last try"</h2>
                <p>"If this passcode is wrong, your smartcard will lock and you will need to unlock it."</p>
            </div>
        })}
        <div class=move || if error().is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }>
            <label class="nhsuk-label" for=PASSCODE_FIELD>"Smartcard passcode"</label>
            <div class="nhsuk-hint" id="passcode-hint">{hint}</div>
            {move || error().map(|message| view! {
                <span class="nhsuk-error-message" id="passcode-error">
                    <span class="nhsuk-u-visually-hidden">"Error: "</span>
                    {message}
                </span>
            })}
            <input
                class=move || if error().is_some() {
                    "nhsuk-input nhsuk-input--width-10 nhsuk-input--error"
                } else {
                    "nhsuk-input nhsuk-input--width-10"
                }
                id=PASSCODE_FIELD
                name=PASSCODE_FIELD
                type="password"
                autocomplete="current-password"
                aria-describedby=move || if error().is_some() { "passcode-hint passcode-error" } else { "passcode-hint" }
                prop:value=move || pin.get()
                on:input=move |ev| pin.set(event_target_value(&ev))
            />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(gate: Gate) -> Option<Problem> {
        match gate {
            Gate::Refuse(problem) => Some(problem),
            _ => None,
        }
    }

    #[test]
    fn brg_6_the_last_try_is_spent_only_after_the_warning() {
        assert_eq!(gate("1234", Some((1, false)), false), Gate::WarnLastTry);
        assert!(matches!(
            gate("1234", Some((1, false)), true),
            Gate::Verify {
                confirm_last_try: true,
                ..
            }
        ));
        assert!(matches!(
            gate("1234", Some((3, false)), false),
            Gate::Verify {
                confirm_last_try: false,
                ..
            }
        ));
        // Tries not known (bridge still connecting): the bridge itself refuses the last.
        assert!(matches!(
            gate("1234", None, false),
            Gate::Verify {
                confirm_last_try: false,
                ..
            }
        ));
    }

    #[test]
    fn card_2_a_passcode_the_card_cannot_hold_costs_no_try() {
        for typed in ["", "123", "123456789", "12é4"] {
            let problem = refused(gate(typed, Some((3, false)), false));
            assert!(
                problem.is_some_and(
                    |p| p.is(ErrorCode::InvalidPasscode) && p.field == Some(PASSCODE_FIELD)
                ),
                "{typed:?}"
            );
        }
        let locked = refused(gate("1234", Some((0, true)), true));
        assert!(locked.is_some_and(|p| p.is(ErrorCode::PinBlocked)));
    }
}
