//! RA-5: the RA's own card, followed while the console is open. When the card the RA
//! signed in with leaves the reader (or another card takes its place) the session ends at
//! once: a console left open is closed by taking the card. And when the server refuses
//! an action that gives someone access with `card_proof_required`, the RA enters their
//! passcode again on that card ([`crate::card_check`]: tries read first, the last-try
//! warning, no other card) to open 5 more minutes, then presses the action again.

use api_types::auth::{CardAgainRequest, Logout, LogoutRequest, ProveCardAgain};
use api_types::unlock::PublicConfig;
use api_types::{CardGuid, ErrorCode};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::desk::{Desk, Did};
use super::desk_renewal::DeskRenewal;
use crate::api;
use crate::bridge::{watch_card, Bridge, CardState};
use crate::card_check::{by_passcode, card_signs, gate_card, passcode_input, refresh_card};
use crate::card_check::{Gate, PasscodeField};
use crate::errors::Problem;
use crate::submit::{Screens, Submit};

const PASSCODE_FIELD: &str = "card-again-passcode";

/// What the card in the reader means for the console's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Follow {
    /// The RA's own card is in the reader.
    Here,
    /// No card, or another card: the RA has gone; the session ends.
    Gone,
    /// Not known yet (the bridge connecting, or out of reach): nothing changes.
    Unknown,
}

/// `at_desk`: the cardholder's card while the RA renews it at the desk (RA-3): it, or no
/// card while the two are swapped, keeps the console open; any other card closes it.
pub(super) fn follow(state: &CardState, mine: CardGuid, at_desk: Option<CardGuid>) -> Follow {
    match state {
        CardState::Present(info) if info.guid == mine => Follow::Here,
        CardState::Present(info) if Some(info.guid) == at_desk => Follow::Here,
        CardState::NoCard if at_desk.is_some() => Follow::Unknown,
        CardState::Present(_) | CardState::NoCard => Follow::Gone,
        _ => Follow::Unknown,
    }
}

/// The RA's card, as the console follows it.
#[derive(Clone, Copy)]
pub(super) struct RaCard {
    bridge: StoredValue<Bridge>,
    card: RwSignal<CardState>,
    pub(super) mine: CardGuid,
    /// The card left and the session was ended.
    pub(super) ended: RwSignal<bool>,
    /// RA-3: a renewal of a cardholder's card at the desk, while it is under way.
    pub(super) desk: DeskRenewal,
}

impl RaCard {
    pub(super) fn bridge(&self) -> Bridge {
        self.bridge.get_value()
    }

    pub(super) fn card(&self) -> RwSignal<CardState> {
        self.card
    }

    /// Follows the card the RA signed in with (`mine`); ends the session when it goes.
    pub(super) fn follow(config: &PublicConfig, mine: CardGuid) -> Self {
        let bridge = Bridge::new(&config.bridge_url);
        let card = RwSignal::new(CardState::Connecting);
        watch_card(&bridge, card);
        let ra = Self {
            bridge: StoredValue::new(bridge),
            card,
            mine,
            ended: RwSignal::new(false),
            desk: DeskRenewal::new(),
        };
        ra.desk.follow(ra);
        Effect::new(move |_| {
            let at_desk = ra.desk.card();
            if follow(&card.get(), mine, at_desk) == Follow::Gone && !ra.ended.get_untracked() {
                ra.ended.set(true);
                leptos::task::spawn_local(async {
                    let _ = api::call::<Logout>(&(), &LogoutRequest {}).await;
                });
            }
        });
        ra
    }
}

/// The page once the card has gone: signed out, and how to come back.
pub(super) fn ended() -> impl IntoView {
    view! {
        <h1 tabindex="-1" id="ra-card-gone">"You have been signed out"</h1>
        <p>
            "You took your smartcard out of the reader, so the RA console closed. Put your \
             smartcard back in to sign in again."
        </p>
        <p><a href="/login?next=/ra" id="sign-in-again-link">"Sign in with your smartcard"</a></p>
    }
}

/// The passcode form's state; all handles, so it is `Copy` into every closure.
#[derive(Clone, Copy)]
struct CardAgain {
    ra: RaCard,
    desk: Desk,
    problem: RwSignal<Option<Problem>>,
    /// BRG-6: one try left; the RA must say to use it.
    last_try: RwSignal<bool>,
}

impl Screens for CardAgain {
    type Step = i64;

    fn problem(&self) -> RwSignal<Option<Problem>> {
        self.problem
    }

    /// Proven: the console says so; the action is pressed again.
    fn advance(&self, _until: i64) {
        self.last_try.set(false);
        self.problem.set(None);
        self.desk.confirmed(Did::said(
            "You confirmed it is you. For the next 5 minutes you can make changes: press \
             the button of the change again."
                .to_owned(),
        ));
    }

    fn fail(&self, problem: Problem) {
        refresh_card(self.ra.bridge.get_value(), self.ra.card);
        self.last_try
            .set(problem.is(ErrorCode::LastTryNeedsConfirmation));
        self.problem.set(Some(by_passcode(problem, PASSCODE_FIELD)));
    }
}

/// RA-5: shown when an action was refused with `card_proof_required`.
#[component]
pub(super) fn CardAgainForm(ra: RaCard, desk: Desk) -> impl IntoView {
    let form = CardAgain {
        ra,
        desk,
        problem: RwSignal::new(None),
        last_try: RwSignal::new(false),
    };
    let pin = RwSignal::new(String::new());
    let prove = Submit::new(
        form,
        "Checking your passcode on your smartcard…",
        move |(passcode, confirm_last_try): &(api_types::passcode::CardPasscode, bool)| {
            let bridge = ra.bridge.get_value();
            let (passcode, confirm_last_try) = (passcode.clone(), *confirm_last_try);
            async move {
                let (login_id, signature) =
                    card_signs(&bridge, &passcode, confirm_last_try, Some(ra.mine)).await?;
                let request = CardAgainRequest {
                    login_id,
                    signature,
                };
                Ok(api::call::<ProveCardAgain>(&(), &request).await?.until)
            }
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if prove.pending_untracked() {
            return;
        }
        let card = ra.card.get_untracked();
        let typed = pin.get_untracked();
        match gate_card(
            PASSCODE_FIELD,
            &typed,
            &card,
            Some(ra.mine),
            form.last_try.get_untracked(),
        ) {
            Gate::Refuse(problem) => form.problem.set(Some(problem)),
            Gate::WarnLastTry => {
                form.problem.set(None);
                form.last_try.set(true);
            }
            Gate::Verify {
                passcode,
                confirm_last_try,
            } => {
                // The passcode lives only in the running step (dropped when it ends).
                pin.set(String::new());
                prove.dispatch(|| Ok((passcode, confirm_last_try)));
            }
        }
    };
    view! {
        <div class="nhsuk-card" id="card-again">
            <div class="nhsuk-card__content">
                <h2 class="nhsuk-card__heading">"Confirm it is you"</h2>
                <p>
                    "Changes that give someone access need your smartcard passcode again if \
                     you signed in or confirmed it more than 5 minutes ago."
                </p>
                <form on:submit=submit novalidate>
                    <PasscodeField
                        field=passcode_input(PASSCODE_FIELD, "Your smartcard passcode", "card-again-hint")
                        pin=pin
                        last_try=form.last_try
                        problem=form.problem
                    />
                    {move || form.problem.get().filter(|p| p.field.is_none()).map(|p| view! {
                        <p class="nhsuk-error-message" id="card-again-problem">{p.message}</p>
                    })}
                    {prove.status_line("card-again-progress")}
                    <button type="submit" id="card-again-button" class="nhsuk-button">
                        {move || if form.last_try.get() { "Use my last try" } else { "Confirm with my smartcard" }}
                    </button>
                </form>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card_check::{card, MINE, OTHER};

    #[test]
    fn ra_5_the_console_ends_when_the_ras_card_leaves_or_another_takes_its_place() {
        let mine = CardGuid::parse(MINE).unwrap_or_else(|_| unreachable!());
        assert_eq!(follow(&card(MINE, 3), mine, None), Follow::Here);
        assert_eq!(follow(&CardState::NoCard, mine, None), Follow::Gone);
        assert_eq!(follow(&card(OTHER, 3), mine, None), Follow::Gone);
        for unknown in [CardState::Connecting, CardState::BridgeUnreachable] {
            assert_eq!(follow(&unknown, mine, None), Follow::Unknown);
        }
    }

    #[test]
    fn ra_3_at_the_desk_the_cardholders_card_keeps_the_console_open_and_no_other() {
        let mine = CardGuid::parse(MINE).unwrap_or_else(|_| unreachable!());
        let theirs = CardGuid::parse(OTHER).unwrap_or_else(|_| unreachable!());
        let third = CardGuid::from_bytes([9; 16]);
        assert_eq!(follow(&card(OTHER, 3), mine, Some(theirs)), Follow::Here);
        assert_eq!(
            follow(&CardState::NoCard, mine, Some(theirs)),
            Follow::Unknown
        );
        assert_eq!(follow(&card(MINE, 3), mine, Some(theirs)), Follow::Here);
        assert_eq!(follow(&card(OTHER, 3), mine, Some(third)), Follow::Gone);
    }
}
