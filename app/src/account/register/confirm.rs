//! Confirm it's you (REG-1): the card's tries left, the passcode entered again and
//! verified on the card signed in with, which then signs a fresh login challenge; the
//! warning before the last try (BRG-6). Then the server opens the registration.

use api_types::passcode::CardPasscode;
use api_types::register::{RegisterBegin, RegisterBeginRequest};
use api_types::ErrorCode;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::{Reg, Step, Submit};
use crate::api;
use crate::card_check::{
    card_signs, gate_card, passcode_input, refresh_card, CardTries, Gate, PasscodeField,
    PASSCODE_FIELD,
};
use crate::submit::Screens;

#[component]
pub(super) fn ConfirmPage(reg: Reg, name: String) -> impl IntoView {
    let pin = RwSignal::new(String::new());
    // BRG-6: one try left; the user must say to use it.
    let last_try = RwSignal::new(false);
    let bridge = reg.bridge();
    let check = Submit::new(
        reg,
        "Checking your passcode on your smartcard…",
        move |(passcode, confirm_last_try): &(CardPasscode, bool)| {
            let (bridge, passcode, confirm_last_try) =
                (bridge.clone(), passcode.clone(), *confirm_last_try);
            async move {
                let (login_id, signature) =
                    card_signs(&bridge, &passcode, confirm_last_try, Some(reg.card_guid)).await?;
                let request = RegisterBeginRequest {
                    login_id,
                    signature,
                };
                let begun = api::call::<RegisterBegin>(&(), &request).await?;
                Ok(Step::Details(begun))
            }
        },
    );
    // After a problem: the tries left may have changed, and the bridge may want the
    // last try confirmed.
    Effect::new(move |_| {
        if let Some(problem) = reg.problem.get() {
            last_try.set(problem.is(ErrorCode::LastTryNeedsConfirmation));
            refresh_card(reg.bridge(), reg.card);
        }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if check.pending_untracked() {
            return;
        }
        // REG-1: only the card this session signed in with; no passcode goes to another.
        match gate_card(
            PASSCODE_FIELD,
            &pin.get_untracked(),
            &reg.card.get_untracked(),
            Some(reg.card_guid),
            last_try.get_untracked(),
        ) {
            Gate::Refuse(problem) => reg.fail(problem),
            Gate::WarnLastTry => {
                reg.problem.set(None);
                last_try.set(true);
            }
            Gate::Verify {
                passcode,
                confirm_last_try,
            } => {
                // The passcode lives only in the running step (dropped when it ends).
                pin.set(String::new());
                check.dispatch(|| Ok((passcode, confirm_last_try)));
            }
        }
    };
    view! {
        {check.progress_line()}
        <span class="nhsuk-caption-l">"Register for self-service unlock"</span>
        <h1 tabindex="-1">"Confirm it's you"</h1>
        <p>{format!("You are signed in as {name}.")}</p>
        <p>
            "To confirm that this smartcard is yours, keep it in the reader and enter its passcode \
             again. Then you will choose 4 security questions and confirm your email address, and \
             we will email you a registration code."
        </p>
        <CardTries bridge=reg.bridge() card=reg.card/>
        <form on:submit=submit novalidate>
            <PasscodeField
                field=passcode_input(PASSCODE_FIELD, "Smartcard passcode", "passcode-hint")
                pin=pin
                last_try=last_try
                problem=reg.problem
            />
            <button type="submit" id="confirm-passcode-button" class="nhsuk-button">
                {move || if last_try.get() { "Use my last try" } else { "Continue" }}
            </button>
        </form>
    }
}
