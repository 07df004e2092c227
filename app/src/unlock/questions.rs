//! Whose card it is (UNL-2) and the security questions (UNL-3); wrong answers show the
//! tries left, and the third closes self-service (UNL-4). A code from the RA team can
//! stand in for the answers (RA-3).

use api_types::unlock::{Answer, Answers, AnswersRequest, Question};
use api_types::values::{BoundedVec, SecurityAnswer};
use api_types::{AttemptId, ErrorCode};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::ra_code::RaCodeForm;
use super::{Flow, Step, Submit};
use crate::api;
use crate::errors::Problem;
use crate::widgets::warning_callout;

#[component]
pub(super) fn QuestionsPage(
    flow: Flow,
    attempt_id: AttemptId,
    holder_name: String,
    questions: Vec<Question>,
) -> impl IntoView {
    let answers = RwSignal::new(vec![String::new(); questions.len()]);
    let ra_attempt = attempt_id.clone();
    let ids: Vec<u32> = questions.iter().map(|q| q.id).collect();
    let ids = StoredValue::new(ids);
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
            let parsed: Result<Vec<Answer>, _> = ids
                .get_value()
                .into_iter()
                .zip(answers.get_untracked())
                .map(|(question_id, answer)| {
                    SecurityAnswer::parse(&answer).map(|answer| Answer {
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
