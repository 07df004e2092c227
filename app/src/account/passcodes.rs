//! Manage Passcodes (PASS-1…PASS-3, seed 003), signed in: the Passcode Status, then Reset
//! Passcodes — New and Confirm for the Account Recovery, Verification and Smartcard
//! Passcodes, "Blank passcode" for the first two, and the Current Smartcard Passcode
//! (checked on the card: tries read first, the warning before the last try, BRG-6).
//! One Update sets everything chosen together: the server-side passcodes go to the
//! server; a new Smartcard Passcode goes only to the bridge, which changes it on the card
//! under the server's grant — and only once the card took it are the others set.

use api_types::auth::Session;
use api_types::bridge::{ChangePinRequest, ChangePinResponse, PATH_CHANGE_PIN};
use api_types::passcode::{CardPasscode, PasscodeError};
use api_types::passcodes::{
    AccountPasscode, FinishPasscodeUpdate, PasscodeChange, PasscodeUpdateFinish,
    PasscodeUpdateRequest, PasscodeUpdateStarted, PasscodesDue, PasscodesView, UpdatePasscodes,
    ViewPasscodes,
};
use api_types::policy::Policy;
use api_types::time::utc_date;
use api_types::unlock::PublicConfig;
use api_types::{CardGuid, ErrorCode};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::passcodes_due::PasscodesNotice;
use crate::api;
use crate::bridge::{watch_card, Bridge, CardState};
use crate::card_check::{
    by_passcode, card_signs, gate_card, passcode_input, refresh_card, CardTries, Gate,
    PasscodeField,
};
use crate::errors::{Problem, ProblemSummary};
use crate::widgets::{row, Field};

const CURRENT: &str = "current-passcode";
const NEW_CARD: &str = "new-card-passcode";
const CONFIRM_CARD: &str = "confirm-card-passcode";

/// One server-side passcode's inputs: New, Confirm, and "Blank passcode".
#[derive(Clone, Copy)]
struct ServerSide {
    new: &'static str,
    confirm: &'static str,
    blank: &'static str,
}

const RECOVERY: ServerSide = ServerSide {
    new: "new-recovery",
    confirm: "confirm-recovery",
    blank: "blank-recovery",
};
const VERIFICATION: ServerSide = ServerSide {
    new: "new-verification",
    confirm: "confirm-verification",
    blank: "blank-verification",
};

/// What one Update asks for, checked before anything is sent.
#[derive(Debug, Clone, PartialEq)]
struct Chosen {
    account_recovery: PasscodeChange,
    verification: PasscodeChange,
    card: Option<CardPasscode>,
}

/// The problem about `error`, on the input it is about.
fn typed_wrong(error: &PasscodeError, inputs: (&'static str, &'static str)) -> Problem {
    let field = if *error == PasscodeError::Mismatch {
        inputs.1
    } else {
        inputs.0
    };
    Problem::from_code(ErrorCode::InvalidPasscode)
        .with_message(&error.to_string())
        .on_field(field)
}

/// PASS-2: a server-side passcode's inputs — empty keeps it, "Blank passcode" removes it.
fn server_change(
    inputs: ServerSide,
    (new, confirm, blank): (&str, &str, bool),
) -> Result<PasscodeChange, Problem> {
    match (new.is_empty() && confirm.is_empty(), blank) {
        (true, false) => Ok(PasscodeChange::Keep),
        (true, true) => Ok(PasscodeChange::Blank),
        (false, true) => Err(Problem::from_code(ErrorCode::InvalidPasscode)
            .with_message("Enter a new passcode or tick \"Blank passcode\", not both.")
            .on_field(inputs.new)),
        (false, false) => AccountPasscode::parse_confirmed(new, confirm)
            .map(PasscodeChange::Set)
            .map_err(|error| typed_wrong(&error, (inputs.new, inputs.confirm))),
    }
}

/// PASS-2 / POL-2: everything the form asks for, or the first problem with it.
fn chosen(
    recovery: (&str, &str, bool),
    verification: (&str, &str, bool),
    card: (&str, &str),
    policy: Policy,
) -> Result<Chosen, Problem> {
    let account_recovery = server_change(RECOVERY, recovery)?;
    let verification = server_change(VERIFICATION, verification)?;
    let card = match card {
        ("", "") => None,
        (new, confirm) => {
            let passcode = CardPasscode::parse_confirmed(new, confirm)
                .map_err(|error| typed_wrong(&error, (NEW_CARD, CONFIRM_CARD)))?;
            if !policy.allows_new_card_passcode(&passcode) {
                return Err(Problem::from_code(ErrorCode::InvalidPasscode)
                    .with_message(policy.new_card_passcode_rule())
                    .on_field(NEW_CARD));
            }
            Some(passcode)
        }
    };
    let nothing = account_recovery == PasscodeChange::Keep
        && verification == PasscodeChange::Keep
        && card.is_none();
    if nothing {
        return Err(Problem::from_code(ErrorCode::NothingToUpdate).on_field(RECOVERY.new));
    }
    Ok(Chosen {
        account_recovery,
        verification,
        card,
    })
}

/// A refusal shown by the input it is about.
fn on_its_field(problem: Problem) -> Problem {
    let field = [
        (ErrorCode::AccountRecoveryPasscodeReused, RECOVERY.new),
        (ErrorCode::VerificationPasscodeReused, VERIFICATION.new),
        (ErrorCode::PinReused, NEW_CARD),
    ]
    .into_iter()
    .find(|(code, _)| problem.is(*code));
    match field {
        Some((_, field)) if problem.field.is_none() => problem.on_field(field),
        _ => by_passcode(problem, CURRENT),
    }
}

/// The Update: the current passcode proven on the card; the server-side changes sent;
/// a new card passcode changed by the bridge under the server's grant, then the rest set.
async fn update(
    bridge: Bridge,
    chosen: Chosen,
    (current, confirm_last_try): (CardPasscode, bool),
    card_guid: CardGuid,
) -> Result<PasscodesView, Problem> {
    let (login_id, signature) =
        card_signs(&bridge, &current, confirm_last_try, Some(card_guid)).await?;
    let request = PasscodeUpdateRequest {
        login_id,
        signature,
        account_recovery: chosen.account_recovery,
        verification: chosen.verification,
        new_card_passcode: chosen.card.is_some(),
    };
    match api::call::<UpdatePasscodes>(&(), &request).await? {
        PasscodeUpdateStarted::Updated(view) => Ok(view),
        PasscodeUpdateStarted::CardNext { update_id, grant } => {
            let new_pin = chosen
                .card
                .ok_or_else(|| Problem::from_code(ErrorCode::Internal))?;
            let change = ChangePinRequest {
                grant: Some(grant),
                current_pin: current,
                new_pin,
                // The passcode was just right: the card has all its tries.
                confirm_last_try: false,
            };
            bridge
                .post::<_, ChangePinResponse>(PATH_CHANGE_PIN, &change)
                .await?;
            api::call::<FinishPasscodeUpdate>(&update_id, &PasscodeUpdateFinish {}).await
        }
    }
}

/// The inputs of one server-side passcode, bound to `values`.
fn server_side_fieldset(
    legend: &'static str,
    inputs: ServerSide,
    values: (RwSignal<String>, RwSignal<String>, RwSignal<bool>),
    problem: RwSignal<Option<Problem>>,
) -> impl IntoView {
    let (new, confirm, blank) = values;
    view! {
        <fieldset class="nhsuk-fieldset">
            <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">{legend}</legend>
            {Field::new(inputs.new, "New passcode").password("new-password").view(problem, new)}
            {Field::new(inputs.confirm, "Confirm new passcode").password("new-password").view(problem, confirm)}
            <div class="nhsuk-checkboxes__item">
                <input class="nhsuk-checkboxes__input" id=inputs.blank name=inputs.blank type="checkbox"
                    prop:checked=move || blank.get()
                    on:change=move |ev| blank.set(event_target_checked(&ev))/>
                <label class="nhsuk-label nhsuk-checkboxes__label" for=inputs.blank>"Blank passcode"</label>
            </div>
        </fieldset>
    }
}

#[component]
pub fn ManagePasscodes(config: PublicConfig) -> impl IntoView {
    let bridge = Bridge::new(&config.bridge_url);
    let card = RwSignal::new(CardState::Connecting);
    watch_card(&bridge, card);
    let policy = config.policy;
    let status = RwSignal::new(None::<PasscodesView>);
    let session_card = RwSignal::new(None::<CardGuid>);
    let due = RwSignal::new(PasscodesDue::NotDue);
    let signed_out = RwSignal::new(false);
    leptos::task::spawn_local(async move {
        match api::call::<Session>(&(), &()).await {
            Ok(info) => {
                session_card.set(Some(info.card_guid));
                due.set(info.passcodes);
                status.set(api::call::<ViewPasscodes>(&(), &()).await.ok());
            }
            Err(found) => signed_out.set(found.is(ErrorCode::NotSignedIn)),
        }
    });
    let recovery = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(false),
    );
    let verification = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(false),
    );
    let new_card = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let pin = RwSignal::new(String::new());
    let last_try = RwSignal::new(false);
    let problem = RwSignal::new(None::<Problem>);
    let updated = RwSignal::new(false);
    let (run_bridge, refresh_bridge, tries_bridge) = (bridge.clone(), bridge.clone(), bridge);
    let action = Action::new_local(
        move |(chosen, current, guid): &(Chosen, (CardPasscode, bool), CardGuid)| {
            update(run_bridge.clone(), chosen.clone(), current.clone(), *guid)
        },
    );
    let clear = move || {
        for text in [
            recovery.0,
            recovery.1,
            verification.0,
            verification.1,
            new_card.0,
            new_card.1,
        ] {
            text.set(String::new());
        }
        recovery.2.set(false);
        verification.2.set(false);
    };
    Effect::new(move |_| match action.value().get() {
        Some(Ok(view)) => {
            status.set(Some(view));
            due.set(PasscodesDue::NotDue);
            clear();
            updated.set(true);
        }
        Some(Err(found)) => {
            refresh_card(refresh_bridge.clone(), card);
            last_try.set(found.is(ErrorCode::LastTryNeedsConfirmation));
            problem.set(Some(on_its_field(found)));
        }
        None => {}
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if action.pending().get_untracked() {
            return;
        }
        problem.set(None);
        updated.set(false);
        let read = |(new, confirm, blank): (RwSignal<String>, RwSignal<String>, RwSignal<bool>)| {
            (
                new.get_untracked(),
                confirm.get_untracked(),
                blank.get_untracked(),
            )
        };
        let (r, v) = (read(recovery), read(verification));
        let c = (new_card.0.get_untracked(), new_card.1.get_untracked());
        let wanted = match chosen((&r.0, &r.1, r.2), (&v.0, &v.1, v.2), (&c.0, &c.1), policy) {
            Ok(wanted) => wanted,
            Err(found) => return problem.set(Some(found)),
        };
        let Some(guid) = session_card.get_untracked() else {
            return problem.set(Some(Problem::from_code(ErrorCode::NotSignedIn)));
        };
        match gate_card(
            CURRENT,
            &pin.get_untracked(),
            &card.get_untracked(),
            Some(guid),
            last_try.get_untracked(),
        ) {
            Gate::Refuse(found) => problem.set(Some(found)),
            Gate::WarnLastTry => last_try.set(true),
            Gate::Verify {
                passcode,
                confirm_last_try,
            } => {
                pin.set(String::new());
                action.dispatch_local((wanted, (passcode, confirm_last_try), guid));
            }
        }
    };
    let set_or_not = |set: bool| if set { "Set" } else { "Not set" }.to_owned();
    view! {
        <p id="progress" class="app-progress" role="status" aria-live="polite">
            {move || if action.pending().get() { "Updating your passcodes… keep your smartcard in the reader." } else { "" }}
        </p>
        <h1 tabindex="-1">"Manage Passcodes"</h1>
        {move || problem.get().map(|p| view! { <ProblemSummary problem=p/> })}
        {move || view! { <PasscodesNotice due=due.get() here=true/> }}
        {move || updated.get().then(|| view! {
            <div class="nhsuk-inset-text" id="passcodes-updated" role="status">
                <p>"Your passcodes have been updated successfully."</p>
            </div>
        })}
        {move || signed_out.get().then(|| view! {
            <p><a href="/login?next=/passcodes" id="sign-in-link">"Sign in with your smartcard"</a></p>
        })}
        <h2>"Passcode Status"</h2>
        {move || status.get().map(|view| view! {
            <dl class="nhsuk-summary-list">
                {row("Account Recovery Passcode", "status-recovery", set_or_not(view.account_recovery_set))}
                {row("Verification Passcode", "status-verification", set_or_not(view.verification_set))}
                {row("Passcodes last set", "status-last-set", view.last_set_at.map(utc_date).unwrap_or_else(|| "Not recorded".into()))}
            </dl>
        })}
        <h2>"Reset Passcodes"</h2>
        <p>
            "Enter and confirm the new passcodes you want. A passcode used in its last five \
             changes is not accepted, and you are strongly advised to set all the passcodes \
             you need at the same time."
        </p>
        <form on:submit=submit novalidate>
            {server_side_fieldset("Account Recovery Passcode (8 to 20 characters)", RECOVERY, recovery, problem)}
            {server_side_fieldset("Verification Passcode (8 to 20 characters)", VERIFICATION, verification, problem)}
            <fieldset class="nhsuk-fieldset">
                <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">"Smartcard Passcode"</legend>
                {Field::new(NEW_CARD, "New passcode").hint("new-card-passcode-hint", policy.new_card_passcode_rule()).password("new-password").view(problem, new_card.0)}
                {Field::new(CONFIRM_CARD, "Confirm new passcode").password("new-password").view(problem, new_card.1)}
            </fieldset>
            <CardTries bridge=tries_bridge card=card/>
            <PasscodeField
                field=passcode_input(CURRENT, "Current Smartcard Passcode", "current-passcode-hint")
                pin=pin
                last_try=last_try
                problem=problem
            />
            <button type="submit" id="update-button" class="nhsuk-button">
                {move || if last_try.get() { "Use my last try" } else { "Update" }}
            </button>
        </form>
        <p><a href="/my-card">"Back to My card"</a></p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEEP: (&str, &str, bool) = ("", "", false);

    fn field_of(result: Result<Chosen, Problem>) -> Option<&'static str> {
        result.err().and_then(|p| p.field)
    }

    #[test]
    fn pass_2_empty_keeps_blank_removes_and_both_at_once_is_refused() {
        let blank = chosen(("", "", true), KEEP, ("", ""), Policy::Seed2006).unwrap();
        assert_eq!(blank.account_recovery, PasscodeChange::Blank);
        assert_eq!(blank.verification, PasscodeChange::Keep);
        assert!(blank.card.is_none());
        let both = chosen(
            KEEP,
            ("Verify pass 1", "Verify pass 1", true),
            ("", ""),
            Policy::Seed2006,
        );
        assert_eq!(field_of(both), Some(VERIFICATION.new));
        let nothing = chosen(KEEP, KEEP, ("", ""), Policy::Seed2006);
        assert!(nothing.is_err_and(|p| p.is(ErrorCode::NothingToUpdate)));
    }

    #[test]
    fn pass_1_pass_2_each_new_passcode_is_checked_by_its_own_inputs() {
        let short = chosen(("short", "short", false), KEEP, ("", ""), Policy::Seed2006);
        assert_eq!(field_of(short), Some(RECOVERY.new));
        let mismatch = chosen(
            KEEP,
            ("Verify pass 1", "Verify pass 2", false),
            ("", ""),
            Policy::Seed2006,
        );
        assert_eq!(field_of(mismatch), Some(VERIFICATION.confirm));
        let card_mismatch = chosen(KEEP, KEEP, ("1234", "1235"), Policy::Seed2006);
        assert_eq!(field_of(card_mismatch), Some(CONFIRM_CARD));
        let all = chosen(
            ("Recovery pass 1", "Recovery pass 1", false),
            ("Verify pass 1", "Verify pass 1", false),
            ("5678", "5678"),
            Policy::Seed2006,
        )
        .unwrap();
        assert!(matches!(all.account_recovery, PasscodeChange::Set(_)));
        assert!(matches!(all.verification, PasscodeChange::Set(_)));
        assert!(all.card.is_some());
    }

    #[test]
    fn pol_2_a_new_card_passcode_follows_the_profile() {
        assert!(chosen(KEEP, KEEP, ("abcd", "abcd"), Policy::Seed2006).is_ok());
        let letters = chosen(KEEP, KEEP, ("abcdef", "abcdef"), Policy::Nhs2023);
        assert_eq!(field_of(letters), Some(NEW_CARD));
        assert!(chosen(KEEP, KEEP, ("123456", "123456"), Policy::Nhs2023).is_ok());
    }

    #[test]
    fn pass_3_a_reused_passcode_is_shown_by_its_own_input() {
        let shown = |code| on_its_field(Problem::from_code(code)).field;
        assert_eq!(
            shown(ErrorCode::AccountRecoveryPasscodeReused),
            Some(RECOVERY.new)
        );
        assert_eq!(
            shown(ErrorCode::VerificationPasscodeReused),
            Some(VERIFICATION.new)
        );
        assert_eq!(shown(ErrorCode::PinReused), Some(NEW_CARD));
        assert_eq!(shown(ErrorCode::WrongPin), Some(CURRENT));
    }
}
