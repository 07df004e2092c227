//! The self-service unlock flow (UNL-1…UNL-8), one module per screen: start with the
//! card in the reader, whose card it is and the security questions, the emailed code,
//! the new passcode (set on the card through the bridge, never sent to the server), and
//! the result. The flow's state lives in memory only (never localStorage): a reload
//! starts again, and the server's attempt expires on its own.

mod code;
mod done;
mod passcode;
mod questions;
mod start;
mod stopped;

use api_types::unlock::{CodeResponse, PublicConfig, Question};
use api_types::{AttemptId, ErrorCode};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::bridge::{watch_card, Bridge, CardState};
use crate::errors::{Problem, ProblemSummary};

/// Where the user is in the flow.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Start,
    Questions {
        attempt_id: AttemptId,
        holder_name: String,
        questions: Vec<Question>,
    },
    Code {
        attempt_id: AttemptId,
        email_hint: String,
    },
    /// The code was right: the server's card script and one-time PIN, held in memory
    /// until the card is updated.
    NewPasscode {
        attempt_id: AttemptId,
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
    bridge: StoredValue<Bridge>,
    ra_help: StoredValue<String>,
    step: RwSignal<Step>,
    /// Progress text while the card or the server is busy; `None` when idle.
    busy: RwSignal<Option<&'static str>>,
    /// A problem the user can fix on the current screen.
    problem: RwSignal<Option<Problem>>,
    card: RwSignal<CardState>,
}

/// How a problem is shown: on the current screen, or as a page of its own.
fn stop_heading(code: &str) -> Option<(&'static str, bool)> {
    let is = |c: ErrorCode| code == c.as_str();
    if is(ErrorCode::SelfServiceClosed) {
        Some(("You cannot use self-service unlock", false))
    } else if is(ErrorCode::NotRegistered) {
        Some(("You are not registered for self-service unlock", false))
    } else if is(ErrorCode::UnknownCard)
        || is(ErrorCode::CardNotGenuine)
        || is(ErrorCode::CardRefusedUpdate)
    {
        Some(("This smartcard cannot be unlocked here", false))
    } else if is(ErrorCode::AlreadyUnlocked) {
        Some(("Your smartcard is already unlocked", false))
    } else if [
        ErrorCode::AttemptEnded,
        ErrorCode::CodeAlreadyUsed,
        ErrorCode::AttemptExpired,
        ErrorCode::CodeExpired,
        ErrorCode::CodeTriesExhausted,
        ErrorCode::WrongStep,
        ErrorCode::NotFound,
    ]
    .into_iter()
    .any(is)
    {
        Some(("Please start again", true))
    } else {
        None
    }
}

impl Flow {
    fn bridge(&self) -> Bridge {
        self.bridge.get_value()
    }

    /// Shows a problem: inline when the user can fix it here, as its own page otherwise.
    fn fail(&self, mut problem: Problem) {
        self.busy.set(None);
        let Some((heading, can_restart)) = stop_heading(&problem.code) else {
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

/// Moves keyboard and screen-reader focus to the new screen's heading.
fn focus_heading() {
    request_animation_frame(|| {
        let heading = document()
            .query_selector("main h1")
            .ok()
            .flatten()
            .and_then(|h| h.dyn_into::<leptos::web_sys::HtmlElement>().ok());
        if let Some(heading) = heading {
            let _ = heading.focus();
        }
    });
}

/// The whole unlock flow, mounted at `/` and `/unlock`.
#[component]
pub fn Unlock(config: PublicConfig) -> impl IntoView {
    let bridge = Bridge::new(&config.bridge_url);
    let flow = Flow {
        bridge: StoredValue::new(bridge.clone()),
        ra_help: StoredValue::new(config.ra_help),
        step: RwSignal::new(Step::Start),
        busy: RwSignal::new(None),
        problem: RwSignal::new(None),
        card: RwSignal::new(CardState::Connecting),
    };
    watch_card(&bridge, flow.card);
    Effect::new(move |first: Option<()>| {
        flow.step.track();
        if first.is_some() {
            focus_heading();
        }
    });
    view! {
        {move || flow.problem.get().map(|problem| view! { <ProblemSummary problem=problem/> })}
        <p id="progress" class="app-progress" role="status" aria-live="polite">
            {move || flow.busy.get().unwrap_or("")}
        </p>
        {move || match flow.step.get() {
            Step::Start => view! { <start::StartPage flow=flow/> }.into_any(),
            Step::Questions { attempt_id, holder_name, questions } => view! {
                <questions::QuestionsPage
                    flow=flow
                    attempt_id=attempt_id
                    holder_name=holder_name
                    questions=questions
                />
            }
            .into_any(),
            Step::Code { attempt_id, email_hint } => {
                view! { <code::CodePage flow=flow attempt_id=attempt_id email_hint=email_hint/> }
                    .into_any()
            }
            Step::NewPasscode { attempt_id, card } => {
                view! { <passcode::PasscodePage flow=flow attempt_id=attempt_id card=card/> }
                    .into_any()
            }
            Step::Done => view! { <done::DonePage/> }.into_any(),
            Step::Stopped { heading, problem, can_restart } => view! {
                <stopped::StoppedPage
                    flow=flow
                    heading=heading
                    problem=problem
                    can_restart=can_restart
                />
            }
            .into_any(),
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_ends_get_their_own_page() {
        for code in [
            ErrorCode::SelfServiceClosed,
            ErrorCode::NotRegistered,
            ErrorCode::UnknownCard,
            ErrorCode::CardNotGenuine,
        ] {
            assert_eq!(
                stop_heading(code.as_str()).map(|s| s.1),
                Some(false),
                "{code:?}"
            );
        }
        for code in [
            ErrorCode::CodeExpired,
            ErrorCode::CodeTriesExhausted,
            ErrorCode::AttemptExpired,
        ] {
            assert_eq!(
                stop_heading(code.as_str()).map(|s| s.1),
                Some(true),
                "{code:?}"
            );
        }
    }

    #[test]
    fn fixable_problems_stay_on_the_screen() {
        for code in [
            ErrorCode::WrongAnswers,
            ErrorCode::CodeInvalid,
            ErrorCode::CardRemoved,
            ErrorCode::NoCard,
        ] {
            assert_eq!(stop_heading(code.as_str()), None, "{code:?}");
        }
        assert_eq!(stop_heading("bridge_unreachable"), None);
    }
}
