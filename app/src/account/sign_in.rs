//! Sign in with your smartcard (AUTH-1): the card's tries left, the passcode, the warning
//! before the last try (BRG-6), and a locked card sent to unlock. Then My card, or the RA
//! console page that sent the user here (`?next=/ra…`, RA-1). A card whose renewal was
//! cut off after it made its new keys is finished here, and the user signs in again
//! (CERT-3).

use api_types::auth::{LoginFinish, LoginFinishRequest};
use api_types::bridge::{BridgeStatus, PATH_STATUS};
use api_types::passcode::CardPasscode;
use api_types::passcodes::PasscodesDue;
use api_types::policy::RenewalDue;
use api_types::renewal::{RenewalRecover, RenewalRecoverRequest};
use api_types::unlock::PublicConfig;
use api_types::ErrorCode;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::api;
use crate::bridge::{watch_card, Bridge, CardState};
use crate::card_check::{
    by_passcode, gate, passcode_input, refresh_card, tries, CardTries, Gate, PasscodeField,
    PASSCODE_FIELD,
};
use crate::errors::{Flow, Problem, ProblemSummary};
use crate::renewal_steps::{self, Stage};

/// Where to go once signed in: renewal first when it is forced (CERT-2), then Manage
/// Passcodes when they expired (PASS-4); else `next` when it is a page of this site's RA
/// console, the renewal or Manage Passcodes (a path, never another site's address), else
/// My card.
fn after_sign_in(next: Option<&str>, (renewal, passcodes): (RenewalDue, PasscodesDue)) -> &str {
    let console = |path: &str| {
        path.strip_prefix("/ra")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']))
            && !path.contains("//")
            && !path.contains('\\')
    };
    match next {
        _ if matches!(renewal, RenewalDue::Forced { .. }) => "/renew",
        _ if matches!(passcodes, PasscodesDue::Expired { .. }) => "/passcodes",
        Some(path) if console(path) || path == "/renew" || path == "/passcodes" => path,
        _ => "/my-card",
    }
}

/// What a sign-in came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignedIn {
    /// Signed in; renewal and the passcodes are due or not.
    Due(RenewalDue, PasscodesDue),
    /// The card's cut-off renewal is finished: sign in again with the new certificate.
    RenewalFinished,
}

async fn sign_in(
    bridge: Bridge,
    passcode: CardPasscode,
    confirm_last_try: bool,
    stage: RwSignal<Option<Stage>>,
) -> Result<SignedIn, Problem> {
    let status: BridgeStatus = bridge.get(PATH_STATUS).await?;
    let card_guid = status
        .card
        .ok_or_else(|| Problem::from_code(ErrorCode::NoCard))?
        .guid;
    let (login_id, signature) =
        crate::card_check::card_signs(&bridge, &passcode, confirm_last_try, Some(card_guid))
            .await?;
    let finish = LoginFinishRequest {
        login_id: login_id.clone(),
        signature,
    };
    match api::call::<LoginFinish>(&(), &finish).await {
        Ok(info) => Ok(SignedIn::Due(info.renewal, info.passcodes)),
        Err(found) if found.is(ErrorCode::RenewalUnfinished) => {
            stage.set(Some(Stage::Reading));
            let request = RenewalRecoverRequest {
                card_guid,
                login_id: login_id.clone(),
            };
            let opened = api::call::<RenewalRecover>(&(), &request).await?;
            renewal_steps::on_card(&bridge, opened, stage, Some(login_id)).await?;
            Ok(SignedIn::RenewalFinished)
        }
        Err(found) => Err(found),
    }
}

#[component]
pub fn SignIn(config: PublicConfig) -> impl IntoView {
    let bridge = Bridge::new(&config.bridge_url);
    let card = RwSignal::new(CardState::Connecting);
    watch_card(&bridge, card);
    let pin = RwSignal::new(String::new());
    // BRG-6: one try left; the user must say to use it.
    let last_try = RwSignal::new(false);
    let problem = RwSignal::new(None::<Problem>);
    let stage = RwSignal::new(None::<Stage>);
    let renewed = RwSignal::new(false);
    let next = crate::location::query("next");
    let refresh_bridge = bridge.clone();
    let tries_bridge = bridge.clone();
    let action = Action::new_local(move |(passcode, confirm): &(CardPasscode, bool)| {
        stage.set(None);
        sign_in(bridge.clone(), passcode.clone(), *confirm, stage)
    });
    Effect::new(move |_| match action.value().get() {
        Some(Ok(SignedIn::Due(renewal, passcodes))) => {
            let _ = window()
                .location()
                .assign(after_sign_in(next.as_deref(), (renewal, passcodes)));
        }
        Some(Ok(SignedIn::RenewalFinished)) => {
            stage.set(None);
            renewed.set(true);
        }
        Some(Err(found)) => {
            stage.set(None);
            refresh_card(refresh_bridge.clone(), card);
            last_try.set(found.is(ErrorCode::LastTryNeedsConfirmation));
            problem.set(Some(by_passcode(
                found.in_flow(Flow::SignIn),
                PASSCODE_FIELD,
            )));
        }
        None => {}
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if action.pending().get_untracked() {
            return;
        }
        problem.set(None);
        renewed.set(false);
        match gate(
            PASSCODE_FIELD,
            &pin.get_untracked(),
            tries(&card.get_untracked()),
            last_try.get_untracked(),
        ) {
            Gate::Refuse(found) => problem.set(Some(found)),
            Gate::WarnLastTry => last_try.set(true),
            Gate::Verify {
                passcode,
                confirm_last_try,
            } => {
                // The passcode lives only in the running step (cleared when it ends).
                pin.set(String::new());
                action.dispatch_local((passcode, confirm_last_try));
            }
        }
    };
    view! {
        <p id="progress" class="app-progress" role="status" aria-live="polite">
            {move || match (action.pending().get(), stage.get()) {
                (true, Some(stage)) => stage.words(false),
                (true, None) => "Checking your passcode on your smartcard…",
                (false, _) => "",
            }}
        </p>
        <h1 tabindex="-1">"Sign in with your smartcard"</h1>
        {move || renewed.get().then(|| view! {
            <div id="renewal-finished" class="nhsuk-inset-text">
                <p>
                    "Your smartcard's certificate renewal is finished. Sign in again with your \
                     passcode to use the new certificate."
                </p>
            </div>
        })}
        {move || problem.get().map(|p| view! { <ProblemSummary problem=p/> })}
        <CardTries bridge=tries_bridge card=card/>
        <form on:submit=submit novalidate>
            <PasscodeField
                field=passcode_input(PASSCODE_FIELD, "Smartcard passcode", "passcode-hint")
                pin=pin
                last_try=last_try
                problem=problem
            />
            <button type="submit" id="sign-in-button" class="nhsuk-button">
                {move || if last_try.get() { "Use my last try" } else { "Sign in" }}
            </button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOT_DUE: (RenewalDue, PasscodesDue) = (RenewalDue::NotDue, PasscodesDue::NotDue);

    #[test]
    fn cert_2_a_forced_renewal_comes_before_anything_else() {
        let forced = (RenewalDue::Forced { not_after: 1 }, PasscodesDue::NotDue);
        for next in [None, Some("/ra"), Some("/renew"), Some("/my-card")] {
            assert_eq!(after_sign_in(next, forced), "/renew");
        }
        let offered = (RenewalDue::Offered { not_after: 1 }, PasscodesDue::NotDue);
        assert_eq!(after_sign_in(None, offered), "/my-card");
        assert_eq!(after_sign_in(Some("/ra"), offered), "/ra");
    }

    #[test]
    fn pass_4_expired_passcodes_come_before_anything_but_a_forced_renewal() {
        let expired = PasscodesDue::Expired {
            expires_at: 1,
            locks_at: 2,
        };
        for next in [None, Some("/ra"), Some("/renew"), Some("/my-card")] {
            assert_eq!(
                after_sign_in(next, (RenewalDue::NotDue, expired)),
                "/passcodes"
            );
        }
        let both = (RenewalDue::Forced { not_after: 1 }, expired);
        assert_eq!(after_sign_in(None, both), "/renew");
        let reminded = (RenewalDue::NotDue, PasscodesDue::Reminder { expires_at: 1 });
        assert_eq!(after_sign_in(None, reminded), "/my-card");
    }

    #[test]
    fn ra_1_sign_in_goes_back_only_to_the_ra_console() {
        assert_eq!(after_sign_in(None, NOT_DUE), "/my-card");
        assert_eq!(after_sign_in(Some("/ra"), NOT_DUE), "/ra");
        assert_eq!(
            after_sign_in(Some("/ra/users/123456789012"), NOT_DUE),
            "/ra/users/123456789012"
        );
        assert_eq!(
            after_sign_in(Some("/ra/audit?user=1"), NOT_DUE),
            "/ra/audit?user=1"
        );
        assert_eq!(after_sign_in(Some("/renew"), NOT_DUE), "/renew");
        assert_eq!(after_sign_in(Some("/passcodes"), NOT_DUE), "/passcodes");
        for elsewhere in [
            "//evil.example/ra",
            "https://evil.example/ra",
            "/ra//evil.example",
            "/ra/\\evil.example",
            "/random",
            "/my-card",
            "/renew/../x",
            "ra",
            "",
        ] {
            assert_eq!(
                after_sign_in(Some(elsewhere), NOT_DUE),
                "/my-card",
                "{elsewhere}"
            );
        }
    }
}
