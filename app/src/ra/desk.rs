//! What the RA's actions share (RA-3): each names a reason (checked here, 3–500
//! characters, and again by the server), runs as the page's one [`Submit`] at a time, and
//! ends in a banner saying what was done — with a phone code, shown once — or in the
//! error summary; then the page's record is loaded again.
//!
//! [`Submit`]: crate::submit::Submit

use api_types::ra::{Done, PhoneCode, Reason, REASON_MAX_CHARS};
use api_types::{Endpoint, ErrorCode};
use leptos::prelude::*;

use super::card::{CardAgainForm, RaCard};
use super::in_console_words;
use crate::api;
use crate::errors::{Problem, ProblemSummary};
use crate::submit::Screens;
use crate::widgets::{described_by, error_message, group_class, has_error, minute, SuccessBanner};

/// What an action did, for the banner; a phone code is shown once.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Did {
    pub(super) said: String,
    pub(super) phone_code: Option<PhoneCode>,
}

impl Did {
    pub(super) fn said(said: String) -> Self {
        Self {
            said,
            phone_code: None,
        }
    }
}

/// A page's actions (RA-3): the problem shown at the top and beside its input, the
/// banner saying what was done, and the record loaded again after each action.
#[derive(Clone, Copy)]
pub(super) struct Desk {
    pub(super) problem: RwSignal<Option<Problem>>,
    done: RwSignal<Option<Did>>,
    /// Bumped after each action; the page's record reloads when it changes.
    pub(super) version: RwSignal<u32>,
}

impl Desk {
    pub(super) fn new() -> Self {
        Self {
            problem: RwSignal::new(None),
            done: RwSignal::new(None),
            version: RwSignal::new(0),
        }
    }

    /// The error summary, then the banner saying what was done (`role="status"`); an
    /// action refused for want of a recent card proof (RA-5) brings the passcode form.
    pub(super) fn banners(self) -> impl IntoView {
        let ra = use_context::<RaCard>();
        let card_again = move || {
            let refused = self.problem.with(|p| {
                p.as_ref()
                    .is_some_and(|p| p.is(ErrorCode::CardProofRequired))
            });
            ra.filter(|_| refused)
                .map(|ra| view! { <CardAgainForm ra=ra desk=self/> })
        };
        view! {
            {move || self.problem.get().map(|problem| view! { <ProblemSummary problem=problem/> })}
            {card_again}
            {move || self.done.get().map(|did| view! { <DoneBanner did=did/> })}
        }
    }

    /// RA-5: the RA's card proved itself again; the refusal that asked for it is done with.
    pub(super) fn confirmed(self, did: Did) {
        self.problem.set(None);
        self.done.set(Some(did));
    }
}

/// What was done; a phone code big enough to read out, once (RA-3). It takes focus, as
/// the error summary does, so the RA sees it after a form far down the page.
#[component]
fn DoneBanner(did: Did) -> impl IntoView {
    view! {
        <SuccessBanner id="ra-done" title_id="ra-done-title" title="Done" heading=did.said>
            {did.phone_code.map(|code| view! {
                <p>"Read this code out to the caller:"</p>
                <p id="phone-code" class="nhsuk-u-font-size-64 nhsuk-u-font-weight-bold nhsuk-u-font-code">
                    {code.code.expose().to_owned()}
                </p>
                <p id="phone-code-expiry">
                    {format!(
                        "It works until {} UTC, for {} {}, and only to unlock this user's own \
                         smartcard. It is not shown again.",
                        minute(code.expires_at),
                        code.tries,
                        if code.tries == 1 { "try" } else { "tries" },
                    )}
                </p>
            })}
        </SuccessBanner>
    }
}

impl Screens for Desk {
    type Step = Did;

    fn problem(&self) -> RwSignal<Option<Problem>> {
        self.problem
    }

    fn advance(&self, did: Did) {
        self.problem.set(None);
        self.done.set(Some(did));
        self.version.update(|v| *v += 1);
    }

    fn fail(&self, problem: Problem) {
        self.done.set(None);
        self.problem.set(Some(in_console_words(problem)));
    }
}

/// RA-3: the reason typed for an action, or the problem beside its input.
pub(super) fn reason(field: &'static str, typed: &str) -> Result<Reason, Problem> {
    Reason::parse(typed).map_err(|_| {
        Problem::from_code(ErrorCode::BadRequest)
            .with_message(&format!(
                "Enter a reason between 3 and {REASON_MAX_CHARS} characters long."
            ))
            .on_field(field)
    })
}

/// The reason for an action (RA-3): a labelled textarea with its hint and error.
#[component]
pub(super) fn ReasonField(
    desk: Desk,
    /// The textarea's id.
    field: &'static str,
    /// The hint's id.
    hint: &'static str,
    #[prop(into)] label: String,
    /// What becomes of the reason.
    told: &'static str,
    text: RwSignal<String>,
) -> impl IntoView {
    let error = move || has_error(desk.problem, field);
    view! {
        <div class=move || group_class(error())>
            <label class="nhsuk-label" for=field>{label}</label>
            <div class="nhsuk-hint" id=hint>{format!("Between 3 and {REASON_MAX_CHARS} characters. {told}")}</div>
            {error_message(desk.problem, field)}
            <textarea
                class=move || if error() { "nhsuk-textarea nhsuk-textarea--error" } else { "nhsuk-textarea" }
                id=field
                name=field
                rows="3"
                aria-describedby=described_by(desk.problem, field, Some(hint))
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            ></textarea>
        </div>
    }
}

/// Calls an action `E` that answers [`Done`], e.g. `post_done::<Reopen>(uuid, request,
/// said)`, and says what was done.
pub(super) async fn post_done<E: Endpoint<Response = Done>>(
    params: E::Params,
    request: E::Request,
    said: String,
) -> Result<Did, Problem> {
    api::call::<E>(&params, &request).await?;
    Ok(Did::said(said))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_3_a_reason_is_asked_for_beside_its_input() {
        assert!(reason("reopen-reason", "Caller checked by phone").is_ok());
        let short = reason("reopen-reason", " ok ").err();
        assert_eq!(short.and_then(|p| p.field), Some("reopen-reason"));
    }
}
