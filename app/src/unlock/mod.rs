//! The self-service unlock flow (UNL-1…UNL-8), one module per screen: start with the
//! card in the reader, whose card it is and the security questions, the emailed code,
//! the new passcode (set on the card through the bridge, never sent to the server), and
//! the result. A code the RA team read out on the phone can stand in for the answers and
//! the emailed code (RA-3), also for a closed (UNL-4) or unregistered (UNL-8) user.
//! The routes without the questions go through their own middle screens: the Smartcard
//! Service Centre's Account Recovery details (SCSC-1, [`recovery`]) and, for both it and
//! the NHS's 2023 route (POL-3), the choice of email or text ([`delivery`]) and the
//! one-time code ([`one_time`]). The flow's state lives in memory only (never
//! localStorage): a reload starts again, and the server's attempt expires on its own.

mod code;
mod delivery;
mod done;
mod one_time;
mod passcode;
mod questions;
mod ra_code;
mod recovery;
mod start;
mod stopped;

use api_types::policy::Policy;
use api_types::recovery::{CodeSent, DeliveryOption, UnlockRoute};
use api_types::unlock::{PublicConfig, Question};
use api_types::{AttemptId, ErrorCode};
use leptos::prelude::*;

use crate::bridge::{watch_card, Bridge, CardState};
use crate::errors::{self, stop_in, Next, Problem, ProblemSummary};
use crate::focus_heading;
use crate::submit::{Screens, Submit};

/// Where the user is in the flow.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// The start page of a route (POL-1: the profile's own, or the SCSC's under
    /// `seed-2006`).
    Start(UnlockRoute),
    Questions {
        attempt_id: AttemptId,
        holder_name: String,
        questions: Vec<Question>,
    },
    Code {
        attempt_id: AttemptId,
        email_hint: String,
    },
    /// SCSC-1: whose card it is, and the Account Recovery details.
    Recovery {
        attempt_id: AttemptId,
        holder_name: String,
        attempts_left: u32,
    },
    /// SCSC-2 / POL-3: Email or SMS.
    Delivery {
        attempt_id: AttemptId,
        route: UnlockRoute,
        /// The NHS's 2023 route names the holder here (UNL-2); the SCSC's did already.
        holder_name: Option<String>,
        options: Vec<DeliveryOption>,
    },
    /// SCSC-2 / POL-3: the code that was sent.
    OneTimeCode {
        attempt_id: AttemptId,
        route: UnlockRoute,
        sent: CodeSent,
    },
    /// The code was right: the user chooses the new passcode, then the card is updated.
    NewPasscode {
        attempt_id: AttemptId,
    },
    Done,
    Stopped {
        heading: &'static str,
        problem: Problem,
        can_restart: bool,
        /// The attempt the server keeps for a code from the RA team (RA-3): after the
        /// card proved itself, for a closed (UNL-4) or unregistered (UNL-8) user.
        ra_code: Option<AttemptId>,
    },
}

/// The flow's shared state; all handles, so it is `Copy` into every closure.
#[derive(Clone, Copy)]
struct Flow {
    bridge: StoredValue<Bridge>,
    ra_help: StoredValue<String>,
    /// POL-1: which routes the start page offers, and the new passcode's rule (POL-2).
    policy: Policy,
    step: RwSignal<Step>,
    /// A problem the user can fix on the current screen.
    problem: RwSignal<Option<Problem>>,
    card: RwSignal<CardState>,
}

/// The flow, with one screen's own words for the problems with what it asks for: those
/// the words keep (`Ok`) stay beside the input; the rest (`Err`) the flow shows as ever.
#[derive(Clone, Copy)]
struct Worded {
    flow: Flow,
    words: fn(Problem) -> Result<Problem, Problem>,
}

impl Screens for Worded {
    type Step = Step;

    fn problem(&self) -> RwSignal<Option<Problem>> {
        self.flow.problem
    }

    fn advance(&self, step: Step) {
        self.flow.advance(step);
    }

    fn fail(&self, problem: Problem) {
        match (self.words)(problem) {
            Ok(by_the_input) => self.flow.problem.set(Some(by_the_input)),
            Err(other) => self.flow.fail(other),
        }
    }
}

/// UNL-4 / UNL-8: the refusals of the card proof after which the server keeps the attempt
/// for a code from the RA team (RA-3).
fn waits_for_ra_code(problem: &Problem) -> bool {
    [
        ErrorCode::SelfServiceClosed,
        ErrorCode::NotRegistered,
        ErrorCode::RecoveryClosed,
        ErrorCode::NoDeliveryChannel,
    ]
    .into_iter()
    .any(|code| problem.is(code))
}

/// POL-1: the route an unlock starts on unless the user asks for the SCSC's.
fn first_route(policy: Policy) -> UnlockRoute {
    match policy {
        Policy::Seed2006 => UnlockRoute::Questions,
        Policy::Nhs2023 => UnlockRoute::Nhs2023,
    }
}

impl Flow {
    fn bridge(&self) -> Bridge {
        self.bridge.get_value()
    }

    /// The page of its own for a problem that ends the flow here (with the RA help text
    /// when the user cannot start again), or the problem back when the user can fix it on
    /// the current screen; either in the unlock's words. `ra_code`: the attempt a code
    /// from the RA team can go on with.
    fn stopped(&self, problem: Problem, ra_code: Option<AttemptId>) -> Result<Step, Problem> {
        let mut problem = problem.in_flow(errors::Flow::Unlock);
        let Some((heading, next)) = stop_in(errors::Flow::Unlock, problem.code) else {
            return Err(problem);
        };
        let can_restart = next == Next::StartAgain;
        if problem.help.is_none() && !can_restart {
            problem.help = Some(self.ra_help.get_value());
        }
        Ok(Step::Stopped {
            heading,
            problem,
            can_restart,
            ra_code,
        })
    }
}

impl Screens for Flow {
    type Step = Step;

    fn problem(&self) -> RwSignal<Option<Problem>> {
        self.problem
    }

    /// Shows a problem: inline when the user can fix it here, as its own page otherwise.
    fn fail(&self, problem: Problem) {
        match self.stopped(problem, None) {
            Ok(stopped) => self.advance(stopped),
            Err(problem) => self.problem.set(Some(problem)),
        }
    }

    fn advance(&self, step: Step) {
        self.problem.set(None);
        self.step.set(step);
    }
}

/// The whole unlock flow, mounted at `/` and `/unlock`.
#[component]
pub fn Unlock(config: PublicConfig) -> impl IntoView {
    let bridge = Bridge::new(&config.bridge_url);
    let flow = Flow {
        bridge: StoredValue::new(bridge.clone()),
        ra_help: StoredValue::new(config.ra_help),
        policy: config.policy,
        step: RwSignal::new(Step::Start(first_route(config.policy))),
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
        {move || match flow.step.get() {
            Step::Start(route) => view! { <start::StartPage flow=flow route=route/> }.into_any(),
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
            Step::Recovery { attempt_id, holder_name, attempts_left } => view! {
                <recovery::RecoveryPage
                    flow=flow
                    attempt_id=attempt_id
                    holder_name=holder_name
                    attempts_left=attempts_left
                />
            }
            .into_any(),
            Step::Delivery { attempt_id, route, holder_name, options } => view! {
                <delivery::DeliveryPage
                    flow=flow
                    attempt_id=attempt_id
                    route=route
                    holder_name=holder_name
                    options=options
                />
            }
            .into_any(),
            Step::OneTimeCode { attempt_id, route, sent } => view! {
                <one_time::OneTimeCodePage flow=flow attempt_id=attempt_id route=route sent=sent/>
            }
            .into_any(),
            Step::NewPasscode { attempt_id } => {
                view! { <passcode::PasscodePage flow=flow attempt_id=attempt_id/> }.into_any()
            }
            Step::Done => view! { <done::DonePage/> }.into_any(),
            Step::Stopped { heading, problem, can_restart, ra_code } => view! {
                <stopped::StoppedPage
                    flow=flow
                    heading=heading
                    problem=problem
                    can_restart=can_restart
                    ra_code=ra_code
                />
            }
            .into_any(),
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::errors::ProblemCode;

    fn stop(code: ErrorCode) -> Option<bool> {
        stop_in(errors::Flow::Unlock, ProblemCode::Api(code))
            .map(|(_, next)| next == Next::StartAgain)
    }

    #[test]
    fn unl_4_unl_8_dead_ends_get_their_own_page() {
        for code in [
            ErrorCode::SelfServiceClosed,
            ErrorCode::NotRegistered,
            ErrorCode::UnknownCard,
            ErrorCode::CardNotGenuine,
            ErrorCode::CardRefusedUpdate,
            ErrorCode::AlreadyUnlocked,
        ] {
            assert_eq!(stop(code), Some(false), "{code:?}");
        }
        for code in [
            ErrorCode::CodeExpired,
            ErrorCode::CodeTriesExhausted,
            ErrorCode::AttemptExpired,
            ErrorCode::AttemptEnded,
            ErrorCode::CodeAlreadyUsed,
        ] {
            assert_eq!(stop(code), Some(true), "{code:?}");
        }
    }

    #[test]
    fn ra_3_closed_and_unregistered_users_can_go_on_with_a_code_from_the_ra() {
        let waits = |code| waits_for_ra_code(&Problem::from_code(code));
        assert!(waits(ErrorCode::SelfServiceClosed));
        assert!(waits(ErrorCode::NotRegistered));
        assert!(waits(ErrorCode::RecoveryClosed));
        assert!(waits(ErrorCode::NoDeliveryChannel));
        assert!(!waits(ErrorCode::CardNotGenuine));
        assert!(!waits(ErrorCode::UnknownCard));
        for code in [
            ErrorCode::NoRaCode,
            ErrorCode::OwnAccount,
            ErrorCode::RaRoleRequired,
        ] {
            assert_eq!(stop(code), None, "{code:?}");
        }
    }

    #[test]
    fn unl_4_fixable_problems_stay_on_the_screen() {
        for code in [
            ErrorCode::WrongAnswers,
            ErrorCode::CodeInvalid,
            ErrorCode::CardRemoved,
            ErrorCode::NoCard,
        ] {
            assert_eq!(stop(code), None, "{code:?}");
        }
        assert_eq!(
            stop_in(errors::Flow::Unlock, ProblemCode::BridgeUnreachable),
            None
        );
        assert_eq!(stop_in(errors::Flow::Unlock, ProblemCode::Network), None);
    }
}
