//! Start screen (UNL-1): the live card state from the bridge, and Start, which has the
//! card name itself (CHUID GUID) and prove it is genuine (9E signature over a server
//! challenge) — nothing typed identifies it. Each route has its own words (POL-1): the
//! questions', the Smartcard Service Centre's (seed 000, offered beside them under
//! `seed-2006`), and the NHS's 2023 route.

use api_types::bridge::{
    BridgeStatus, SignChallengeRequest, SignChallengeResponse, PATH_SIGN_CHALLENGE, PATH_STATUS,
};
use api_types::recovery::UnlockRoute;
use api_types::unlock::{CardProof, CardProofRequest, Resume, ResumeRequest, Start, StartRequest};
use api_types::ErrorCode;
use leptos::prelude::*;

use super::{waits_for_ra_code, Flow, Step, Submit};
use crate::api;
use crate::bridge::{Bridge, CardState};
use crate::errors::Problem;
use crate::local_network::LocalNetworkHelp;
use crate::setup_check::CheckSetupLink;
use crate::submit::Screens;

#[component]
pub(super) fn CardStatus(flow: Flow) -> impl IntoView {
    let class = move || match flow.card.get() {
        CardState::Present(_) => "nhsuk-inset-text app-card-status app-card-status--ok",
        // The browser's question to come is no problem yet.
        CardState::Connecting | CardState::AskLocalNetwork { refused: false } => {
            "nhsuk-inset-text app-card-status"
        }
        CardState::BridgeUnreachable
        | CardState::AskLocalNetwork { refused: true }
        | CardState::LocalNetworkBlocked
        | CardState::Trouble(_)
        | CardState::NoCard => "nhsuk-inset-text app-card-status app-card-status--problem",
    };
    view! {
        <div id="card-status" class=class aria-live="polite">
            <span class="nhsuk-u-visually-hidden">"Information: "</span>
            {move || match flow.card.get() {
                CardState::Connecting => view! { <p>"Looking for the card bridge…"</p> }.into_any(),
                CardState::BridgeUnreachable => {
                    let problem = Problem::bridge_unreachable();
                    view! {
                        <p><strong>"Card bridge not running"</strong></p>
                        <p>{problem.message}</p>
                        <p class="reason-code">"Reason code: " {problem.code.as_str()}</p>
                        <CheckSetupLink/>
                    }
                        .into_any()
                }
                CardState::AskLocalNetwork { .. } | CardState::LocalNetworkBlocked => view! {
                    <LocalNetworkHelp bridge=flow.bridge() card=flow.card/>
                    <CheckSetupLink/>
                }
                    .into_any(),
                CardState::Trouble(problem) => view! {
                    <p><strong>"Smartcard service problem"</strong></p>
                    <p>{problem.message}</p>
                    <p class="reason-code">"Reason code: " {problem.code.as_str()}</p>
                    <CheckSetupLink/>
                }
                    .into_any(),
                CardState::NoCard => view! {
                    <p><strong>"No smartcard inserted"</strong></p>
                    <p>"Insert your smartcard into the reader."</p>
                    <p class="reason-code">"Reason code: no_card"</p>
                }
                    .into_any(),
                CardState::Present(card) => view! {
                    <p><strong>"Smartcard detected"</strong></p>
                    <p>
                        {if card.pin_blocked {
                            "Its passcode is locked. Press Start to unlock it."
                        } else {
                            "Press Start to continue."
                        }}
                    </p>
                }
                    .into_any(),
            }}
        </div>
    }
}

#[component]
pub(super) fn StartPage(flow: Flow, route: UnlockRoute) -> impl IntoView {
    let bridge = flow.bridge();
    let submit = Submit::new(flow, "Talking to your smartcard…", move |_: &()| {
        begin(flow, bridge.clone(), route)
    });
    // Pressed while the bridge is still being reached, Start asks the card itself
    // (`begin`), so the page is usable as soon as it is drawn.
    let ready = move || {
        matches!(
            flow.card.get(),
            CardState::Present(_) | CardState::Connecting
        ) && !submit.pending()
    };
    view! {
        {submit.progress_line()}
        {intro(route)}
        <CardStatus flow=flow/>
        <button
            type="button"
            id="start-button"
            class="nhsuk-button"
            aria-disabled=move || (!ready()).to_string()
            aria-describedby="card-status"
            on:click=move |_| {
                if ready() {
                    submit.dispatch(|| Ok(()));
                } else if let Some(problem) = not_ready(&flow.card.get_untracked()) {
                    // Explain, rather than silently ignore, a press with no card.
                    flow.problem.set(Some(problem));
                }
            }
        >
            "Start"
        </button>
        {other_route(flow, route)}
    }
}

/// Each route's heading and steps, in its seed's words.
fn intro(route: UnlockRoute) -> impl IntoView {
    match route {
        UnlockRoute::Questions => view! {
            <h1 tabindex="-1">"Smartcard Unlock"</h1>
            <p>
                "Here you can unlock your Smartcard and set a new passcode. You need to have \
                 registered for the Smartcard Unlock Service to be able to do this."
            </p>
            <p>"Complete these 3 simple steps to unlock your Smartcard."</p>
            <ol class="nhsuk-list nhsuk-list--number">
                <li>"Answer security questions you set during registration."</li>
                <li>"Enter the Unlock Code that we will send you via registered email."</li>
                <li>"Reset your Smartcard passcode."</li>
            </ol>
            <p>
                "These steps should take no longer than 5 minutes to complete. Please make sure \
                 you have access to your email account."
            </p>
            <p>
                "To start the process, insert your Smartcard into the Smartcard reader and press \
                 the Start button below."
            </p>
        }
        .into_any(),
        UnlockRoute::Scsc => view! {
            <h1 tabindex="-1">"Unlock your Smartcard with the Smartcard Service Centre"</h1>
            <p>
                "The Smartcard Service Centre (SCSC) allows you to unlock your Smartcard should it \
                 become accidentally locked."
            </p>
            <p>
                "You will need your User's Unique Identifier (UUID) and Account Recovery \
                 Passcode, and a @nhs.net email account or mobile phone number on your profile."
            </p>
            <ol class="nhsuk-list nhsuk-list--number">
                <li>"Enter your User's Unique Identifier, Family Name and Account Recovery Passcode."</li>
                <li>"Choose Email or SMS for your One Time Passcode, and enter it within ten minutes."</li>
                <li>"Set and confirm a new Smartcard Passcode."</li>
            </ol>
            <p>"Place your Smartcard into the card reader and press the Start button below."</p>
        }
        .into_any(),
        UnlockRoute::Nhs2023 => view! {
            <h1 tabindex="-1">"Smartcard Unlock"</h1>
            <p>"Here you can unlock your Smartcard and set a new passcode."</p>
            <ol class="nhsuk-list nhsuk-list--number">
                <li>"Choose to get a code by email or by text message."</li>
                <li>"Enter the code within 15 minutes of starting."</li>
                <li>"Set a new Smartcard passcode of 6 to 8 digits."</li>
            </ol>
            <p>
                "You need an NHS email address or a mobile number on your profile, and smartcard \
                 certificates that have not expired. Otherwise your Registration Authority will \
                 unlock your card."
            </p>
            <p>"Insert your Smartcard into the card reader and press the Start button below."</p>
        }
        .into_any(),
    }
}

/// SCSC: under `seed-2006` the questions' page offers the Smartcard Service Centre's
/// route, and its page the way back.
fn other_route(flow: Flow, route: UnlockRoute) -> impl IntoView {
    let (text, link, to) = match route {
        UnlockRoute::Questions => (
            "Forgotten the answers to your security questions?",
            "Unlock with your Account Recovery Passcode instead",
            UnlockRoute::Scsc,
        ),
        UnlockRoute::Scsc => (
            "Registered for the Smartcard Unlock Service?",
            "Unlock by answering your security questions instead",
            UnlockRoute::Questions,
        ),
        UnlockRoute::Nhs2023 => return None,
    };
    Some(view! {
        <p>
            {text} " "
            <a href="#" id="other-route-link" on:click=move |ev| {
                ev.prevent_default();
                flow.advance(Step::Start(to));
            }>{link}</a>
        </p>
    })
}

/// Why Start cannot go ahead yet, in the words of the card status (none while the bridge
/// is being reached: Start asks it then).
fn not_ready(card: &CardState) -> Option<Problem> {
    match card {
        // The explanation and its button are on the screen already.
        CardState::Present(_)
        | CardState::Connecting
        | CardState::AskLocalNetwork { .. }
        | CardState::LocalNetworkBlocked => None,
        CardState::BridgeUnreachable => Some(Problem::bridge_unreachable()),
        CardState::Trouble(problem) => Some(problem.clone()),
        CardState::NoCard => Some(Problem::from_code(ErrorCode::NoCard)),
    }
}

/// UNL-1: the card names itself (CHUID) and proves it is genuine (9E signature); then
/// whose card it is and the questions, the Account Recovery details (SCSC-1) or the
/// choice of email or text (POL-3). A page reloaded during the card update goes back
/// to it instead (CARD-3: no second emailed code). A closed or unregistered user stops
/// here, with the attempt kept for a code from the RA team (UNL-4, UNL-8, RA-3).
async fn begin(flow: Flow, bridge: Bridge, route: UnlockRoute) -> Result<Step, Problem> {
    let status: BridgeStatus = bridge.get(PATH_STATUS).await?;
    let card = status
        .card
        .ok_or_else(|| Problem::from_code(ErrorCode::NoCard))?;
    let card_guid = card.guid;
    match api::call::<Resume>(&(), &ResumeRequest { card_guid }).await {
        Ok(resumed) => {
            return Ok(Step::NewPasscode {
                attempt_id: resumed.attempt_id,
            })
        }
        Err(problem) if problem.is(ErrorCode::NotFound) => {}
        Err(problem) => return Err(problem),
    }
    let started = api::call::<Start>(&(), &StartRequest { card_guid, route }).await?;
    let signed: SignChallengeResponse = bridge
        .post(
            PATH_SIGN_CHALLENGE,
            &SignChallengeRequest {
                challenge: started.challenge,
                expected_guid: Some(card_guid),
            },
        )
        .await?;
    let signature = signed.signature;
    let proof =
        match api::call::<CardProof>(&started.attempt_id, &CardProofRequest { signature }).await {
            Ok(proof) => proof,
            Err(problem) if waits_for_ra_code(&problem) => {
                return flow.stopped(problem, Some(started.attempt_id))
            }
            Err(problem) => return Err(problem),
        };
    let attempt_id = started.attempt_id;
    Ok(match route {
        UnlockRoute::Questions => Step::Questions {
            attempt_id,
            holder_name: proof.holder_name,
            questions: proof.questions,
        },
        UnlockRoute::Scsc => Step::Recovery {
            attempt_id,
            holder_name: proof.holder_name,
            attempts_left: proof.attempts_left,
        },
        UnlockRoute::Nhs2023 => Step::Delivery {
            attempt_id,
            route,
            holder_name: Some(proof.holder_name),
            options: proof.options,
        },
    })
}
