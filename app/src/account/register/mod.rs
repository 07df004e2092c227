//! Register for self-service unlock (REG-1…REG-4), one module per screen: confirm it's
//! you (the passcode again, verified on the card, which signs a fresh login challenge),
//! the four security questions and the email, the emailed registration code, done.
//! It needs a signed-in card session, checked before anything is asked. Everything is
//! checked here before it is sent, and the server checks again. Answers and the passcode
//! live only in the form fields and the running step — never in a URL, storage or a log
//! — and the passcode field is cleared as soon as it is used. The flow's state is in
//! memory only: a reload starts again, and the server's registration expires on its own.

mod code;
mod confirm;
mod details;
mod problems;
mod rules;

use api_types::auth::{Session, SessionInfo};
use api_types::register::{CodeSent, RegisterBeginResponse, RegistrationId};
use api_types::unlock::PublicConfig;
use api_types::{CardGuid, ErrorCode};
use leptos::prelude::*;

use self::problems::in_registration;
use crate::api;
use crate::bridge::{watch_card, Bridge, CardState};
use crate::errors::{stop_in, Flow, Next, Problem, ProblemSummary};
use crate::focus_heading;
use crate::submit::{Screens, Submit};
use crate::widgets::{reason_code, warning_callout};

/// Where the user is in the registration.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// REG-1: the passcode again, on the card.
    Confirm,
    /// REG-2 / REG-3: the questions and answers, and the email.
    Details(RegisterBeginResponse),
    /// REG-4: the emailed code; `resent` after "Send a new code".
    Code {
        id: RegistrationId,
        sent: CodeSent,
        resent: bool,
    },
    Done,
    Stopped {
        heading: &'static str,
        problem: Problem,
        next: Next,
    },
}

/// The registration's shared state; all handles, so it is `Copy` into every closure.
#[derive(Clone, Copy)]
struct Reg {
    bridge: StoredValue<Bridge>,
    ra_help: StoredValue<String>,
    /// The card this session signed in with: only it can confirm (REG-1).
    card_guid: CardGuid,
    step: RwSignal<Step>,
    /// A problem the user can fix on the current screen.
    problem: RwSignal<Option<Problem>>,
    card: RwSignal<CardState>,
}

impl Reg {
    fn bridge(&self) -> Bridge {
        self.bridge.get_value()
    }
}

impl Screens for Reg {
    type Step = Step;

    fn problem(&self) -> RwSignal<Option<Problem>> {
        self.problem
    }

    fn advance(&self, step: Step) {
        self.problem.set(None);
        self.step.set(step);
    }

    /// Inline when the user can fix it here, as a page of its own otherwise.
    fn fail(&self, problem: Problem) {
        let mut problem = in_registration(problem);
        let Some((heading, next)) = stop_in(Flow::Register, problem.code) else {
            self.problem.set(Some(problem));
            return;
        };
        if next == Next::AskRa && problem.help.is_none() {
            problem.help = Some(self.ra_help.get_value());
        }
        self.advance(Step::Stopped {
            heading,
            problem,
            next,
        });
    }
}

/// The registration, mounted at `/register`: for a signed-in user only.
#[component]
pub fn Register(config: PublicConfig) -> impl IntoView {
    let session = LocalResource::new(|| api::call::<Session>(&(), &()));
    let config = StoredValue::new(config);
    view! {
        <Suspense fallback=|| view! { <p aria-live="polite">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match session.await {
                    Ok(session) => view! {
                        <Registration config=config.get_value() session=session/>
                    }
                    .into_any(),
                    Err(problem) => signed_out(problem).into_any(),
                }
            })}
        </Suspense>
    }
}

/// No session (or no answer): say so, and where to sign in.
fn signed_out(problem: Problem) -> impl IntoView {
    let heading = if problem.is(ErrorCode::NotSignedIn) {
        "You are not signed in"
    } else {
        "Register for self-service unlock"
    };
    view! {
        <h1 tabindex="-1">{heading}</h1>
        <ProblemSummary problem=problem/>
        <p>"To register for self-service unlock, sign in with your smartcard first."</p>
        <p><a href="/login" id="sign-in-link">"Sign in with your smartcard"</a></p>
    }
}

#[component]
fn Registration(config: PublicConfig, session: SessionInfo) -> impl IntoView {
    let bridge = Bridge::new(&config.bridge_url);
    let reg = Reg {
        bridge: StoredValue::new(bridge.clone()),
        ra_help: StoredValue::new(config.ra_help),
        card_guid: session.card_guid,
        step: RwSignal::new(Step::Confirm),
        problem: RwSignal::new(None),
        card: RwSignal::new(CardState::Connecting),
    };
    watch_card(&bridge, reg.card);
    Effect::new(move |first: Option<()>| {
        reg.step.track();
        if first.is_some() {
            focus_heading();
        }
    });
    let name = session.display_name;
    view! {
        {move || reg.problem.get().map(|problem| view! { <ProblemSummary problem=problem/> })}
        {move || match reg.step.get() {
            Step::Confirm => view! { <confirm::ConfirmPage reg=reg name=name.clone()/> }.into_any(),
            Step::Details(begun) => view! { <details::DetailsPage reg=reg begun=begun/> }.into_any(),
            Step::Code { id, sent, resent } => {
                view! { <code::CodePage reg=reg id=id sent=sent resent=resent/> }.into_any()
            }
            Step::Done => done().into_any(),
            Step::Stopped { heading, problem, next } => stopped(reg, heading, problem, next).into_any(),
        }}
    }
}

/// REG-4: registered.
fn done() -> impl IntoView {
    view! {
        <div class="nhsuk-panel nhsuk-panel--confirmation">
            <h1 class="nhsuk-panel__title" tabindex="-1">"You are registered for self-service unlock"</h1>
            <div class="nhsuk-panel__body">
                "If your smartcard locks, you can unlock it yourself with your security questions."
            </div>
        </div>
        <p>
            "We have emailed you to confirm. If you did not register, use the link in that email \
             to tell us."
        </p>
        <p><a href="/my-card" id="my-card-link">"Back to My card"</a></p>
    }
}

/// A problem that ends this registration, and what to do next.
fn stopped(reg: Reg, heading: &'static str, problem: Problem, next: Next) -> impl IntoView {
    let reason = reason_code(&problem);
    view! {
        <h1 tabindex="-1">{heading}</h1>
        {warning_callout("What to do next", view! {
            <p>{problem.message}</p>
            {problem.help.map(|help| view! { <p>{help}</p> })}
            {reason}
        })}
        {match next {
            Next::SignIn => view! {
                <p><a href="/login" id="sign-in-link">"Sign in with your smartcard"</a></p>
            }.into_any(),
            Next::StartAgain => view! {
                <button type="button" id="start-again-button" class="nhsuk-button"
                    on:click=move |_| reg.advance(Step::Confirm)>
                    "Start again"
                </button>
            }.into_any(),
            Next::AskRa => view! {
                <p><a href="/my-card" id="my-card-link">"Back to My card"</a></p>
            }.into_any(),
        }}
    }
}
