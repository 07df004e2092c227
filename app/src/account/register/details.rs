//! Your security questions (REG-2) and your email address (REG-3): 4 different questions
//! from the organisation's 20, each answered, and the address for codes — the one on
//! record, confirmed or overwritten — on an approved domain. Checked here, each problem
//! beside its input, before anything is sent; the server checks again. Then the server
//! emails a registration code. The checks are in [`super::rules`].

use api_types::register::{
    RegisterBeginResponse, RegisterDetails, RegisterDetailsRequest, ANSWERS_NEEDED,
};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::rules::{check_details, domains_list, ANSWER_FIELDS, EMAIL_FIELD, QUESTION_FIELDS};
use super::{Reg, Step, Submit};
use crate::api;
use crate::widgets::{described_by, error_message, group_class, has_error, Field};

#[component]
pub(super) fn DetailsPage(reg: Reg, begun: RegisterBeginResponse) -> impl IntoView {
    let RegisterBeginResponse {
        registration_id: id,
        questions,
        email: on_record,
        approved_domains: approved,
    } = begun;
    let choices: [(RwSignal<u32>, RwSignal<String>); ANSWERS_NEEDED] =
        std::array::from_fn(|_| (RwSignal::new(0), RwSignal::new(String::new())));
    let email = RwSignal::new(on_record);
    let hint = format!(
        "We will send your registration code, and any unlock codes, to this address. It must be \
         an address at {}, or at a subdomain of one of them.",
        domains_list(&approved)
    );
    let approved = StoredValue::new(approved);
    let send = Submit::new(
        reg,
        "Sending your registration code…",
        move |request: &RegisterDetailsRequest| {
            let (id, request) = (id.clone(), request.clone());
            async move {
                let sent = api::call::<RegisterDetails>(&id, &request).await?;
                Ok(Step::Code {
                    id,
                    sent,
                    resent: false,
                })
            }
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send.dispatch(|| {
            let typed = choices.map(|(q, a)| (q.get_untracked(), a.get_untracked()));
            check_details(&typed, &email.get_untracked(), &approved.get_value())
        });
    };
    let has_error = move |field: &'static str| has_error(reg.problem, field);
    let described_by = move |field: &'static str, hint: Option<&'static str>| {
        described_by(reg.problem, field, hint)
    };
    let pairs = choices
        .into_iter()
        .zip(QUESTION_FIELDS.into_iter().zip(ANSWER_FIELDS))
        .enumerate()
        .map(|(i, ((question, answer), (question_field, answer_field)))| {
            let n = i + 1;
            view! {
                <div class=move || group_class(has_error(question_field))>
                    <label class="nhsuk-label" for=question_field>{format!("Question {n}")}</label>
                    {error_message(reg.problem, question_field)}
                    <select
                        class=move || if has_error(question_field) { "nhsuk-select nhsuk-select--error" } else { "nhsuk-select" }
                        id=question_field
                        name=question_field
                        aria-describedby=described_by(question_field, None)
                        on:change=move |ev| question.set(event_target_value(&ev).parse().unwrap_or(0))
                    >
                        <option value="0">"Choose a question"</option>
                        {questions.iter().map(|q| view! {
                            <option value=q.id.to_string()>{q.text.clone()}</option>
                        }).collect_view()}
                    </select>
                </div>
                {Field::new(answer_field, format!("Answer {n}"))
                    .width("")
                    .view(reg.problem, answer)}
            }
        })
        .collect_view();
    view! {
        {send.progress_line()}
        <span class="nhsuk-caption-l">"Register for self-service unlock"</span>
        <h1 tabindex="-1">"Your security questions"</h1>
        <p>
            "Choose 4 different questions and answer each of them. When you unlock your smartcard, \
             you will be asked some of them. Choose answers you will remember and that other people \
             could not guess. Capital letters and extra spaces in answers do not matter."
        </p>
        <form on:submit=submit novalidate>
            {pairs}
            {Field::new(EMAIL_FIELD, "Email address for your codes")
                .hint("email-hint", hint)
                .kind("email")
                .autocomplete("email")
                .width("")
                .view(reg.problem, email)}
            <button type="submit" id="send-code-button" class="nhsuk-button">"Send me a code"</button>
        </form>
    }
}
