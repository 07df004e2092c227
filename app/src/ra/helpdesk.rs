//! PASS-5: the helpdesk page, in the staff console's bundle: a helpdesk agent signed in
//! with their own card enters a caller's UUID and the Verification Passcode they say on
//! the phone, and is told yes or no — nothing else about the account. The server limits
//! and audits every check; the passcode is cleared from the page after each one.

use api_types::auth::Session;
use api_types::helpdesk::{HelpdeskCheck, HelpdeskCheckRequest};
use api_types::passcodes::AccountPasscode;
use api_types::ra::{Role, UserUuid};
use api_types::ErrorCode;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::{loading, sign_in_first};
use crate::api;
use crate::errors::{Problem, ProblemSummary};
use crate::widgets::Field;

const UUID_FIELD: &str = "caller-uuid";
const PASSCODE_FIELD: &str = "caller-passcode";

/// What the agent typed, checked before anything is sent.
fn request(uuid: &str, said: &str) -> Result<HelpdeskCheckRequest, Problem> {
    let uuid = UserUuid::parse(uuid).map_err(|_| {
        Problem::from_code(ErrorCode::BadRequest)
            .with_message("Enter the caller's 12-digit User's Unique Identifier.")
            .on_field(UUID_FIELD)
    })?;
    let verification_passcode = AccountPasscode::parse(said).map_err(|error| {
        Problem::from_code(ErrorCode::InvalidPasscode)
            .with_message(&error.to_string())
            .on_field(PASSCODE_FIELD)
    })?;
    Ok(HelpdeskCheckRequest {
        uuid,
        verification_passcode,
    })
}

#[component]
pub fn HelpdeskPage() -> impl IntoView {
    let session = LocalResource::new(|| api::call::<Session>(&(), &()));
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match session.await {
                    Ok(me) if me.role == Role::Helpdesk => checker().into_any(),
                    Ok(_) => view! {
                        <h1 tabindex="-1">"You do not have access to the helpdesk check"</h1>
                        <p>"It is for helpdesk agents. If you need it for your work, ask an RA manager."</p>
                    }.into_any(),
                    Err(problem) if problem.is(ErrorCode::NotSignedIn) => sign_in_first().into_any(),
                    Err(problem) => view! { <ProblemSummary problem=problem/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn checker() -> impl IntoView {
    let uuid = RwSignal::new(String::new());
    let said = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<Problem>);
    let answer = RwSignal::new(None::<(String, bool)>);
    let action = Action::new_local(|request: &HelpdeskCheckRequest| {
        let request = request.clone();
        async move { api::call::<HelpdeskCheck>(&(), &request).await }
    });
    Effect::new(move |_| match action.value().get() {
        Some(Ok(found)) => answer.set(Some((uuid.get_untracked(), found.matches))),
        Some(Err(found)) => problem.set(Some(found)),
        None => {}
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        problem.set(None);
        answer.set(None);
        match request(&uuid.get_untracked(), &said.get_untracked()) {
            Ok(request) => {
                said.set(String::new());
                action.dispatch_local(request);
            }
            Err(found) => problem.set(Some(found)),
        }
    };
    view! {
        <h1 tabindex="-1">"Check a caller's Verification Passcode"</h1>
        {move || problem.get().map(|p| view! { <ProblemSummary problem=p/> })}
        <div id="helpdesk-answer" role="status" aria-live="polite">
            {move || answer.get().map(|(who, matches)| {
                let (heading, words) = if matches {
                    ("Yes", "The Verification Passcode matches.")
                } else {
                    ("No", "The Verification Passcode does not match.")
                };
                view! {
                    <div class="nhsuk-inset-text">
                        <h2>{heading}</h2>
                        <p>{format!("{words} (caller {who})")}</p>
                    </div>
                }
            })}
        </div>
        <p>
            "You learn only whether the passcode the caller says is theirs. Every check is \
             recorded, and too many wrong ones lock the check until the caller sets a new \
             Verification Passcode."
        </p>
        <form on:submit=submit novalidate>
            {Field::new(UUID_FIELD, "User's Unique Identifier").width("nhsuk-input--width-20").view(problem, uuid)}
            {Field::new(PASSCODE_FIELD, "Verification Passcode the caller says").password("off").view(problem, said)}
            <button type="submit" id="helpdesk-check-button" class="nhsuk-button">"Check"</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_5_a_check_needs_a_12_digit_uuid_and_an_8_to_20_character_passcode() {
        assert!(request("555555555501", "Verify pass 1").is_ok());
        let uuid = request("5555", "Verify pass 1").err().and_then(|p| p.field);
        assert_eq!(uuid, Some(UUID_FIELD));
        let said = request("555555555501", "short").err().and_then(|p| p.field);
        assert_eq!(said, Some(PASSCODE_FIELD));
    }
}
