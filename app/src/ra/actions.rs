//! The RA's actions on one user's account (RA-3), each a form with the reason it is done
//! for (kept in the audit trail and told to the user): reopen self-service, stop it at
//! once (RA-6), give a code to read out on the phone (shown once), change the contact
//! details, and — for RA managers — change the user's role. The server refuses an RA's own account
//! (`own_account`) and an agent's manager action (`ra_role_required`); the page shows
//! those refusals like any other.

use std::future::Future;

use api_types::ra::{
    ChangeRole, ChangeUserContact, ContactRequest, DeskRenewalRequest, IssuePhoneCode, Reason,
    ReasonRequest, RenewAtDesk, Reopen, RevokeCertificates, Role, RoleRequest, StopSelfService,
    UnlockPasscodes, UserSummary, UserUuid,
};
use api_types::CardGuid;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::{post_done, reason, role_name, Desk, Did, ReasonField};
use crate::api;
use crate::contact::{check_contact, ContactFields};
use crate::errors::Problem;
use crate::submit::Submit;
use crate::widgets::Field;

pub(super) const CONTACT_EMAIL_FIELD: &str = "ra-contact-email";
const CONTACT_MOBILE_FIELD: &str = "ra-contact-mobile";
const CONTACT_FIELDS: ContactFields = ContactFields {
    email: CONTACT_EMAIL_FIELD,
    mobile: CONTACT_MOBILE_FIELD,
};
const ROLE_FIELD: &str = "role-select";

/// One action's form: its words and the ids of its reason, hint, progress and button.
struct Form {
    heading: &'static str,
    about: &'static str,
    reason: &'static str,
    hint: &'static str,
    label: &'static str,
    progress_id: &'static str,
    progress: &'static str,
    button: &'static str,
    press: &'static str,
    /// What becomes of the reason.
    told: &'static str,
}

const TOLD: &str = "It is kept in the audit trail, and the user is told it by email.";

const REOPEN: Form = Form {
    heading: "Reopen self-service",
    about: "Lets the user unlock their smartcard with their security questions again, and \
            clears the failed tries. Do this once you have checked who they are.",
    reason: "reopen-reason",
    hint: "reopen-reason-hint",
    label: "Reason for reopening self-service",
    progress_id: "reopen-progress",
    progress: "Reopening self-service…",
    button: "reopen-button",
    press: "Reopen self-service",
    told: TOLD,
};

const PASSCODES_UNLOCK: Form = Form {
    heading: "Unlock: passcodes expired",
    about: "The user's passcodes expired and were not changed within the time allowed, so \
            the account is locked. Once you have checked who they are, unlock it: they must \
            change their passcodes when they next sign in.",
    reason: "passcodes-unlock-reason",
    hint: "passcodes-unlock-reason-hint",
    label: "Reason for unlocking the account",
    progress_id: "passcodes-unlock-progress",
    progress: "Unlocking the account…",
    button: "passcodes-unlock-button",
    press: "Unlock the account",
    told: TOLD,
};

const STOP: Form = Form {
    heading: "Stop self-service now",
    about: "For a suspected misuse of this account: closes self-service, stops any unlock or \
            registration under way, cancels a code given by phone and signs the user out \
            everywhere. Reopen self-service once it has been looked into.",
    reason: "stop-reason",
    hint: "stop-reason-hint",
    label: "Reason for stopping self-service",
    progress_id: "stop-progress",
    progress: "Stopping self-service…",
    button: "stop-button",
    press: "Stop self-service now",
    told: TOLD,
};

const REVOKE: Form = Form {
    heading: "Revoke certificates: card lost or stolen",
    about: "The card's certificates are revoked and published in the revocation list: the \
            card can no longer sign in, unlock or renew, anywhere. Any unlock or renewal under \
            way stops and the user is signed out. A new card must be issued.",
    reason: "revoke-reason",
    hint: "revoke-reason-hint",
    label: "How the loss was reported",
    progress_id: "revoke-progress",
    progress: "Revoking the certificates…",
    button: "revoke-button",
    press: "Revoke certificates",
    told: TOLD,
};

const DESK_RENEWAL: Form = Form {
    heading: "Renew certificates at the desk",
    about: "For the third renewal in a row, or certificates that have ended. Check who the \
            cardholder is in person first. You confirm it is you with your own card; then \
            you put their card in your reader and their card makes its new keys.",
    reason: "desk-renewal-reason",
    hint: "desk-renewal-reason-hint",
    label: "How you checked who they are",
    progress_id: "desk-renewal-progress",
    progress: "Opening a secure channel…",
    button: "desk-renewal-button",
    press: "Renew at the desk",
    told: "It is kept in the audit trail.",
};

const PHONE_CODE: Form = Form {
    heading: "Give a code by phone",
    about: "Once you have checked who the caller is, give them a code to read out: they enter \
            it in the unlock, with their own smartcard in the reader, instead of the security \
            questions and the emailed code. It works for 10 minutes, once.",
    reason: "phone-code-reason",
    hint: "phone-code-reason-hint",
    label: "Reason for giving a code by phone",
    progress_id: "phone-code-progress",
    progress: "Making a code…",
    button: "phone-code-button",
    press: "Give a code by phone",
    told: TOLD,
};

const CONTACT: Form = Form {
    heading: "Change contact details",
    about: "Unlock codes are sent to the email address. The user is told at the old address \
            and the new one.",
    reason: "contact-reason",
    hint: "contact-reason-hint",
    label: "Reason for changing the contact details",
    progress_id: "contact-progress",
    progress: "Saving the contact details…",
    button: "contact-button",
    press: "Save contact details",
    told: TOLD,
};

const ROLE: Form = Form {
    heading: "Change RA role",
    about: "RA agents and managers can use this console. Only RA managers can change roles.",
    reason: "role-reason",
    hint: "role-reason-hint",
    label: "Reason for changing the role",
    progress_id: "role-progress",
    progress: "Changing the role…",
    button: "role-button",
    press: "Change role",
    told: TOLD,
};

/// The actions for one user; the role form only for an RA manager.
pub(super) fn actions(
    desk: Desk,
    manager: bool,
    uuid: UserUuid,
    user: &UserSummary,
    (mobile, due_card): (Option<String>, Option<CardGuid>),
    (closed, passcodes_locked): (bool, bool),
) -> impl IntoView {
    let name = StoredValue::new(user.display_name.clone());
    let uuid = StoredValue::new(uuid);
    let reopen = closed.then(|| {
        action_form(
            desk,
            REOPEN,
            ().into_any(),
            |reason| Ok(ReasonRequest { reason }),
            move |request: &ReasonRequest| {
                let said = format!("Self-service reopened for {}.", name.get_value());
                post_done::<Reopen>(uuid.get_value(), request.clone(), said)
            },
        )
    });
    let passcodes_unlock = passcodes_locked.then(|| {
        action_form(
            desk,
            PASSCODES_UNLOCK,
            ().into_any(),
            |reason| Ok(ReasonRequest { reason }),
            move |request: &ReasonRequest| {
                let said = format!("Account unlocked for {}.", name.get_value());
                post_done::<UnlockPasscodes>(uuid.get_value(), request.clone(), said)
            },
        )
    });
    let stop = action_form(
        desk,
        STOP,
        ().into_any(),
        |reason| Ok(ReasonRequest { reason }),
        move |request: &ReasonRequest| {
            let said = format!("Self-service stopped for {}.", name.get_value());
            post_done::<StopSelfService>(uuid.get_value(), request.clone(), said)
        },
    );
    let revoke = action_form(
        desk,
        REVOKE,
        ().into_any(),
        |reason| Ok(ReasonRequest { reason }),
        move |request: &ReasonRequest| {
            let said = format!("Certificates revoked for {}.", name.get_value());
            post_done::<RevokeCertificates>(uuid.get_value(), request.clone(), said)
        },
    );
    // Taken while the page renders (the console provides it); the action runs later.
    let ra = use_context::<super::card::RaCard>();
    let renew = due_card.map(|card_guid| {
        action_form(
            desk,
            DESK_RENEWAL,
            ().into_any(),
            move |reason| Ok(DeskRenewalRequest { card_guid, reason }),
            move |request: &DeskRenewalRequest| {
                let (uuid, request) = (uuid.get_value(), request.clone());
                async move {
                    let opened = api::call::<RenewAtDesk>(&uuid, &request).await?;
                    let name = name.get_value();
                    if let Some(ra) = ra {
                        ra.desk.begin(opened, name.clone());
                    }
                    Ok(Did::said(format!("Renewal begun for {name}.")))
                }
            },
        )
    });
    let phone_code = action_form(
        desk,
        PHONE_CODE,
        ().into_any(),
        |reason| Ok(ReasonRequest { reason }),
        move |request: &ReasonRequest| {
            let (uuid, request) = (uuid.get_value(), request.clone());
            async move {
                let code = api::call::<IssuePhoneCode>(&uuid, &request).await?;
                Ok(Did {
                    said: format!(
                        "Code made for {} to unlock their smartcard.",
                        name.get_value()
                    ),
                    phone_code: Some(code),
                })
            }
        },
    );
    let email = RwSignal::new(user.email.clone());
    let mobile = RwSignal::new(mobile.unwrap_or_default());
    let contact = action_form(
        desk,
        CONTACT,
        contact_inputs(desk, email, mobile).into_any(),
        move |reason| {
            // RA-3: the same rules as the server's; it alone knows the approved domains.
            let contact = check_contact(
                CONTACT_FIELDS,
                &email.get_untracked(),
                &mobile.get_untracked(),
                None,
            )?;
            Ok(ContactRequest {
                email: contact.email,
                mobile: contact.mobile,
                reason,
            })
        },
        move |request: &ContactRequest| {
            let said = format!("Contact details changed for {}.", name.get_value());
            post_done::<ChangeUserContact>(uuid.get_value(), request.clone(), said)
        },
    );
    let role = manager.then(|| {
        let chosen = RwSignal::new(user.role);
        action_form(
            desk,
            ROLE,
            role_select(chosen).into_any(),
            move |reason| {
                Ok(RoleRequest {
                    role: chosen.get_untracked(),
                    reason,
                })
            },
            move |request: &RoleRequest| {
                let role = role_name(request.role);
                let said = format!("{} is now: {role}.", name.get_value());
                post_done::<ChangeRole>(uuid.get_value(), request.clone(), said)
            },
        )
    });
    view! { {renew} {passcodes_unlock} {reopen} {phone_code} {contact} {role} {stop} {revoke} }
}

/// One action's form: heading, what it does, its own inputs, the reason and the button.
fn action_form<I, Fu>(
    desk: Desk,
    form: Form,
    inputs: AnyView,
    prepare: impl Fn(Reason) -> Result<I, Problem> + Copy + 'static,
    run: impl Fn(&I) -> Fu + 'static,
) -> impl IntoView
where
    I: 'static,
    Fu: Future<Output = Result<Did, Problem>> + 'static,
{
    let text = RwSignal::new(String::new());
    let send = Submit::new(desk, form.progress, run);
    let field = form.reason;
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send.dispatch(|| prepare(reason(field, &text.get_untracked())?));
    };
    view! {
        <h2>{form.heading}</h2>
        <p>{form.about}</p>
        <form on:submit=submit novalidate>
            {inputs}
            <ReasonField desk=desk field=form.reason hint=form.hint label=form.label
                told=form.told text=text/>
            {send.status_line(form.progress_id)}
            <button type="submit" id=form.button class="nhsuk-button">{form.press}</button>
        </form>
    }
}

fn contact_inputs(desk: Desk, email: RwSignal<String>, mobile: RwSignal<String>) -> impl IntoView {
    view! {
        {Field::new(CONTACT_EMAIL_FIELD, "Email address")
            .kind("email")
            .width("")
            .view(desk.problem, email)}
        {Field::new(CONTACT_MOBILE_FIELD, "Mobile number (optional)")
            .kind("tel")
            .view(desk.problem, mobile)}
    }
}

fn role_select(chosen: RwSignal<Role>) -> impl IntoView {
    view! {
        <div class="nhsuk-form-group">
            <label class="nhsuk-label" for=ROLE_FIELD>"Role"</label>
            <select
                class="nhsuk-select"
                id=ROLE_FIELD
                name=ROLE_FIELD
                on:change=move |ev| {
                    if let Some(role) = Role::parse(&event_target_value(&ev)) {
                        chosen.set(role);
                    }
                }
            >
                {[Role::Staff, Role::Helpdesk, Role::RaAgent, Role::RaManager].into_iter().map(|role| view! {
                    <option value=role.as_str() selected=move || chosen.get_untracked() == role>
                        {role_name(role)}
                    </option>
                }).collect_view()}
            </select>
        </div>
    }
}
