//! What went wrong, in plain language, with the stable reason code support staff use.
//! [`words`] is the one place a code becomes words: a general sentence that names no
//! particular flow, and one table of what each [`Flow`] says in its own words
//! ([`sentence_in`], [`Problem::in_flow`]); [`ends`] says which problems end a flow
//! ([`stop_in`]). Their matches are exhaustive over every [`ErrorCode`], so a new code
//! cannot ship without its sentence and its ending.

mod ends;
mod words;

use api_types::{ApiError, ErrorCode};
use leptos::prelude::*;

use crate::setup_check::CheckSetupLink;
use crate::widgets::reason_code;

pub use ends::{stop_in, Next};
pub use words::{sentence_in, Flow};

/// Why a step did not go ahead: a code the server or the card bridge sent, or one of the
/// two ways the page itself can fail to get an answer. Matched exhaustively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemCode {
    /// A stable code from the server or the card bridge.
    Api(ErrorCode),
    /// The card bridge on this computer did not answer.
    BridgeUnreachable,
    /// The server did not answer, or its answer could not be read.
    Network,
}

impl ProblemCode {
    /// The reason code shown to the user and quoted to support.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api(code) => code.as_str(),
            Self::BridgeUnreachable => "bridge_unreachable",
            Self::Network => "network",
        }
    }

    /// Whether "Check my setup" can help: the bridge, the reader or the card on this
    /// computer is at fault, not the user's answers or the server.
    pub fn is_setup(self) -> bool {
        use ErrorCode as C;
        matches!(
            self,
            Self::BridgeUnreachable
                | Self::Api(
                    C::HostNotAllowed
                        | C::OriginNotAllowed
                        | C::NoReader
                        | C::NoCard
                        | C::CardError
                        | C::PcscUnavailable
                        | C::GrantInvalid
                        | C::GrantWrongOrigin
                )
        )
    }

    /// The general sentence for this problem, naming no particular flow; a flow says it
    /// in its own words with [`sentence_in`].
    pub fn sentence(self) -> &'static str {
        words::general(self)
    }
}

impl From<ErrorCode> for ProblemCode {
    fn from(code: ErrorCode) -> Self {
        Self::Api(code)
    }
}

/// A problem with one input: linked from the error summary, and shown by the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The input's `id`.
    pub field: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub code: ProblemCode,
    pub message: String,
    pub tries_left: Option<u32>,
    pub help: Option<String>,
    /// The input the problem is about, linked from the error summary.
    pub field: Option<&'static str>,
    /// Problems with further inputs, listed in the summary after the first.
    pub also: Vec<FieldError>,
    /// The server's `x-request-id` for the answer, shown beside the reason code (OPS-3).
    /// (Boxed: a `Problem` stays small enough to be an `Err`.)
    pub request_id: Option<Box<str>>,
}

impl Problem {
    pub fn new(code: impl Into<ProblemCode>) -> Self {
        let code = code.into();
        Self {
            code,
            message: code.sentence().to_owned(),
            tries_left: None,
            help: None,
            field: None,
            also: Vec::new(),
            request_id: None,
        }
    }

    pub fn from_code(code: ErrorCode) -> Self {
        Self::new(code)
    }

    /// The problem in `flow`'s own words (see [`sentence_in`]); a message written for
    /// this problem alone is kept.
    pub fn in_flow(mut self, flow: Flow) -> Self {
        if self.message == self.code.sentence() {
            sentence_in(flow, self.code).clone_into(&mut self.message);
        }
        self
    }

    pub fn with_message(mut self, message: &str) -> Self {
        message.clone_into(&mut self.message);
        self
    }

    pub fn on_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    /// One problem about several inputs: the first gives the message, all are listed.
    pub fn on_fields(mut self, errors: Vec<FieldError>) -> Self {
        let mut errors = errors.into_iter();
        if let Some(first) = errors.next() {
            self.message = first.message;
            self.field = Some(first.field);
        }
        self.also = errors.collect();
        self
    }

    /// Every input this problem is about, with its message.
    pub fn field_errors(&self) -> Vec<FieldError> {
        self.field
            .map(|field| FieldError {
                field,
                message: self.message.clone(),
            })
            .into_iter()
            .chain(self.also.iter().cloned())
            .collect()
    }

    /// The message for one input, if this problem is about it.
    pub fn message_for(&self, field: &str) -> Option<String> {
        self.field_errors()
            .into_iter()
            .find(|e| e.field == field)
            .map(|e| e.message)
    }

    pub fn is(&self, code: ErrorCode) -> bool {
        self.code == ProblemCode::Api(code)
    }

    pub fn bridge_unreachable() -> Self {
        Self::new(ProblemCode::BridgeUnreachable)
    }

    pub fn network() -> Self {
        Self::new(ProblemCode::Network)
    }
}

impl From<ApiError> for Problem {
    fn from(error: ApiError) -> Self {
        Self {
            tries_left: error.tries_left,
            ..Self::new(error.code)
        }
    }
}

/// "You have 2 tries left."
pub fn tries_left_text(n: u32) -> String {
    format!(
        "You have {n} {} left.",
        if n == 1 { "try" } else { "tries" }
    )
}

/// The NHS.UK error summary; it takes focus when shown so screen readers announce it.
#[component]
pub fn ProblemSummary(problem: Problem) -> impl IntoView {
    let node = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(summary) = node.get() {
            let _ = summary.focus();
        }
    });
    let fields = problem.field_errors();
    let reason = reason_code(&problem);
    let body = if fields.is_empty() {
        view! { <p>{problem.message}</p> }.into_any()
    } else {
        view! {
            <ul class="nhsuk-list nhsuk-error-summary__list">
                {fields.into_iter().map(|e| view! {
                    <li><a href=format!("#{}", e.field)>{e.message}</a></li>
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <div
            class="nhsuk-error-summary"
            aria-labelledby="error-summary-title"
            role="alert"
            tabindex="-1"
            node_ref=node
        >
            <h2 class="nhsuk-error-summary__title" id="error-summary-title">"There is a problem"</h2>
            <div class="nhsuk-error-summary__body">
                {body}
                {problem.tries_left.map(|n| view! { <p>{tries_left_text(n)}</p> })}
                {problem.help.map(|help| view! { <p>{help}</p> })}
                {problem.code.is_setup().then(|| view! { <CheckSetupLink/> })}
                {reason}
            </div>
        </div>
    }
}

/// Every problem the page can meet, for tests that must cover them all.
#[cfg(test)]
pub(crate) fn every_problem() -> impl Iterator<Item = ProblemCode> {
    ErrorCode::ALL
        .into_iter()
        .map(ProblemCode::Api)
        .chain([ProblemCode::BridgeUnreachable, ProblemCode::Network])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_2_api_errors_become_plain_language_with_their_code() {
        let error = ApiError::new(ErrorCode::WrongAnswers, "wrong").with_tries_left(2);
        let problem = Problem::from(error);
        assert_eq!(problem.code, ProblemCode::Api(ErrorCode::WrongAnswers));
        assert_eq!(problem.code.as_str(), "wrong_answers");
        assert_eq!(
            problem.message,
            ProblemCode::Api(ErrorCode::WrongAnswers).sentence()
        );
        assert_eq!(problem.tries_left, Some(2));
        assert!(problem.is(ErrorCode::WrongAnswers));
        assert!(!Problem::network().is(ErrorCode::WrongAnswers));
    }

    #[test]
    fn all_2_every_error_code_has_a_stable_string() {
        let codes = ErrorCode::ALL
            .into_iter()
            .map(ProblemCode::Api)
            .chain([ProblemCode::BridgeUnreachable, ProblemCode::Network]);
        let mut strings = Vec::new();
        for code in codes {
            if let ProblemCode::Api(api) = code {
                assert_eq!(code.as_str(), api.as_str(), "{code:?}");
            }
            strings.push(code.as_str());
        }
        let count = strings.len();
        strings.sort_unstable();
        strings.dedup();
        assert_eq!(strings.len(), count, "two problems share a reason code");
    }

    #[test]
    fn all_3_a_problem_takes_its_flows_words_but_keeps_a_message_of_its_own() {
        let wrong = Problem::from_code(ErrorCode::CodeInvalid).in_flow(Flow::Register);
        assert_eq!(
            wrong.message,
            sentence_in(Flow::Register, ProblemCode::Api(ErrorCode::CodeInvalid))
        );
        let own = Problem::from_code(ErrorCode::CodeInvalid)
            .with_message("Enter the 6-digit code.")
            .in_flow(Flow::Register);
        assert_eq!(own.message, "Enter the 6-digit code.");
        assert_eq!(Problem::network().in_flow(Flow::Ra), Problem::network());
    }

    #[test]
    fn all_3_a_problem_about_several_inputs_lists_each_once() {
        let problem = Problem::from_code(ErrorCode::QuestionsInvalid).on_fields(vec![
            FieldError {
                field: "question-2",
                message: "Choose question 2".into(),
            },
            FieldError {
                field: "answer-3",
                message: "Enter answer 3".into(),
            },
        ]);
        assert_eq!(problem.message, "Choose question 2");
        assert_eq!(problem.field, Some("question-2"));
        assert_eq!(problem.field_errors().len(), 2);
        assert_eq!(
            problem.message_for("answer-3").as_deref(),
            Some("Enter answer 3")
        );
        assert_eq!(problem.message_for("email"), None);
        let single = Problem::from_code(ErrorCode::EmailNotApproved).on_field("email");
        assert_eq!(
            single.message_for("email").as_deref(),
            Some(ProblemCode::Api(ErrorCode::EmailNotApproved).sentence())
        );
        assert!(Problem::network().field_errors().is_empty());
    }

    #[test]
    fn unl_4_tries_are_counted_in_plain_english() {
        assert_eq!(tries_left_text(1), "You have 1 try left.");
        assert_eq!(tries_left_text(2), "You have 2 tries left.");
    }
}
