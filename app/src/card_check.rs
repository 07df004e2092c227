//! The passcode checked on the card, shared by sign-in (AUTH-1), the registration's
//! "Confirm it's you" (REG-1) and My card's contact change (REG-5): the card's tries left
//! from the bridge, read before anything is tried, the warning before the last try and
//! `confirm_last_try` only after it (BRG-6), another card than the session's refused
//! before any passcode is sent, and the card signing a fresh login challenge with its 9A
//! key. The passcode goes to the bridge on this computer only, never to the server.

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
use crate::widgets::Field;

/// The passcode input's id on the sign-in page and the registration's.
pub(crate) const PASSCODE_FIELD: &str = "passcode";

/// The card passcode input: `id`, `label`, and the hint (`hint` is its id) that says
/// where the passcode goes.
pub(crate) fn passcode_input(id: &'static str, label: &'static str, hint: &'static str) -> Field {
    Field::new(id, label)
        .hint(
            hint,
            "It is checked on your smartcard. It is not sent to us.",
        )
        .password("current-password")
}

/// AUTH-1 / REG-1: the passcode verified on the card in the reader, which then signs a
/// fresh login challenge with its 9A key (the bridge applies BRG-6): the login id and
/// the signature, for the server. With `expected`, any other card is refused before a
/// try is spent.
pub(crate) async fn card_signs(
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
pub(crate) enum Gate {
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
pub(crate) fn tries(card: &CardState) -> Option<(u8, bool)> {
    match card {
        CardState::Present(info) => Some((info.pin_tries_left, info.pin_blocked)),
        _ => None,
    }
}

/// BRG-6 / CARD-2: what to do with the passcode typed into input `field`, given the
/// card's tries left and whether the last-try warning is showing. A passcode the card
/// could never hold, or a locked card, costs no try.
pub(crate) fn gate(
    field: &'static str,
    typed: &str,
    tries: Option<(u8, bool)>,
    warned: bool,
) -> Gate {
    if typed.is_empty() {
        return Gate::Refuse(
            Problem::from_code(ErrorCode::InvalidPasscode)
                .with_message("Enter your smartcard passcode.")
                .on_field(field),
        );
    }
    let Ok(passcode) = CardPasscode::parse(typed) else {
        return Gate::Refuse(Problem::from_code(ErrorCode::InvalidPasscode).on_field(field));
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

/// REG-1 / REG-5 / BRG-6: [`gate`], after the card in the reader: with `expected` (the
/// session's card), any other card is refused before a passcode is sent to it.
pub(crate) fn gate_card(
    field: &'static str,
    typed: &str,
    card: &CardState,
    expected: Option<CardGuid>,
    warned: bool,
) -> Gate {
    if let (Some(expected), CardState::Present(info)) = (expected, card) {
        if info.guid != expected {
            return Gate::Refuse(Problem::from_code(ErrorCode::CardChanged));
        }
    }
    gate(field, typed, tries(card), warned)
}

/// A passcode the card refused is shown by its input `field` (with the tries left).
pub(crate) fn by_passcode(problem: Problem, field: &'static str) -> Problem {
    let about_passcode = problem.is(ErrorCode::WrongPin) || problem.is(ErrorCode::InvalidPasscode);
    if about_passcode && problem.field.is_none() {
        problem.on_field(field)
    } else {
        problem
    }
}

/// A wrong passcode changes the tries left but is no card event: read them again.
pub(crate) fn refresh_card(bridge: Bridge, card: RwSignal<CardState>) {
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
pub(crate) fn CardTries(bridge: Bridge, card: RwSignal<CardState>) -> impl IntoView {
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

/// The last-try warning (BRG-6) and the passcode input `field` (see
/// [`passcode_input`]), with its error beside it. The input shows `pin`, so clearing
/// `pin` clears it.
#[component]
pub(crate) fn PasscodeField(
    field: Field,
    pin: RwSignal<String>,
    last_try: RwSignal<bool>,
    problem: RwSignal<Option<Problem>>,
) -> impl IntoView {
    view! {
        {move || last_try.get().then(|| view! {
            <div class="nhsuk-warning-callout" id="last-try-warning" role="alert">
                <h2 class="nhsuk-warning-callout__label">"This is your last try"</h2>
                <p>"If this passcode is wrong, your smartcard will lock and you will need to unlock it."</p>
            </div>
        })}
        {field.view(problem, pin)}
    }
}

/// For tests: a card in the reader, as the bridge reports it, with `tries` left.
#[cfg(test)]
pub(crate) fn card(guid: &str, tries: u8) -> CardState {
    let json =
        format!(r#"{{"reader":"r","guid":"{guid}","pin_tries_left":{tries},"pin_blocked":false}}"#);
    serde_json::from_str(&json).map_or(CardState::NoCard, CardState::Present)
}

/// For tests: the session's card, and another.
#[cfg(test)]
pub(crate) const MINE: &str = "0102030405060708090a0b0c0d0e0f10";
#[cfg(test)]
pub(crate) const OTHER: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

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
        assert_eq!(
            gate(PASSCODE_FIELD, "1234", Some((1, false)), false),
            Gate::WarnLastTry
        );
        assert!(matches!(
            gate(PASSCODE_FIELD, "1234", Some((1, false)), true),
            Gate::Verify {
                confirm_last_try: true,
                ..
            }
        ));
        assert!(matches!(
            gate(PASSCODE_FIELD, "1234", Some((3, false)), false),
            Gate::Verify {
                confirm_last_try: false,
                ..
            }
        ));
        // Tries not known (bridge still connecting): the bridge itself refuses the last.
        assert!(matches!(
            gate(PASSCODE_FIELD, "1234", None, false),
            Gate::Verify {
                confirm_last_try: false,
                ..
            }
        ));
    }

    #[test]
    fn card_2_a_passcode_the_card_cannot_hold_costs_no_try() {
        for typed in ["", "123", "123456789", "12é4"] {
            let problem = refused(gate(PASSCODE_FIELD, typed, Some((3, false)), false));
            assert!(
                problem.is_some_and(
                    |p| p.is(ErrorCode::InvalidPasscode) && p.field == Some(PASSCODE_FIELD)
                ),
                "{typed:?}"
            );
        }
        let locked = refused(gate(PASSCODE_FIELD, "1234", Some((0, true)), true));
        assert!(locked.is_some_and(|p| p.is(ErrorCode::PinBlocked)));
    }

    #[test]
    fn brg_6_reg_1_another_card_in_the_reader_is_refused_before_a_passcode_is_sent() {
        let mine = CardGuid::parse(MINE).ok();
        assert!(mine.is_some());
        let other = refused(gate_card(
            PASSCODE_FIELD,
            "1234",
            &card(OTHER, 3),
            mine,
            false,
        ));
        assert!(other.is_some_and(|p| p.is(ErrorCode::CardChanged)));
        // Even the last try's warning waits for the right card.
        let last = refused(gate_card(
            PASSCODE_FIELD,
            "1234",
            &card(OTHER, 1),
            mine,
            false,
        ));
        assert!(last.is_some_and(|p| p.is(ErrorCode::CardChanged)));
        assert_eq!(
            gate_card(PASSCODE_FIELD, "1234", &card(MINE, 1), mine, false),
            Gate::WarnLastTry
        );
        assert!(matches!(
            gate_card(PASSCODE_FIELD, "1234", &card(MINE, 3), mine, false),
            Gate::Verify {
                confirm_last_try: false,
                ..
            }
        ));
        // Sign-in takes whichever card is inserted.
        assert!(matches!(
            gate_card(PASSCODE_FIELD, "1234", &card(OTHER, 3), None, false),
            Gate::Verify { .. }
        ));
    }
}
