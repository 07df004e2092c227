//! Sign in with your smartcard (AUTH-1): the card's tries left, the passcode, the warning
//! before the last try (BRG-6), and a locked card sent to unlock.

use api_types::auth::{LoginFinish, LoginFinishRequest, LoginId, LoginStart, LoginStartRequest};
use api_types::bridge::{
    BridgeStatus, CardLoginRequest, CardLoginResponse, PATH_CARD_LOGIN, PATH_STATUS,
};
use api_types::unlock::{Endpoint, PublicConfig};
use api_types::values::CardSignature;
use api_types::{CardGuid, ErrorCode};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::api;
use crate::bridge::{watch_card, Bridge, CardState};
use crate::errors::{tries_left_text, Problem, ProblemSummary};

/// What the page is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Passcode,
    /// BRG-6: one try left; the user must say to use it.
    ConfirmLastTry,
}

/// AUTH-1 / REG-1: the passcode verified on the card in the reader, which then signs a
/// fresh login challenge with its 9A key (the bridge applies BRG-6): the login id and
/// the signature, for the server.
pub(super) async fn card_signs(
    bridge: &Bridge,
    pin: String,
    confirm_last_try: bool,
) -> Result<(LoginId, CardSignature), Problem> {
    let status: BridgeStatus = bridge.get(PATH_STATUS).await?;
    let card = status
        .card
        .ok_or_else(|| Problem::from_code(ErrorCode::NoCard))?;
    let card_guid =
        CardGuid::parse(&card.guid).map_err(|_| Problem::from_code(ErrorCode::CardError))?;
    let started =
        api::call::<LoginStart>(LoginStart::ROUTE, &LoginStartRequest { card_guid }).await?;
    let signed: CardLoginResponse = bridge
        .post(
            PATH_CARD_LOGIN,
            &CardLoginRequest {
                challenge: started.challenge.to_hex(),
                pin,
                confirm_last_try,
                expected_guid: Some(card.guid),
            },
        )
        .await?;
    let signature = CardSignature::parse(&signed.signature)
        .map_err(|_| Problem::from_code(ErrorCode::CardError))?;
    Ok((started.login_id, signature))
}

async fn sign_in(bridge: Bridge, pin: String, confirm_last_try: bool) -> Result<(), Problem> {
    let (login_id, signature) = card_signs(&bridge, pin, confirm_last_try).await?;
    let finish = LoginFinishRequest {
        login_id,
        signature,
    };
    api::call::<LoginFinish>(LoginFinish::ROUTE, &finish).await?;
    Ok(())
}

#[component]
pub fn SignIn(config: PublicConfig) -> impl IntoView {
    let bridge = Bridge::new(&config.bridge_url);
    let card = RwSignal::new(CardState::Connecting);
    watch_card(&bridge, card);
    let pin = RwSignal::new(String::new());
    let stage = RwSignal::new(Stage::Passcode);
    let problem = RwSignal::new(None::<Problem>);
    let tries_left = move || match card.get() {
        CardState::Present(info) => Some((info.pin_tries_left, info.pin_blocked)),
        _ => None,
    };
    let refresh_bridge = bridge.clone();
    let action = Action::new_local(move |confirm: &bool| {
        let (bridge, pin, confirm) = (bridge.clone(), pin.get_untracked(), *confirm);
        async move { sign_in(bridge, pin, confirm).await }
    });
    // A wrong passcode changes the tries left but is no card event: read them again.
    let refresh = move || {
        let bridge = refresh_bridge.clone();
        leptos::task::spawn_local(async move {
            if let Ok(BridgeStatus {
                card: Some(info), ..
            }) = bridge.get(PATH_STATUS).await
            {
                card.set(CardState::Present(info));
            }
        });
    };
    Effect::new(move |_| match action.value().get() {
        Some(Ok(())) => {
            let _ = window().location().assign("/my-card");
        }
        Some(Err(found)) => {
            refresh();
            stage.set(if found.is(ErrorCode::LastTryNeedsConfirmation) {
                Stage::ConfirmLastTry
            } else {
                Stage::Passcode
            });
            problem.set(Some(found));
        }
        None => {}
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if action.pending().get_untracked() {
            return;
        }
        if pin.get_untracked().is_empty() {
            problem.set(Some(
                Problem::from_code(ErrorCode::InvalidPasscode).on_field("passcode"),
            ));
            return;
        }
        problem.set(None);
        // BRG-6: the last try is spent only after the warning below.
        if tries_left() == Some((1, false)) && stage.get_untracked() == Stage::Passcode {
            stage.set(Stage::ConfirmLastTry);
            return;
        }
        action.dispatch_local(stage.get_untracked() == Stage::ConfirmLastTry);
    };
    view! {
        <p id="progress" class="app-progress" role="status" aria-live="polite">
            {move || if action.pending().get() { "Checking your passcode on your smartcard…" } else { "" }}
        </p>
        <h1 tabindex="-1">"Sign in with your smartcard"</h1>
        {move || problem.get().map(|p| view! { <ProblemSummary problem=p/> })}
        <div id="card-status" class="nhsuk-inset-text" aria-live="polite">
            {move || match (card.get(), tries_left()) {
                (_, Some((_, true))) => view! {
                    <p><strong>"Your smartcard passcode is locked."</strong></p>
                    <p><a href="/unlock">"Unlock your smartcard"</a></p>
                }.into_any(),
                (_, Some((n, false))) => view! {
                    <p><strong>"Smartcard detected. "</strong>{tries_left_text(u32::from(n))}</p>
                }.into_any(),
                (CardState::BridgeUnreachable, _) => view! {
                    <p>{Problem::bridge_unreachable().message}</p>
                }.into_any(),
                (CardState::NoCard, _) => view! { <p>"Insert your smartcard into the reader."</p> }.into_any(),
                _ => view! { <p>"Looking for your smartcard…"</p> }.into_any(),
            }}
        </div>
        <form on:submit=submit novalidate>
            {move || (stage.get() == Stage::ConfirmLastTry).then(|| view! {
                <div class="nhsuk-warning-callout" id="last-try-warning">
                    <h2 class="nhsuk-warning-callout__label">"This is your last try"</h2>
                    <p>"If this passcode is wrong, your smartcard will lock and you will need to unlock it."</p>
                </div>
            })}
            <div class="nhsuk-form-group">
                <label class="nhsuk-label" for="passcode">"Smartcard passcode"</label>
                <input
                    class="nhsuk-input nhsuk-input--width-10"
                    id="passcode"
                    name="passcode"
                    type="password"
                    autocomplete="current-password"
                    on:input=move |ev| pin.set(event_target_value(&ev))
                />
            </div>
            <button type="submit" id="sign-in-button" class="nhsuk-button">
                {move || if stage.get() == Stage::ConfirmLastTry { "Use my last try" } else { "Sign in" }}
            </button>
        </form>
    }
}
