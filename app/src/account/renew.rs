//! Renew your certificates (CERT-3), signed in: the passcode checked on the card (tries
//! read first, the warning before the last try, BRG-6), then the card makes new keys and
//! takes its new certificates through the secure channel the server opens, with each
//! stage said as it happens. A failure after the passcode keeps the renewal: "Try again"
//! opens a new channel for it, with no passcode, since the card's keys may already have
//! changed. Done, the user signs in again with the new certificate.

use api_types::auth::Session;
use api_types::passcode::CardPasscode;
use api_types::renewal::{
    RenewalChannel, RenewalChannelRequest, RenewalDone, RenewalOpened, RenewalStart,
    RenewalStartRequest,
};
use api_types::time::utc_date;
use api_types::unlock::PublicConfig;
use api_types::values::RenewalId;
use api_types::ErrorCode;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::api;
use crate::bridge::{watch_card, Bridge, CardState};
use crate::card_check::{
    by_passcode, card_signs, gate, passcode_input, refresh_card, tries, CardTries, Gate,
    PasscodeField, PASSCODE_FIELD,
};
use crate::errors::{Flow, Problem, ProblemSummary};
use crate::renewal_steps::{self, Stage};

/// How the button runs: with the passcode (a new renewal), or again for the one begun.
#[derive(Clone)]
enum Run {
    Begin(CardPasscode, bool),
    Again(RenewalId),
}

/// The renewal page, mounted at `/renew`. Whether the user is signed in is asked beside
/// the form (a reminder's link finds most people signed out: they are offered sign-in at
/// once), and again, with which card, when they press the button.
#[component]
pub fn Renew(config: PublicConfig) -> impl IntoView {
    let bridge = Bridge::new(&config.bridge_url);
    let card = RwSignal::new(CardState::Connecting);
    watch_card(&bridge, card);
    let pin = RwSignal::new(String::new());
    let last_try = RwSignal::new(false);
    let problem = RwSignal::new(None::<Problem>);
    let stage = RwSignal::new(None::<Stage>);
    // The renewal begun, once the passcode was right: a retry goes on with it.
    let begun = RwSignal::new(None::<RenewalId>);
    let done = RwSignal::new(None::<RenewalDone>);
    let signed_out = RwSignal::new(false);
    // CERT-2: why the user is here (a forced renewal was sent here from sign-in).
    let due = RwSignal::new(None::<(&'static str, String)>);
    let policy = config.policy;
    leptos::task::spawn_local(async move {
        match api::call::<Session>(&(), &()).await {
            Ok(info) => due.set(super::renewal_due::notice(info.renewal, policy)),
            Err(found) => signed_out.set(found.is(ErrorCode::NotSignedIn)),
        }
    });
    let (run_bridge, refresh_bridge, tries_bridge) = (bridge.clone(), bridge.clone(), bridge);
    let action =
        Action::new_local(move |run: &Run| renew(run_bridge.clone(), run.clone(), stage, begun));
    Effect::new(move |_| match action.value().get() {
        Some(Ok(renewed)) => done.set(Some(renewed)),
        Some(Err(found)) => {
            stage.set(None);
            signed_out.set(found.is(ErrorCode::NotSignedIn));
            // A renewal that is over or gone cannot be tried again: begin anew.
            if [
                ErrorCode::AttemptExpired,
                ErrorCode::AttemptEnded,
                ErrorCode::NotFound,
            ]
            .iter()
            .any(|code| found.is(*code))
            {
                begun.set(None);
            }
            refresh_card(refresh_bridge.clone(), card);
            last_try.set(found.is(ErrorCode::LastTryNeedsConfirmation));
            problem.set(Some(by_passcode(
                found.in_flow(Flow::MyCard),
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
        if let Some(id) = begun.get_untracked() {
            action.dispatch_local(Run::Again(id));
            return;
        }
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
                pin.set(String::new());
                action.dispatch_local(Run::Begin(passcode, confirm_last_try));
            }
        }
    };
    let form = move || {
        view! {
            <p id="progress" class="app-progress" role="status" aria-live="polite">
                {move || stage.get().map(|s| s.words(false)).unwrap_or_default()}
            </p>
            <h1 tabindex="-1">"Renew your certificates"</h1>
            {move || problem.get().map(|p| view! { <ProblemSummary problem=p/> })}
            // The page's own heading says what to do; the notice says when and why.
            {move || due.get().map(|(_, text)| view! {
                <div id="renewal-due" class="nhsuk-inset-text"><p>{text}</p></div>
            })}
            <p>
                "Your smartcard makes new keys and stores new certificates for them. Keep it in \
                 the reader until this page says it is done. Then sign in again."
            </p>
            {move || signed_out.get().then(|| view! {
                <p><a href="/login?next=/renew" id="sign-in-link">"Sign in with your smartcard"</a></p>
            })}
            <CardTries bridge=tries_bridge.clone() card=card/>
            <form on:submit=submit novalidate>
                {move || begun.get().is_none().then(|| view! {
                    <PasscodeField
                        field=passcode_input(PASSCODE_FIELD, "Smartcard passcode", "passcode-hint")
                        pin=pin
                        last_try=last_try
                        problem=problem
                    />
                })}
                <button type="submit" id="renew-button" class="nhsuk-button">
                    {move || match (begun.get().is_some(), last_try.get()) {
                        (true, _) => "Try again",
                        (false, true) => "Use my last try",
                        (false, false) => "Renew my certificates",
                    }}
                </button>
            </form>
        }
    };
    move || {
        match done.get() {
        Some(renewed) => view! {
            <h1 tabindex="-1">"Your certificates have been renewed"</h1>
            <p id="renewed-until">
                "Your smartcard's new certificates are valid until " {utc_date(renewed.not_after)} "."
            </p>
            <p>"You have been signed out. Sign in again with your smartcard to use them."</p>
            <p><a href="/login" id="sign-in-again">"Sign in with your smartcard"</a></p>
        }
        .into_any(),
        None => form().into_any(),
    }
    }
}

/// The passcode on the card and a new renewal, or a new channel for the one begun; then
/// the card's keys and certificates, each relayed through the bridge.
async fn renew(
    bridge: Bridge,
    run: Run,
    stage: RwSignal<Option<Stage>>,
    begun: RwSignal<Option<RenewalId>>,
) -> Result<RenewalDone, Problem> {
    let opened: RenewalOpened = match run {
        Run::Begin(passcode, confirm_last_try) => {
            // The session's own card only: another is refused before a try is spent.
            let session = api::call::<Session>(&(), &()).await?;
            stage.set(Some(Stage::Passcode));
            let (login_id, signature) = card_signs(
                &bridge,
                &passcode,
                confirm_last_try,
                Some(session.card_guid),
            )
            .await?;
            stage.set(Some(Stage::Channel));
            let request = RenewalStartRequest {
                login_id,
                signature,
            };
            let opened = api::call::<RenewalStart>(&(), &request).await?;
            begun.set(Some(opened.renewal_id.clone()));
            opened
        }
        Run::Again(id) => {
            stage.set(Some(Stage::Channel));
            api::call::<RenewalChannel>(&id, &RenewalChannelRequest {}).await?
        }
    };
    renewal_steps::on_card(&bridge, opened, stage, None).await
}
