//! The self-service unlock screens (UNL-1…UNL-8): start with the card in the reader, whose
//! card it is and the security questions, the emailed code, the new passcode (set on the
//! card through the bridge, never sent to the server), and the result.

use api_types::bridge::{
    BridgeStatus, CardEvent, CardInfo, ChangePinRequest, ChangePinResponse, RunScriptRequest,
    RunScriptResponse, SignChallengeRequest, SignChallengeResponse, PATH_CHANGE_PIN, PATH_EVENTS,
    PATH_RUN_SCRIPT, PATH_SIGN_CHALLENGE, PATH_STATUS,
};
use api_types::passcode::{CardPasscode, PasscodeError};
use api_types::unlock::{
    path_answers, path_card_proof, path_code, path_complete, path_script, Answer, AnswersRequest,
    AnswersResponse, CardProofRequest, CardProofResponse, CodeRequest, CodeResponse,
    CompleteRequest, CompleteResponse, PublicConfig, Question, StartRequest, StartResponse,
    PATH_START,
};
use api_types::{ApiError, ErrorCode};
use futures_util::StreamExt;
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::Message;
use gloo_timers::future::TimeoutFuture;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::client::{bridge_get, bridge_post, server_post};
use crate::problem::{Problem, ProblemSummary};

#[derive(Debug, Clone, PartialEq)]
enum CardState {
    Connecting,
    BridgeUnreachable,
    Trouble(Problem),
    NoCard,
    Present(CardInfo),
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Start,
    Questions {
        attempt_id: String,
        holder_name: String,
        questions: Vec<Question>,
    },
    Code {
        attempt_id: String,
        email_hint: String,
    },
    NewPasscode {
        attempt_id: String,
        card: CodeResponse,
    },
    Done,
    Stopped {
        heading: &'static str,
        problem: Problem,
        can_restart: bool,
    },
}

/// The flow's shared state; all handles, so it is `Copy` into every closure.
#[derive(Clone, Copy)]
struct Flow {
    bridge_url: StoredValue<String>,
    ra_help: StoredValue<String>,
    step: RwSignal<Step>,
    busy: RwSignal<Option<&'static str>>,
    problem: RwSignal<Option<Problem>>,
    card: RwSignal<CardState>,
}

impl Flow {
    fn bridge(&self) -> String {
        self.bridge_url.get_value()
    }

    /// Shows a problem: inline when the user can fix it here, as its own page otherwise.
    fn fail(&self, mut problem: Problem) {
        self.busy.set(None);
        let restartable = [
            ErrorCode::AttemptExpired,
            ErrorCode::CodeExpired,
            ErrorCode::CodeTriesExhausted,
            ErrorCode::WrongStep,
            ErrorCode::NotFound,
        ];
        let (heading, can_restart) = if problem.is(ErrorCode::SelfServiceClosed) {
            ("You cannot use self-service unlock", false)
        } else if problem.is(ErrorCode::NotRegistered) {
            ("You are not registered for self-service unlock", false)
        } else if problem.is(ErrorCode::UnknownCard) || problem.is(ErrorCode::CardNotGenuine) {
            ("This smartcard cannot be unlocked here", false)
        } else if restartable.iter().any(|code| problem.is(*code)) {
            ("Please start again", true)
        } else {
            self.problem.set(Some(problem));
            return;
        };
        if problem.help.is_none() && !can_restart {
            problem.help = Some(self.ra_help.get_value());
        }
        self.problem.set(None);
        self.step.set(Step::Stopped {
            heading,
            problem,
            can_restart,
        });
    }

    fn advance(&self, step: Step) {
        self.busy.set(None);
        self.problem.set(None);
        self.step.set(step);
    }
}

#[component]
pub fn Unlock(config: PublicConfig) -> impl IntoView {
    let flow = Flow {
        bridge_url: StoredValue::new(config.bridge_url.trim_end_matches('/').to_owned()),
        ra_help: StoredValue::new(config.ra_help),
        step: RwSignal::new(Step::Start),
        busy: RwSignal::new(None),
        problem: RwSignal::new(None),
        card: RwSignal::new(CardState::Connecting),
    };
    watch_card(flow);
    view! {
        {move || flow.problem.get().map(|problem| view! { <ProblemSummary problem=problem/> })}
        <p class="app-progress" role="status" aria-live="polite">{move || flow.busy.get().unwrap_or("")}</p>
        {move || match flow.step.get() {
            Step::Start => view! { <StartPage flow=flow/> }.into_any(),
            Step::Questions { attempt_id, holder_name, questions } => {
                view! { <QuestionsPage flow=flow attempt_id=attempt_id holder_name=holder_name questions=questions/> }
                    .into_any()
            }
            Step::Code { attempt_id, email_hint } => {
                view! { <CodePage flow=flow attempt_id=attempt_id email_hint=email_hint/> }.into_any()
            }
            Step::NewPasscode { attempt_id, card } => {
                view! { <PasscodePage flow=flow attempt_id=attempt_id card=card/> }.into_any()
            }
            Step::Done => view! { <DonePage/> }.into_any(),
            Step::Stopped { heading, problem, can_restart } => {
                view! { <StoppedPage flow=flow heading=heading problem=problem can_restart=can_restart/> }.into_any()
            }
        }}
    }
}

/// Follows the bridge's card events over its WebSocket; reconnects while it is down.
fn watch_card(flow: Flow) {
    let ws_url = format!("{}{PATH_EVENTS}", flow.bridge().replacen("http", "ws", 1));
    spawn_local(async move {
        loop {
            if let Ok(socket) = WebSocket::open(&ws_url) {
                let (_sink, mut events) = socket.split();
                while let Some(Ok(message)) = events.next().await {
                    if let Message::Text(text) = message {
                        on_bridge_message(flow, &text);
                    }
                }
            }
            flow.card.set(CardState::BridgeUnreachable);
            TimeoutFuture::new(2_000).await;
        }
    });
}

fn on_bridge_message(flow: Flow, text: &str) {
    if let Ok(event) = serde_json::from_str::<CardEvent>(text) {
        if let CardEvent::Snapshot { status } = event {
            flow.card
                .set(status.card.map_or(CardState::NoCard, CardState::Present));
        }
    } else if let Ok(error) = serde_json::from_str::<ApiError>(text) {
        flow.card.set(CardState::Trouble(error.into()));
    }
}

#[component]
fn CardStatus(flow: Flow) -> impl IntoView {
    view! {
        <div id="card-status" class="nhsuk-inset-text app-card-status" aria-live="polite">
            <span class="nhsuk-u-visually-hidden">"Information: "</span>
            {move || match flow.card.get() {
                CardState::Connecting => view! { <p>"Looking for the card bridge…"</p> }.into_any(),
                CardState::BridgeUnreachable => {
                    let problem = Problem::bridge_unreachable();
                    view! {
                        <p><strong>"Card bridge not running"</strong></p>
                        <p>{problem.message}</p>
                        <p class="reason-code">"Reason code: bridge_unreachable"</p>
                    }
                        .into_any()
                }
                CardState::Trouble(problem) => view! {
                    <p><strong>"Smartcard service problem"</strong></p>
                    <p>{problem.message}</p>
                    <p class="reason-code">"Reason code: " {problem.code}</p>
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
fn StartPage(flow: Flow) -> impl IntoView {
    let ready =
        move || matches!(flow.card.get(), CardState::Present(_)) && flow.busy.get().is_none();
    view! {
        <h1>"Smartcard Unlock"</h1>
        <p>
            "Here you can unlock your Smartcard and set a new passcode. You need to have registered \
             for the Smartcard Unlock Service to be able to do this."
        </p>
        <p>"Complete these 3 simple steps to unlock your Smartcard."</p>
        <ol class="nhsuk-list nhsuk-list--number">
            <li>"Answer security questions you set during registration."</li>
            <li>"Enter the Unlock Code that we will send you via registered email."</li>
            <li>"Reset your Smartcard passcode."</li>
        </ol>
        <p>
            "These steps should take no longer than 5 minutes to complete. Please make sure you \
             have access to your email account."
        </p>
        <p>
            "To start the process, insert your Smartcard into the Smartcard reader and press the \
             Start button below."
        </p>
        <CardStatus flow=flow/>
        <button
            type="button"
            class="nhsuk-button"
            aria-disabled=move || (!ready()).to_string()
            on:click=move |_| {
                if ready() {
                    spawn_local(begin(flow));
                }
            }
        >
            "Start"
        </button>
    }
}

/// UNL-1: the card names itself (CHUID) and proves it is genuine (9E signature).
async fn begin(flow: Flow) {
    flow.problem.set(None);
    flow.busy.set(Some("Talking to your smartcard…"));
    let bridge = flow.bridge();
    let result = async {
        let status: BridgeStatus = bridge_get(&bridge, PATH_STATUS).await?;
        let card = status
            .card
            .ok_or_else(|| Problem::from(ApiError::new(ErrorCode::NoCard, "")))?;
        let started: StartResponse = server_post(
            PATH_START,
            &StartRequest {
                card_guid: card.guid.clone(),
            },
        )
        .await?;
        let signed: SignChallengeResponse = bridge_post(
            &bridge,
            PATH_SIGN_CHALLENGE,
            &SignChallengeRequest {
                challenge: started.challenge,
                expected_guid: Some(card.guid),
            },
        )
        .await?;
        let proof: CardProofResponse = server_post(
            &path_card_proof(&started.attempt_id),
            &CardProofRequest {
                signature: signed.signature,
            },
        )
        .await?;
        Ok::<_, Problem>(Step::Questions {
            attempt_id: started.attempt_id,
            holder_name: proof.holder_name,
            questions: proof.questions,
        })
    }
    .await;
    match result {
        Ok(step) => flow.advance(step),
        Err(problem) => flow.fail(problem),
    }
}

#[component]
fn QuestionsPage(
    flow: Flow,
    attempt_id: String,
    holder_name: String,
    questions: Vec<Question>,
) -> impl IntoView {
    let answers = RwSignal::new(vec![String::new(); questions.len()]);
    let ids: Vec<u32> = questions.iter().map(|q| q.id).collect();
    let attempt_id = StoredValue::new(attempt_id);
    let ids = StoredValue::new(ids);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if flow.busy.get_untracked().is_some() {
            return;
        }
        let request = AnswersRequest {
            answers: ids
                .get_value()
                .into_iter()
                .zip(answers.get_untracked())
                .map(|(question_id, answer)| Answer {
                    question_id,
                    answer,
                })
                .collect(),
        };
        let attempt_id = attempt_id.get_value();
        spawn_local(async move {
            flow.problem.set(None);
            flow.busy
                .set(Some("Checking your answers and sending your code…"));
            match server_post::<_, AnswersResponse>(&path_answers(&attempt_id), &request).await {
                Ok(sent) => flow.advance(Step::Code {
                    attempt_id,
                    email_hint: sent.email_hint,
                }),
                Err(problem) => flow.fail(problem),
            }
        });
    };
    view! {
        <h1>"Confirm your identity"</h1>
        <p>
            {format!(
                "You are attempting to unlock a Smartcard issued to {holder_name}. If this is not you please do not proceed."
            )}
        </p>
        <div class="nhsuk-warning-callout">
            <h2 class="nhsuk-warning-callout__label">
                <span role="text">
                    <span class="nhsuk-u-visually-hidden">"Important: "</span>
                    "Warning"
                </span>
            </h2>
            <p>
                "You should not attempt to unlock another staff member's card; this could result in \
                 disciplinary action."
            </p>
        </div>
        <p>
            "To confirm your identity please answer the following security questions. These are \
             questions that you provided when you registered for the Smartcard Unlock Service."
        </p>
        <form on:submit=submit novalidate>
            {questions
                .into_iter()
                .enumerate()
                .map(|(index, question)| {
                    let id = format!("answer-{index}");
                    view! {
                        <div class="nhsuk-form-group">
                            <label class="nhsuk-label" for=id.clone()>{question.text}</label>
                            <input
                                class="nhsuk-input"
                                id=id.clone()
                                name=id
                                type="text"
                                autocomplete="off"
                                spellcheck="false"
                                data-question-id=question.id.to_string()
                                on:input=move |ev| {
                                    let value = event_target_value(&ev);
                                    answers.update(|all| {
                                        if let Some(slot) = all.get_mut(index) {
                                            *slot = value;
                                        }
                                    });
                                }
                            />
                        </div>
                    }
                })
                .collect_view()}
            <p class="nhsuk-body-s">
                "Please note that after 3 failed attempts at answering your security questions, you \
                 will not be able to proceed and you will have to contact your Registration Authority."
            </p>
            <button type="submit" class="nhsuk-button">"Next"</button>
        </form>
    }
}

#[component]
fn CodePage(flow: Flow, attempt_id: String, email_hint: String) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let attempt_id = StoredValue::new(attempt_id);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if flow.busy.get_untracked().is_some() {
            return;
        }
        let attempt_id = attempt_id.get_value();
        let request = CodeRequest {
            code: code.get_untracked().trim().to_owned(),
        };
        spawn_local(async move {
            flow.problem.set(None);
            flow.busy.set(Some("Checking your code…"));
            match server_post::<_, CodeResponse>(&path_code(&attempt_id), &request).await {
                Ok(card) => flow.advance(Step::NewPasscode { attempt_id, card }),
                Err(problem) => flow.fail(problem),
            }
        });
    };
    view! {
        <h1>"Smartcard Unlock Code"</h1>
        <p>
            {format!(
                "We have sent a Smartcard Unlock Code to your registered email address ({email_hint}). \
                 Once you receive the code, enter it below and press the Next button. This will take \
                 you to a screen where you will be able to set a new passcode for your Smartcard."
            )}
        </p>
        <form on:submit=submit novalidate>
            <div class="nhsuk-form-group">
                <label class="nhsuk-label" for="unlock-code">"Smartcard Unlock Code"</label>
                <div class="nhsuk-hint" id="unlock-code-hint">
                    "The code is 6 digits and is valid for 15 minutes. Check your junk folder if it has not arrived."
                </div>
                <input
                    class="nhsuk-input nhsuk-input--width-10"
                    id="unlock-code"
                    name="unlock-code"
                    type="text"
                    inputmode="numeric"
                    autocomplete="one-time-code"
                    aria-describedby="unlock-code-hint"
                    on:input=move |ev| code.set(event_target_value(&ev))
                />
            </div>
            <button type="submit" class="nhsuk-button">"Next"</button>
        </form>
    }
}

#[component]
fn PasscodePage(flow: Flow, attempt_id: String, card: CodeResponse) -> impl IntoView {
    let first = RwSignal::new(String::new());
    let second = RwSignal::new(String::new());
    let field_error = RwSignal::new(None::<(&'static str, String)>);
    let attempt_id = StoredValue::new(attempt_id);
    let card = StoredValue::new(card);
    // After a failed try the card may be half-updated: ask the server for a fresh script.
    let needs_fresh_script = RwSignal::new(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if flow.busy.get_untracked().is_some() {
            return;
        }
        field_error.set(None);
        // UNL-6 / CARD-2: checked here, before anything reaches the card.
        let passcode =
            match CardPasscode::parse_confirmed(&first.get_untracked(), &second.get_untracked()) {
                Ok(passcode) => passcode,
                Err(error) => {
                    let field = if error == PasscodeError::Mismatch {
                        "confirm-passcode"
                    } else {
                        "new-passcode"
                    };
                    let message = error.to_string();
                    field_error.set(Some((field, message.clone())));
                    flow.problem
                        .set(Some(Problem::new("invalid_passcode", &message)));
                    return;
                }
            };
        spawn_local(async move {
            flow.problem.set(None);
            flow.busy
                .set(Some("Updating your smartcard… do not remove it."));
            match update_card(
                flow,
                attempt_id.get_value(),
                card,
                needs_fresh_script,
                passcode,
            )
            .await
            {
                Ok(()) => flow.advance(Step::Done),
                Err(problem) => {
                    needs_fresh_script.set(true);
                    flow.fail(problem);
                }
            }
        });
    };
    let error_for = move |field: &'static str| {
        move || {
            field_error
                .get()
                .filter(|(f, _)| *f == field)
                .map(|(_, message)| {
                    view! {
                        <span class="nhsuk-error-message" id=format!("{field}-error")>
                            <span class="nhsuk-u-visually-hidden">"Error: "</span>
                            {message}
                        </span>
                    }
                })
        }
    };
    let group_class = move |field: &'static str| {
        move || {
            if field_error.get().is_some_and(|(f, _)| f == field) {
                "nhsuk-form-group nhsuk-form-group--error"
            } else {
                "nhsuk-form-group"
            }
        }
    };
    view! {
        <h1>"Reset Smartcard Passcode"</h1>
        <p>
            "Please enter the new passcode for your Smartcard in the two spaces below and then press \
             the Confirm button. You may use the passcode you had before."
        </p>
        <form on:submit=submit novalidate>
            <div class=group_class("new-passcode")>
                <label class="nhsuk-label" for="new-passcode">"New passcode"</label>
                <div class="nhsuk-hint" id="new-passcode-hint">
                    "The passcode must be between 4 and 8 characters long. You can use any standard keyboard characters."
                </div>
                {error_for("new-passcode")}
                <input
                    class="nhsuk-input nhsuk-input--width-10"
                    id="new-passcode"
                    name="new-passcode"
                    type="password"
                    autocomplete="new-password"
                    aria-describedby="new-passcode-hint"
                    on:input=move |ev| first.set(event_target_value(&ev))
                />
            </div>
            <div class=group_class("confirm-passcode")>
                <label class="nhsuk-label" for="confirm-passcode">"Confirm passcode"</label>
                {error_for("confirm-passcode")}
                <input
                    class="nhsuk-input nhsuk-input--width-10"
                    id="confirm-passcode"
                    name="confirm-passcode"
                    type="password"
                    autocomplete="new-password"
                    on:input=move |ev| second.set(event_target_value(&ev))
                />
            </div>
            <button type="submit" class="nhsuk-button">"Confirm"</button>
        </form>
    }
}

/// UNL-7 / CARD-3: the bridge runs the server's script (PIN reset to a one-time PIN, new
/// PUK), then changes the one-time PIN to the user's passcode locally; the server records
/// what the card answered.
async fn update_card(
    flow: Flow,
    attempt_id: String,
    card: StoredValue<CodeResponse>,
    needs_fresh_script: RwSignal<bool>,
    passcode: CardPasscode,
) -> Result<(), Problem> {
    let bridge = flow.bridge();
    if needs_fresh_script.get_untracked() {
        let fresh: CodeResponse = server_post(&path_script(&attempt_id), &()).await?;
        card.set_value(fresh);
        needs_fresh_script.set(false);
    }
    let script = card.get_value();
    let ran: RunScriptResponse = bridge_post(
        &bridge,
        PATH_RUN_SCRIPT,
        &RunScriptRequest {
            expected_guid: script.card_guid.clone(),
            script: script.script.clone(),
        },
    )
    .await?;
    let script_ok = ran.responses.len() == script.script.apdus.len()
        && ran.responses.iter().all(|r| r.ends_with("9000"));
    let changed = if script_ok {
        bridge_post::<_, ChangePinResponse>(
            &bridge,
            PATH_CHANGE_PIN,
            &ChangePinRequest {
                expected_guid: script.card_guid.clone(),
                current_pin: script.one_time_pin.clone(),
                new_pin: passcode.expose().to_owned(),
            },
        )
        .await
        .map(|_| ())
    } else {
        Err(Problem::from(ApiError::new(
            ErrorCode::CardUpdateFailed,
            "",
        )))
    };
    let completed: Result<CompleteResponse, Problem> = server_post(
        &path_complete(&attempt_id),
        &CompleteRequest {
            script_responses: ran.responses,
            pin_changed: changed.is_ok(),
        },
    )
    .await;
    changed?;
    completed?;
    Ok(())
}

#[component]
fn DonePage() -> impl IntoView {
    view! {
        <div class="nhsuk-panel nhsuk-panel--confirmation">
            <h1 class="nhsuk-panel__title">"Smartcard Unlocked"</h1>
            <div class="nhsuk-panel__body">"Your Smartcard has been successfully unlocked."</div>
        </div>
        <p>
            "Please remove and then reinsert your Smartcard to log in as normal using your new passcode."
        </p>
        <p>"We have emailed you to confirm your smartcard was unlocked."</p>
    }
}

#[component]
fn StoppedPage(
    flow: Flow,
    heading: &'static str,
    problem: Problem,
    can_restart: bool,
) -> impl IntoView {
    let help = problem.help.clone();
    view! {
        <h1>{heading}</h1>
        <div class="nhsuk-warning-callout">
            <h2 class="nhsuk-warning-callout__label">
                <span role="text">
                    <span class="nhsuk-u-visually-hidden">"Important: "</span>
                    "What to do next"
                </span>
            </h2>
            <p>{problem.message}</p>
            {help.map(|help| view! { <p>{help}</p> })}
            <p class="reason-code">"Reason code: " {problem.code}</p>
        </div>
        {can_restart.then(|| view! {
            <button type="button" class="nhsuk-button" on:click=move |_| flow.advance(Step::Start)>
                "Start again"
            </button>
        })}
    }
}
