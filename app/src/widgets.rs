//! Small pieces of page shared by the screens (ALL-3): a summary-list row, the one
//! labelled input in a form group that shows its error beside it ([`Field`], linked from
//! the [`ProblemSummary`](crate::errors::ProblemSummary)), a table's header row, the
//! reason code with its request id, and times as people read them.

use std::borrow::Cow;

use api_types::time::utc_date_time;
use leptos::prelude::*;

use crate::errors::{tries_left_text, Problem};

/// One row of an NHS.UK summary list; the value carries `id` for tests and links.
pub(crate) fn row(key: &'static str, id: &'static str, value: String) -> impl IntoView {
    view! {
        <div class="nhsuk-summary-list__row">
            <dt class="nhsuk-summary-list__key">{key}</dt>
            <dd class="nhsuk-summary-list__value" id=id>{value}</dd>
        </div>
    }
}

/// The reason code support staff ask for and, for a server answer, its request id beside
/// it: what finds that request's line in the server's log (OPS-3).
pub(crate) fn reason_code(problem: &Problem) -> impl IntoView {
    let request = problem
        .request_id
        .as_ref()
        .map(|id| format!(" (request {id})"));
    view! { <p class="reason-code">"Reason code: " {problem.code.as_str()} {request}</p> }
}

/// The class of a form group, marked when its input has a problem.
pub(crate) fn group_class(error: bool) -> &'static str {
    if error {
        "nhsuk-form-group nhsuk-form-group--error"
    } else {
        "nhsuk-form-group"
    }
}

/// The error message shown above an input (`{field}-error`), if the problem is about it;
/// with the tries left when the input is the one the problem is first about (a wrong
/// code, a wrong passcode).
pub(crate) fn error_message(
    problem: RwSignal<Option<Problem>>,
    field: &'static str,
) -> impl IntoView {
    move || {
        problem.get().and_then(|p| {
            let message = p.message_for(field)?;
            let tries = p
                .tries_left
                .filter(|_| p.field == Some(field))
                .map(|n| format!(" {}", tries_left_text(n)));
            Some(view! {
                <span class="nhsuk-error-message" id=format!("{field}-error")>
                    <span class="nhsuk-u-visually-hidden">"Error: "</span>
                    {message}
                    {tries}
                </span>
            })
        })
    }
}

/// Whether the problem is about this input (reactive).
pub(crate) fn has_error(problem: RwSignal<Option<Problem>>, field: &'static str) -> bool {
    problem
        .get()
        .is_some_and(|p| p.message_for(field).is_some())
}

/// The input's `aria-describedby`: its hint, and its error message when it has one
/// (reactive).
pub(crate) fn described_by(
    problem: RwSignal<Option<Problem>>,
    field: &'static str,
    hint: Option<&'static str>,
) -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static {
    move || {
        let error = has_error(problem, field).then(|| format!("{field}-error"));
        let ids: Vec<String> = hint.map(str::to_owned).into_iter().chain(error).collect();
        (!ids.is_empty()).then(|| ids.join(" "))
    }
}

/// Words that are fixed, or made for one page (a question's text, a hint naming the
/// approved domains).
type Words = Cow<'static, str>;

/// Every NHS.UK text input in its form group (ALL-3) — text, email, tel, password, a
/// one-time code: its label, hint and error message (from the problem's field errors,
/// with `aria-describedby`), the error class on the group and the input.
#[derive(Clone)]
pub(crate) struct Field {
    id: &'static str,
    label: Words,
    /// The hint's id and words.
    hint: Option<(&'static str, Words)>,
    kind: &'static str,
    width: &'static str,
    inputmode: Option<&'static str>,
    autocomplete: &'static str,
    /// The security question an answer is for (`data-question-id`).
    question: Option<u32>,
}

impl Field {
    /// A text input of the default width, with no autocomplete.
    pub(crate) fn new(id: &'static str, label: impl Into<Words>) -> Self {
        Self {
            id,
            label: label.into(),
            hint: None,
            kind: "text",
            width: "nhsuk-input--width-20",
            inputmode: None,
            autocomplete: "off",
            question: None,
        }
    }

    pub(crate) fn hint(self, id: &'static str, words: impl Into<Words>) -> Self {
        Self {
            hint: Some((id, words.into())),
            ..self
        }
    }

    /// The input's `type`: `search`, `email`, `tel`, `date`…
    pub(crate) fn kind(self, kind: &'static str) -> Self {
        Self { kind, ..self }
    }

    /// The NHS.UK width class, or `""` for the full width.
    pub(crate) fn width(self, width: &'static str) -> Self {
        Self { width, ..self }
    }

    /// What the browser may fill it with: `email`, `tel`…
    pub(crate) fn autocomplete(self, autocomplete: &'static str) -> Self {
        Self {
            autocomplete,
            ..self
        }
    }

    /// A passcode: hidden as it is typed; `autocomplete` is `current-password` or
    /// `new-password`.
    pub(crate) fn password(self, autocomplete: &'static str) -> Self {
        Self {
            kind: "password",
            autocomplete,
            width: "nhsuk-input--width-10",
            ..self
        }
    }

    /// A one-time code: a numeric keypad, filled from a message where the device can.
    pub(crate) fn one_time_code(self) -> Self {
        Self {
            inputmode: Some("numeric"),
            autocomplete: "one-time-code",
            width: "nhsuk-input--width-10",
            ..self
        }
    }

    /// The answer to security question `id`.
    pub(crate) fn question(self, id: u32) -> Self {
        Self {
            question: Some(id),
            ..self
        }
    }

    /// The form group, bound to `text`; marked when `problem` is about this input.
    pub(crate) fn view(
        self,
        problem: RwSignal<Option<Problem>>,
        text: RwSignal<String>,
    ) -> impl IntoView {
        let Field {
            id,
            label,
            hint,
            kind,
            width,
            inputmode,
            autocomplete,
            question,
        } = self;
        let error = move || has_error(problem, id);
        let hint_id = hint.as_ref().map(|(hint, _)| *hint);
        view! {
            <div class=move || group_class(error())>
                <label class="nhsuk-label" for=id>{label}</label>
                {hint.map(|(hint, words)| view! { <div class="nhsuk-hint" id=hint>{words}</div> })}
                {error_message(problem, id)}
                <input
                    class=move || {
                        let marked = if error() { " nhsuk-input--error" } else { "" };
                        format!("nhsuk-input {width}{marked}")
                    }
                    id=id
                    name=id
                    type=kind
                    inputmode=inputmode
                    autocomplete=autocomplete
                    spellcheck="false"
                    data-question-id=question.map(|q| q.to_string())
                    aria-describedby=described_by(problem, id, hint_id)
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                />
            </div>
        }
    }
}

/// The NHS.UK warning callout: its label (read as "Important: …"), then its content.
/// A success banner that takes the focus when it appears, so a screen reader says what
/// was done; `body` goes below the heading line.
#[component]
pub(crate) fn SuccessBanner(
    id: &'static str,
    title_id: &'static str,
    title: &'static str,
    heading: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let node = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(banner) = node.get() {
            let _ = banner.focus();
        }
    });
    view! {
        <div class="nhsuk-notification-banner nhsuk-notification-banner--success" role="status"
            id=id aria-labelledby=title_id tabindex="-1" node_ref=node>
            <div class="nhsuk-notification-banner__header">
                <h2 class="nhsuk-notification-banner__title" id=title_id>{title}</h2>
            </div>
            <div class="nhsuk-notification-banner__content">
                <p class="nhsuk-notification-banner__heading">{heading}</p>
                {children.map(|children| children())}
            </div>
        </div>
    }
}

pub(crate) fn warning_callout(label: &'static str, body: impl IntoView) -> impl IntoView {
    view! {
        <div class="nhsuk-warning-callout">
            <h2 class="nhsuk-warning-callout__label">
                <span role="text">
                    <span class="nhsuk-u-visually-hidden">"Important: "</span>
                    {label}
                </span>
            </h2>
            {body}
        </div>
    }
}

/// A table's header row: one `<th scope="col">` a column.
pub(crate) fn table_head(columns: impl IntoIterator<Item = &'static str>) -> impl IntoView {
    let cells = columns
        .into_iter()
        .map(|column| view! { <th scope="col" class="nhsuk-table__header">{column}</th> })
        .collect_view();
    view! {
        <thead class="nhsuk-table__head">
            <tr class="nhsuk-table__row">{cells}</tr>
        </thead>
    }
}

/// `2026-11-23 14:05` (UTC) for unix seconds: to the minute, as the RA reads the trail.
pub(crate) fn minute(unix: i64) -> String {
    let mut text = utc_date_time(unix);
    text.truncate("2026-11-23 14:05".len());
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_4_times_read_to_the_minute_in_utc() {
        assert_eq!(minute(0), "1970-01-01 00:00");
        assert_eq!(minute(1_795_437_909), "2026-11-23 12:45");
    }
}
