//! SCSC-1: after the card proved itself, whose card it is (UNL-2) and the Account Recovery
//! details — User's Unique Identifier, Family Name and Account Recovery Passcode — in seed
//! 000's words. A wrong one gets the one answer the server gives for all of them, with
//! the tries left (SCSC-4).

use api_types::passcodes::AccountPasscode;
use api_types::ra::UserUuid;
use api_types::recovery::{FamilyName, Recovery, RecoveryRequest, UnlockRoute};
use api_types::{AttemptId, ErrorCode};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::questions::holder_warning;
use super::{Flow, Step, Submit};
use crate::api;
use crate::errors::{tries_left_text, Problem};
use crate::widgets::Field;

/// The three details, checked for their shape here as the server will.
fn parse(uuid: &str, family_name: &str, passcode: &str) -> Result<RecoveryRequest, Problem> {
    let uuid = UserUuid::parse(uuid).map_err(|_| {
        Problem::from_code(ErrorCode::BadRequest)
            .with_message("Enter your User's Unique Identifier: the 12 digits on your smartcard.")
            .on_field("uuid")
    })?;
    let family_name = FamilyName::parse(family_name).map_err(|_| {
        Problem::from_code(ErrorCode::BadRequest)
            .with_message("Enter your Family Name.")
            .on_field("family-name")
    })?;
    let recovery_passcode = AccountPasscode::parse(passcode).map_err(|error| {
        Problem::from_code(ErrorCode::BadRequest)
            .with_message(&format!("Account Recovery Passcode: {error}."))
            .on_field("recovery-passcode")
    })?;
    Ok(RecoveryRequest {
        uuid,
        family_name,
        recovery_passcode,
    })
}

#[component]
pub(super) fn RecoveryPage(
    flow: Flow,
    attempt_id: AttemptId,
    holder_name: String,
    attempts_left: u32,
) -> impl IntoView {
    let (uuid, family_name, passcode) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let send = Submit::new(
        flow,
        "Checking your details…",
        move |request: &RecoveryRequest| {
            let (attempt_id, request) = (attempt_id.clone(), request.clone());
            async move {
                let accepted = api::call::<Recovery>(&attempt_id, &request).await?;
                Ok(Step::Delivery {
                    attempt_id,
                    route: UnlockRoute::Scsc,
                    holder_name: None,
                    options: accepted.options,
                })
            }
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send.dispatch(|| {
            parse(
                &uuid.get_untracked(),
                &family_name.get_untracked(),
                &passcode.get_untracked(),
            )
        });
    };
    view! {
        {send.progress_line()}
        <h1 tabindex="-1">"Enter your Account Recovery details"</h1>
        {holder_warning(&holder_name)}
        <form on:submit=submit novalidate>
            {Field::new("uuid", "User's Unique Identifier (UUID)")
                .hint("uuid-hint", "12 digits. It is printed on your smartcard.")
                .width("nhsuk-input--width-20")
                .view(flow.problem, uuid)}
            {Field::new("family-name", "Family Name")
                .autocomplete("family-name")
                .view(flow.problem, family_name)}
            {Field::new("recovery-passcode", "Account Recovery Passcode")
                .hint(
                    "recovery-passcode-hint",
                    "The passcode you set on Manage Passcodes, 8 to 20 characters.",
                )
                .password("current-password")
                .view(flow.problem, passcode)}
            <p class="nhsuk-body-s" id="recovery-tries">
                {move || {
                    let problem = flow.problem.get();
                    tries_left_text(problem.and_then(|p| p.tries_left).unwrap_or(attempts_left))
                }}
            </p>
            <button type="submit" id="ok-button" class="nhsuk-button">"OK"</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scsc_1_each_detail_is_checked_for_its_shape_beside_its_input() {
        assert!(parse("555555555501", " Rigby ", "Recovery pass 1").is_ok());
        for (uuid, name, passcode, field) in [
            ("5555", "Rigby", "Recovery pass 1", "uuid"),
            ("555555555501", "  ", "Recovery pass 1", "family-name"),
            ("555555555501", "Rigby", "short", "recovery-passcode"),
        ] {
            assert_eq!(parse(uuid, name, passcode).unwrap_err().field, Some(field));
        }
    }
}
