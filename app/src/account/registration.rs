//! Register for self-service unlock (REG-1…REG-4): the passcode again on the card, four
//! different questions answered and the email confirmed (on an approved domain), then the
//! emailed registration code. Checked here before anything is sent; the server checks
//! again. Answers and the passcode are kept only in the form fields.

use api_types::register::{
    RegisterBegin, RegisterBeginRequest, RegisterBeginResponse, RegisterConfirm,
    RegisterConfirmRequest, RegisterDetails, RegisterDetailsRequest, RegisterResend,
    RegistrationId, ResendRequest, ANSWERS_NEEDED,
};
use api_types::unlock::{Answer, Endpoint, PublicConfig};
use api_types::values::{BoundedVec, SecurityAnswer};
use api_types::{ErrorCode, UnlockCode};
use leptos::prelude::*;

use super::sign_in::card_signs;
use crate::api;
use crate::bridge::Bridge;
use crate::errors::{Problem, ProblemSummary};

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Confirm,
    Questions(RegisterBeginResponse),
    Code { id: RegistrationId, hint: String },
    Done,
}

/// REG-2: four questions, all different, each answered.
pub(crate) fn check_choices(choices: &[(u32, String)]) -> Result<Vec<Answer>, Problem> {
    let invalid = || Problem::from_code(ErrorCode::QuestionsInvalid);
    let mut seen = Vec::new();
    let mut answers = Vec::new();
    for (question_id, text) in choices {
        if *question_id == 0 || seen.contains(question_id) || text.trim().is_empty() {
            return Err(invalid());
        }
        seen.push(*question_id);
        let answer = SecurityAnswer::parse(text).map_err(|_| invalid())?;
        answers.push(Answer {
            question_id: *question_id,
            answer,
        });
    }
    if answers.len() == ANSWERS_NEEDED {
        Ok(answers)
    } else {
        Err(invalid())
    }
}

/// REG-3: an address on one of the approved domains (or a subdomain).
pub(crate) fn check_email(email: &str, approved: &[String]) -> Result<(), Problem> {
    let domain = email
        .trim()
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    if approved
        .iter()
        .any(|a| domain == *a || domain.ends_with(&format!(".{a}")))
    {
        Ok(())
    } else {
        Err(Problem::from_code(ErrorCode::EmailNotApproved).on_field("email"))
    }
}

/// The page's shared state: all signal handles, so `Copy` into every closure.
#[derive(Clone, Copy)]
struct Page {
    step: RwSignal<Step>,
    problem: RwSignal<Option<Problem>>,
    busy: RwSignal<bool>,
    bridge: StoredValue<Bridge>,
}

impl Page {
    /// Runs one step's call unless one is running; its result moves the page on or shows
    /// the problem.
    fn run(self, work: impl std::future::Future<Output = Result<Step, Problem>> + 'static) {
        if self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        self.problem.set(None);
        leptos::task::spawn_local(async move {
            match work.await {
                Ok(next) => self.step.set(next),
                Err(found) => self.problem.set(Some(found)),
            }
            self.busy.set(false);
        });
    }
}

#[component]
pub fn Register(config: PublicConfig) -> impl IntoView {
    let page = Page {
        step: RwSignal::new(Step::Confirm),
        problem: RwSignal::new(None),
        busy: RwSignal::new(false),
        bridge: StoredValue::new(Bridge::new(&config.bridge_url)),
    };
    view! {
        <p id="progress" class="app-progress" role="status" aria-live="polite">
            {move || if page.busy.get() { "Working…" } else { "" }}
        </p>
        {move || page.problem.get().map(|p| view! { <ProblemSummary problem=p/> })}
        {move || match page.step.get() {
            Step::Confirm => confirm_view(page).into_any(),
            Step::Questions(begun) => questions_view(page, begun).into_any(),
            Step::Code { id, hint } => code_view(page, id, hint).into_any(),
            Step::Done => view! {
                <h1 tabindex="-1">"You are registered for self-service unlock"</h1>
                <p>"If your smartcard locks, you can now unlock it yourself with your answers."</p>
                <p><a href="/my-card">"Back to My card"</a></p>
            }.into_any(),
        }}
    }
}

/// REG-1: the passcode again, verified on the card (BRG-6 as at sign-in).
fn confirm_view(page: Page) -> impl IntoView {
    let pin = RwSignal::new(String::new());
    let last_try = RwSignal::new(false);
    Effect::new(move |_| {
        if page
            .problem
            .get()
            .is_some_and(|p| p.is(ErrorCode::LastTryNeedsConfirmation))
        {
            last_try.set(true);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (bridge, typed, confirm) = (
            page.bridge.get_value(),
            pin.get_untracked(),
            last_try.get_untracked(),
        );
        pin.set(String::new());
        page.run(async move {
            let (login_id, signature) = card_signs(&bridge, typed, confirm).await?;
            let request = RegisterBeginRequest {
                login_id,
                signature,
            };
            let begun = api::call::<RegisterBegin>(RegisterBegin::ROUTE, &request).await?;
            Ok(Step::Questions(begun))
        });
    };
    view! {
        <h1 tabindex="-1">"Register for self-service unlock"</h1>
        <p>"First, confirm it is you: enter your smartcard passcode. It is checked on your card."</p>
        <form on:submit=submit novalidate>
            {move || last_try.get().then(|| view! {
                <div class="nhsuk-warning-callout" id="last-try-warning">
                    <h2 class="nhsuk-warning-callout__label">"This is your last try"</h2>
                    <p>"If this passcode is wrong, your smartcard will lock."</p>
                </div>
            })}
            <div class="nhsuk-form-group">
                <label class="nhsuk-label" for="passcode">"Smartcard passcode"</label>
                <input class="nhsuk-input nhsuk-input--width-10" id="passcode" name="passcode"
                    type="password" autocomplete="current-password"
                    prop:value=move || pin.get()
                    on:input=move |ev| pin.set(event_target_value(&ev))/>
            </div>
            <button type="submit" id="confirm-passcode-button" class="nhsuk-button">
                {move || if last_try.get() { "Use my last try" } else { "Continue" }}
            </button>
        </form>
    }
}

/// REG-2 / REG-3: four questions and answers, and the email.
fn questions_view(page: Page, begun: RegisterBeginResponse) -> impl IntoView {
    let choices: [(RwSignal<u32>, RwSignal<String>); ANSWERS_NEEDED] =
        std::array::from_fn(|_| (RwSignal::new(0), RwSignal::new(String::new())));
    let email = RwSignal::new(begun.email.clone());
    let approved = begun.approved_domains.clone();
    let id = begun.registration_id.clone();
    let hint = format!("It must end with one of: {}.", approved.join(", "));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let picked: Vec<(u32, String)> = choices
            .iter()
            .map(|(q, a)| (q.get_untracked(), a.get_untracked()))
            .collect();
        let checked = check_choices(&picked)
            .and_then(|answers| check_email(&email.get_untracked(), &approved).map(|()| answers))
            .and_then(|answers| {
                BoundedVec::new(answers)
                    .map_err(|_| Problem::from_code(ErrorCode::QuestionsInvalid))
            });
        let answers = match checked {
            Ok(answers) => answers,
            Err(problem) => {
                page.problem.set(Some(problem));
                return;
            }
        };
        let (id, email) = (id.clone(), email.get_untracked());
        page.run(async move {
            let request = RegisterDetailsRequest { answers, email };
            let sent = api::call::<RegisterDetails>(&RegisterDetails::path(&id), &request).await?;
            Ok(Step::Code {
                id,
                hint: sent.email_hint,
            })
        });
    };
    let questions = begun.questions;
    view! {
        <h1 tabindex="-1">"Your security questions"</h1>
        <p>"Choose 4 different questions and answer them. You will be asked some of them when you unlock your smartcard. Answers ignore capital letters and extra spaces."</p>
        <form on:submit=submit novalidate>
            {choices.iter().enumerate().map(|(i, (question, answer))| {
                let (question, answer) = (*question, *answer);
                let n = i + 1;
                view! {
                    <div class="nhsuk-form-group">
                        <label class="nhsuk-label" for=format!("question-{n}")>{format!("Question {n}")}</label>
                        <select class="nhsuk-select" id=format!("question-{n}")
                            on:change=move |ev| question.set(event_target_value(&ev).parse().unwrap_or(0))>
                            <option value="0">"Choose a question"</option>
                            {questions.iter().map(|q| view! { <option value=q.id.to_string()>{q.text.clone()}</option> }).collect_view()}
                        </select>
                        <label class="nhsuk-label" for=format!("answer-{n}")>{format!("Answer {n}")}</label>
                        <input class="nhsuk-input" id=format!("answer-{n}") type="text" autocomplete="off"
                            on:input=move |ev| answer.set(event_target_value(&ev))/>
                    </div>
                }
            }).collect_view()}
            <div class="nhsuk-form-group">
                <label class="nhsuk-label" for="email">"Email address for your codes"</label>
                <div class="nhsuk-hint" id="email-hint">{hint}</div>
                <input class="nhsuk-input" id="email" type="email" autocomplete="email"
                    aria-describedby="email-hint"
                    prop:value=move || email.get()
                    on:input=move |ev| email.set(event_target_value(&ev))/>
            </div>
            <button type="submit" id="send-code-button" class="nhsuk-button">"Send me a code"</button>
        </form>
    }
}

/// REG-4: the emailed code; a new one on request (the tries used still count).
fn code_view(page: Page, id: RegistrationId, hint: String) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let confirm_id = id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(parsed) = UnlockCode::parse(&code.get_untracked()) else {
            page.problem.set(Some(
                Problem::from_code(ErrorCode::CodeInvalid).on_field("registration-code"),
            ));
            return;
        };
        let id = confirm_id.clone();
        page.run(async move {
            let request = RegisterConfirmRequest { code: parsed };
            api::call::<RegisterConfirm>(&RegisterConfirm::path(&id), &request).await?;
            Ok(Step::Done)
        });
    };
    let resend = move |_| {
        let id = id.clone();
        page.run(async move {
            let sent =
                api::call::<RegisterResend>(&RegisterResend::path(&id), &ResendRequest {}).await?;
            Ok(Step::Code {
                id,
                hint: sent.email_hint,
            })
        });
    };
    view! {
        <h1 tabindex="-1">"Enter your registration code"</h1>
        <p>{format!("We have sent a registration code to {hint}. It is valid for 15 minutes.")}</p>
        <form on:submit=submit novalidate>
            <div class="nhsuk-form-group">
                <label class="nhsuk-label" for="registration-code">"Registration code"</label>
                <input class="nhsuk-input nhsuk-input--width-10" id="registration-code" type="text"
                    inputmode="numeric" autocomplete="one-time-code"
                    on:input=move |ev| code.set(event_target_value(&ev))/>
            </div>
            <button type="submit" id="confirm-code-button" class="nhsuk-button">"Confirm"</button>
        </form>
        <p>"No code? Check your junk folder, or ask for a new one (wrong codes already entered still count)."</p>
        <button type="button" id="resend-code-button" class="nhsuk-button nhsuk-button--secondary"
            on:click=resend>"Send a new code"</button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reg_2_four_different_questions_each_answered() {
        let four: Vec<(u32, String)> = (1..=4).map(|i| (i, format!("a{i}"))).collect();
        assert!(check_choices(&four).is_ok());
        let mut twice = four.clone();
        twice[1].0 = 1;
        assert!(check_choices(&twice).is_err());
        let mut blank = four.clone();
        blank[2].1 = "  ".into();
        assert!(check_choices(&blank).is_err());
        let mut unpicked = four.clone();
        unpicked[3].0 = 0;
        assert!(check_choices(&unpicked).is_err());
    }

    #[test]
    fn reg_3_only_approved_domains() {
        let approved = vec!["nhs.net".to_owned(), "nhs.uk".to_owned()];
        assert!(check_email("a@nhs.net", &approved).is_ok());
        assert!(check_email("a@trust.NHS.uk", &approved).is_ok());
        assert!(check_email("a@gmail.com", &approved).is_err());
        assert!(check_email("a@evilnhs.net", &approved).is_err());
    }
}
