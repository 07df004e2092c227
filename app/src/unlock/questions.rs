//! Whose card it is (UNL-2) and the security questions (UNL-3); wrong answers show the
//! tries left, and the third closes self-service (UNL-4). A code from the RA team can
//! stand in for the answers (RA-3).

use api_types::register::ANSWERS_NEEDED;
use api_types::unlock::{Answer, Answers, AnswersRequest, Question};
use api_types::values::{BoundedVec, SecurityAnswer};
use api_types::{AttemptId, ErrorCode};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::ra_code::RaCodeForm;
use super::{Flow, Step, Submit};
use crate::api;
use crate::errors::Problem;
use crate::widgets::{warning_callout, Field};

/// The answers' inputs, in the order the questions are asked.
const ANSWER_FIELDS: [&str; ANSWERS_NEEDED] = ["answer-0", "answer-1", "answer-2", "answer-3"];

/// UNL-2: whose card it is, and the warning against unlocking anyone else's — on every
/// route, once the card has proved itself.
pub(super) fn holder_warning(holder_name: &str) -> impl IntoView {
    view! {
        <p>
            {format!(
                "You are attempting to unlock a Smartcard issued to {holder_name}. If this is not you please do not proceed."
            )}
        </p>
        {warning_callout("Warning", view! {
            <p>
                "You should not attempt to unlock another staff member's card; this could result in \
                 disciplinary action."
            </p>
        })}
    }
}

#[component]
pub(super) fn QuestionsPage(
    flow: Flow,
    attempt_id: AttemptId,
    holder_name: String,
    questions: Vec<Question>,
) -> impl IntoView {
    // UNL-3: a user has ANSWERS_NEEDED questions, so at most that many are asked.
    let asked: Vec<(Question, &'static str, RwSignal<String>)> = questions
        .into_iter()
        .zip(ANSWER_FIELDS)
        .map(|(question, field)| (question, field, RwSignal::new(String::new())))
        .collect();
    let answers: Vec<(u32, RwSignal<String>)> =
        asked.iter().map(|(q, _, answer)| (q.id, *answer)).collect();
    let answers = StoredValue::new(answers);
    let ra_attempt = attempt_id.clone();
    let send = Submit::new(
        flow,
        "Checking your answers and sending your code…",
        move |request: &AnswersRequest| {
            let (attempt_id, request) = (attempt_id.clone(), request.clone());
            async move {
                let sent = api::call::<Answers>(&attempt_id, &request).await?;
                Ok(Step::Code {
                    attempt_id,
                    email_hint: sent.email_hint,
                })
            }
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send.dispatch(|| {
            let parsed: Result<Vec<Answer>, _> = answers
                .get_value()
                .into_iter()
                .map(|(question_id, answer)| {
                    SecurityAnswer::parse(&answer.get_untracked()).map(|answer| Answer {
                        question_id,
                        answer,
                    })
                })
                .collect();
            let answers = parsed
                .and_then(BoundedVec::new)
                .map_err(|_| Problem::from_code(ErrorCode::BadRequest))?;
            Ok(AnswersRequest { answers })
        });
    };
    view! {
        {send.progress_line()}
        <h1 tabindex="-1">"Confirm your identity"</h1>
        {holder_warning(&holder_name)}
        <p>
            "To confirm your identity please answer the following security questions. These are \
             questions that you provided when you registered for the Smartcard Unlock Service."
        </p>
        <form on:submit=submit novalidate>
            {asked
                .into_iter()
                .map(|(question, field, answer)| {
                    Field::new(field, question.text)
                        .width("")
                        .question(question.id)
                        .view(flow.problem, answer)
                })
                .collect_view()}
            <p class="nhsuk-body-s">
                "Please note that after 3 failed attempts at answering your security questions, you \
                 will not be able to proceed and you will have to contact your Registration Authority."
            </p>
            <button type="submit" id="next-button" class="nhsuk-button">"Next"</button>
        </form>
        <details class="nhsuk-details" id="ra-code-details">
            <summary class="nhsuk-details__summary">
                <span class="nhsuk-details__summary-text">"I have a code from the RA team"</span>
            </summary>
            <div class="nhsuk-details__text">
                <p>
                    "If the RA team have checked who you are on the phone and read you a code, \
                     enter it here instead of answering the questions."
                </p>
                <RaCodeForm flow=flow attempt_id=ra_attempt/>
            </div>
        </details>
    }
}
