//! "My card" (REG-5, AUTH-2): who is signed in, their registration and self-service
//! state, their card's certificate expiry, their own recent security events, and sign
//! out. Without a session the page says so and links to sign in. An RA (RA-1) also
//! gets a link to the RA console.
//!
//! The contact change (REG-5) goes through the registration's card check
//! ([`crate::card_check`]): the email and mobile are checked first, so a mistake there
//! asks nothing of the card; then the card in the reader must be the session's, its tries
//! are read first and the last try is spent only after the warning (BRG-6); then the card
//! signs a fresh challenge and the server changes the details. The page then loads its
//! record again in place and moves focus to the message saying so.

use api_types::auth::{
    ChangeContact, ChangeContactRequest, Logout, LogoutRequest, Me, MyCard as Mine, Session,
};
use api_types::passcode::CardPasscode;
use api_types::passcodes::PasscodesDue;
use api_types::policy::RenewalDue;
use api_types::time::{utc_date as date, utc_date_time};
use api_types::unlock::PublicConfig;
use api_types::{CardGuid, ErrorCode};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::events::{event_words, outcome_words};
use super::passcodes_due::PasscodesNotice;
use super::renewal_due::{renewals_used, RenewalNotice};
use super::timeline::{milestones, Timeline};
use crate::api;
use crate::bridge::{watch_card, Bridge, CardState};
use crate::card_check::{
    by_passcode, card_signs, gate_card, passcode_input, refresh_card, Gate, PasscodeField,
};
use crate::contact::{check_contact, Contact, ContactFields};
use crate::errors::{tries_left_text, Flow, Problem, ProblemSummary};
use crate::local_network::LocalNetworkHelp;
use crate::submit::{Screens, Submit};
use crate::widgets::{row, Field, SuccessBanner};

const CONTACT_FIELDS: ContactFields = ContactFields {
    email: "contact-email",
    mobile: "contact-mobile",
};
/// The passcode input's id.
const PASSCODE_FIELD: &str = "contact-passcode";

/// What is typed into the contact form.
#[derive(Debug, Clone, Copy)]
struct Typed<'a> {
    email: &'a str,
    mobile: &'a str,
    pin: &'a str,
}

/// What a press of "Save contact details" does (REG-5, BRG-6).
#[derive(Debug, Clone, PartialEq)]
enum Press {
    /// Nothing is sent: the problem is shown.
    Refuse(Problem),
    /// One try left, not yet confirmed: show the warning and wait for a second press.
    WarnLastTry,
    /// The card signs, then the server changes the details.
    Send {
        contact: Contact,
        passcode: CardPasscode,
        confirm_last_try: bool,
    },
}

/// REG-5 / BRG-6: the contact details first (each mistake by its input, and nothing asked
/// of the card), then the card gate: only the session's card, its tries read first, the
/// last one spent only once the warning was shown. `approved`: the approved email
/// domains, when the page has them (the server judges them otherwise).
fn press(
    typed: Typed<'_>,
    approved: Option<&[String]>,
    card: &CardState,
    session_card: CardGuid,
    warned: bool,
) -> Press {
    let contact = match check_contact(CONTACT_FIELDS, typed.email, typed.mobile, approved) {
        Ok(contact) => contact,
        Err(problem) => return Press::Refuse(problem),
    };
    match gate_card(PASSCODE_FIELD, typed.pin, card, Some(session_card), warned) {
        Gate::Refuse(problem) => Press::Refuse(problem),
        Gate::WarnLastTry => Press::WarnLastTry,
        Gate::Verify {
            passcode,
            confirm_last_try,
        } => Press::Send {
            contact,
            passcode,
            confirm_last_try,
        },
    }
}

/// A problem in My card's words, beside the input it is about.
fn in_my_card_words(problem: Problem) -> Problem {
    let problem = by_passcode(problem.in_flow(Flow::MyCard), PASSCODE_FIELD);
    if problem.is(ErrorCode::EmailNotApproved) && problem.field.is_none() {
        problem.on_field(CONTACT_FIELDS.email)
    } else {
        problem
    }
}

/// The contact change's state; all handles, so it is `Copy` into every closure.
#[derive(Clone, Copy)]
struct ContactChange {
    bridge: StoredValue<Bridge>,
    card: RwSignal<CardState>,
    problem: RwSignal<Option<Problem>>,
    /// BRG-6: one try left; the user must say to use it.
    last_try: RwSignal<bool>,
    /// The record's version, bumped to load it again.
    version: RwSignal<u32>,
    /// The version of the record that shows the change just saved.
    saved: RwSignal<Option<u32>>,
    /// REG-3: the domains the email may be on, from the public config.
    approved: StoredValue<Vec<String>>,
}

impl Screens for ContactChange {
    type Step = ();

    fn problem(&self) -> RwSignal<Option<Problem>> {
        self.problem
    }

    /// Saved: the record is loaded again in place, and says so.
    fn advance(&self, (): ()) {
        self.problem.set(None);
        self.last_try.set(false);
        self.version.update(|v| *v += 1);
        self.saved.set(Some(self.version.get_untracked()));
    }

    /// The tries left may have changed, and the bridge may want the last try confirmed.
    fn fail(&self, problem: Problem) {
        refresh_card(self.bridge.get_value(), self.card);
        self.last_try
            .set(problem.is(ErrorCode::LastTryNeedsConfirmation));
        self.saved.set(None);
        self.problem.set(Some(in_my_card_words(problem)));
    }
}

/// REG-5: new email and mobile, after the passcode again on the session's card.
fn contact_form(change: ContactChange, me: &Mine) -> impl IntoView {
    let email = RwSignal::new(me.email.clone());
    let mobile = RwSignal::new(me.mobile.clone().unwrap_or_default());
    let pin = RwSignal::new(String::new());
    // The card this session signed in with (the server's record of the session).
    let session_card = me.card_guid;
    let save = Submit::new(
        change,
        "Checking your passcode on your smartcard and saving…",
        move |(contact, passcode, confirm_last_try): &(Contact, CardPasscode, bool)| {
            let bridge = change.bridge.get_value();
            let (contact, passcode, confirm_last_try) =
                (contact.clone(), passcode.clone(), *confirm_last_try);
            async move {
                let (login_id, signature) =
                    card_signs(&bridge, &passcode, confirm_last_try, Some(session_card)).await?;
                let request = ChangeContactRequest {
                    login_id,
                    signature,
                    email: contact.email,
                    mobile: contact.mobile,
                };
                api::call::<ChangeContact>(&(), &request).await?;
                Ok(())
            }
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if save.pending_untracked() {
            return;
        }
        let (email, mobile, typed_pin) = (
            email.get_untracked(),
            mobile.get_untracked(),
            pin.get_untracked(),
        );
        let typed = Typed {
            email: &email,
            mobile: &mobile,
            pin: &typed_pin,
        };
        let card = change.card.get_untracked();
        let approved = change.approved.get_value();
        match press(
            typed,
            Some(approved.as_slice()),
            &card,
            session_card,
            change.last_try.get_untracked(),
        ) {
            Press::Refuse(problem) => {
                change.saved.set(None);
                change.problem.set(Some(in_my_card_words(problem)));
            }
            Press::WarnLastTry => {
                change.problem.set(None);
                change.last_try.set(true);
            }
            Press::Send {
                contact,
                passcode,
                confirm_last_try,
            } => {
                // The passcode lives only in the running step (dropped when it ends).
                pin.set(String::new());
                save.dispatch(|| Ok((contact, passcode, confirm_last_try)));
            }
        }
    };
    view! {
        <details class="nhsuk-details" id="contact-details">
            <summary class="nhsuk-details__summary">
                <span class="nhsuk-details__summary-text">"Change your contact details"</span>
            </summary>
            <div class="nhsuk-details__text">
                {move || change.problem.get().map(|p| view! { <ProblemSummary problem=p/> })}
                <form on:submit=submit novalidate>
                    {Field::new(CONTACT_FIELDS.email, "Email address")
                        .kind("email")
                        .autocomplete("email")
                        .width("")
                        .view(change.problem, email)}
                    {Field::new(CONTACT_FIELDS.mobile, "Mobile number (optional)")
                        .hint("contact-mobile-hint", "A UK mobile number, like 07700 900123.")
                        .kind("tel")
                        .autocomplete("tel")
                        .view(change.problem, mobile)}
                    <PasscodeField
                        field=passcode_input(
                            PASSCODE_FIELD,
                            "Smartcard passcode, to confirm it is you",
                            "contact-passcode-hint",
                        )
                        pin=pin
                        last_try=change.last_try
                        problem=change.problem
                    />
                    {save.status_line("contact-progress")}
                    <button type="submit" id="save-contact-button" class="nhsuk-button">
                        {move || if change.last_try.get() { "Use my last try" } else { "Save contact details" }}
                    </button>
                </form>
            </div>
        </details>
    }
}

/// The change is saved: said where focus moves to, as the RA console's banner does.
#[component]
fn ContactSaved() -> impl IntoView {
    let said = "Your contact details have been changed. We have emailed the address we had \
                before to say so.";
    view! {
        <SuccessBanner id="contact-saved" title_id="contact-saved-title" title="Saved"
            heading=said.to_owned()/>
    }
}

#[component]
pub fn MyCard(config: PublicConfig) -> impl IntoView {
    // Bumped after a change: the record loads again in place (no page reload).
    let version = RwSignal::new(0_u32);
    let current = LocalResource::new(move || {
        version.track();
        api::call::<Me>(&(), &())
    });
    // RA-1: the console link is for RA roles only (the server checks every RA call).
    let session = LocalResource::new(|| api::call::<Session>(&(), &()));
    let is_ra = move || session.map(|s| s.as_ref().is_ok_and(|s| s.role.is_ra())) == Some(true);
    let bridge = StoredValue::new(Bridge::new(&config.bridge_url));
    let approved = StoredValue::new(config.approved_email_domains.clone());
    let policy = config.policy;
    let expiry = config.passcode_expiry;
    // The card's state is the card's to say: tries left, live from the bridge.
    let card = RwSignal::new(CardState::Connecting);
    watch_card(&bridge.get_value(), card);
    let tries = move || match card.get() {
        CardState::Present(info) if info.pin_blocked => "Locked: unlock your smartcard".to_owned(),
        CardState::Present(info) => tries_left_text(u32::from(info.pin_tries_left)),
        _ => "Insert your smartcard to see".to_owned(),
    };
    // BRG-7: a public page may need the browser's leave to reach the card bridge.
    let local_network = move || {
        matches!(
            card.get(),
            CardState::AskLocalNetwork { .. } | CardState::LocalNetworkBlocked
        )
        .then(|| view! { <LocalNetworkHelp bridge=bridge.get_value() card=card/> })
    };
    let saved = RwSignal::new(None::<u32>);
    let sign_out =
        Action::new_local(|_: &()| async { api::call::<Logout>(&(), &LogoutRequest {}).await });
    Effect::new(move |_| {
        if let Some(Ok(_)) = sign_out.value().get() {
            let _ = window().location().assign("/login");
        }
    });
    view! {
        <Transition fallback=|| view! { <p aria-live="polite">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let record = current.await;
                let (renewal, passcodes) = session
                    .await
                    .map(|s| (s.renewal, s.passcodes))
                    .unwrap_or((RenewalDue::NotDue, PasscodesDue::NotDue));
                // CERT-2 / PASS-4: a forced renewal, then expired passcodes, before anything.
                if matches!(renewal, RenewalDue::Forced { .. }) {
                    let _ = window().location().replace("/renew");
                } else if matches!(passcodes, PasscodesDue::Expired { .. }) {
                    let _ = window().location().replace("/passcodes");
                }
                let shown = version.get_untracked();
                match record {
                    Ok(me) => {
                        let change = ContactChange {
                            bridge,
                            card,
                            problem: RwSignal::new(None),
                            last_try: RwSignal::new(false),
                            version,
                            saved,
                            approved,
                        };
                        let form = contact_form(change, &me);
                        let now = (js_sys::Date::now() / 1000.0) as i64;
                        let timeline = milestones(&me, (policy, expiry), now);
                        view! {
                        <h1 tabindex="-1">"My card"</h1>
                        <RenewalNotice due=renewal policy=policy/>
                        <PasscodesNotice due=passcodes/>
                        {move || (saved.get() == Some(shown)).then(|| view! { <ContactSaved/> })}
                        <dl class="nhsuk-summary-list">
                            {row("Name", "my-name", me.display_name)}
                            {row("UUID", "my-uuid", me.uuid.as_str().to_owned())}
                            {row("Organisation", "my-organisation", me.organisation)}
                            {row("Email", "my-email", me.email.clone())}
                            {row("Mobile", "my-mobile", me.mobile.clone().unwrap_or_else(|| "None".into()))}
                            {row("Smartcard", "my-card-guid", me.card_guid.to_hex())}
                            <div class="nhsuk-summary-list__row">
                                <dt class="nhsuk-summary-list__key">"Passcode tries"</dt>
                                <dd class="nhsuk-summary-list__value" id="my-tries" aria-live="polite">{tries}</dd>
                            </div>
                            {row("Certificate expires", "my-certificate-expiry",
                                me.certificate_expires_at.map(date).unwrap_or_else(|| "No current certificate".into()))}
                            {row("Renewals", "my-renewals",
                                renewals_used(me.renewals_in_a_row, me.renewals_allowed_in_a_row))}
                            {row("Self-service unlock", "my-registration",
                                match (me.registered, me.self_service_closed) {
                                    (_, true) => "Closed: contact your Registration Authority".into(),
                                    (true, false) => "Registered".into(),
                                    (false, false) => "Not registered".into(),
                                })}
                        </dl>
                        {local_network}
                        <p><a href="/renew" id="renew-link">"Renew your certificates"</a></p>
                        <p><a href="/passcodes" id="passcodes-link">"Manage Passcodes"</a></p>
                        <p><a href="/register" id="register-link">
                            {if me.registered { "Change your security questions" } else { "Register for self-service unlock" }}
                        </a></p>
                        {move || is_ra().then(|| view! {
                            <p><a href="/ra" id="ra-console-link">"RA console"</a></p>
                        })}
                        {form}
                        <Timeline milestones=timeline/>
                        <h2>"Recent security events"</h2>
                        <div class="app-table-scroll" role="region" aria-label="Recent security events" tabindex="0">
                            <table class="nhsuk-table" id="my-events">
                                <thead class="nhsuk-table__head"><tr>
                                    <th scope="col">"Date and time"</th><th scope="col">"What happened"</th><th scope="col">"Outcome"</th>
                                </tr></thead>
                                <tbody>
                                    {me.events.into_iter().map(|e| view! {
                                        <tr>
                                            <td>{utc_date_time(e.at)}" UTC"</td>
                                            <td>{event_words(e.action)}</td>
                                            <td>{outcome_words(&e.outcome)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        {move || sign_out.value().get().and_then(Result::err).map(|p| view! { <ProblemSummary problem=p/> })}
                        <button type="button" id="sign-out-button" class="nhsuk-button nhsuk-button--secondary"
                            on:click=move |_| { sign_out.dispatch_local(()); }>
                            "Sign out"
                        </button>
                    }.into_any()
                    }
                    Err(problem) => view! {
                        <h1 tabindex="-1">"You are not signed in"</h1>
                        <ProblemSummary problem=problem/>
                        <p><a href="/login">"Sign in with your smartcard"</a></p>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card_check::{card, MINE, OTHER};

    fn mine() -> CardGuid {
        CardGuid::parse(MINE).unwrap_or_else(|_| CardGuid::from_bytes([1; 16]))
    }

    fn typed<'a>(email: &'a str, mobile: &'a str, pin: &'a str) -> Typed<'a> {
        Typed { email, mobile, pin }
    }

    fn refused(press: Press) -> Option<Problem> {
        match press {
            Press::Refuse(problem) => Some(problem),
            _ => None,
        }
    }

    #[test]
    fn reg_5_a_bad_email_or_mobile_is_refused_by_its_input_before_the_card_is_asked() {
        let approved = ["nhs.net".to_owned()];
        // No passcode typed either: the contact details are judged first.
        let malformed = refused(press(
            typed("not an email", "", ""),
            None,
            &card(MINE, 3),
            mine(),
            false,
        ));
        assert!(malformed
            .is_some_and(|p| p.is(ErrorCode::BadRequest) && p.field == Some(CONTACT_FIELDS.email)));
        let off_domain = refused(press(
            typed("ravi@gmail.com", "", "1234"),
            Some(&approved),
            &card(MINE, 1),
            mine(),
            false,
        ));
        assert!(off_domain.is_some_and(
            |p| p.is(ErrorCode::EmailNotApproved) && p.field == Some(CONTACT_FIELDS.email)
        ));
        let mobile = refused(press(
            typed("ravi@nhs.net", "123", "1234"),
            None,
            &card(MINE, 3),
            mine(),
            false,
        ));
        assert!(mobile.is_some_and(|p| p.field == Some(CONTACT_FIELDS.mobile)));
        // Even with the wrong card in the reader, the typing is put right first.
        let first = refused(press(
            typed("", "", "1234"),
            None,
            &card(OTHER, 3),
            mine(),
            false,
        ));
        assert!(first.is_some_and(|p| p.field == Some(CONTACT_FIELDS.email)));
    }

    #[test]
    fn brg_6_reg_5_another_card_in_the_reader_is_refused_before_a_passcode_is_sent() {
        let other = refused(press(
            typed("ravi@nhs.net", "", "1234"),
            None,
            &card(OTHER, 3),
            mine(),
            false,
        ));
        let other = other.map(in_my_card_words);
        assert!(other
            .is_some_and(|p| p.is(ErrorCode::CardChanged) && p.message.contains("signed in with")));
    }

    #[test]
    fn brg_6_reg_5_the_last_try_is_spent_only_after_the_warning() {
        let details = typed("ravi@nhs.net", "07700 900123", "1234");
        assert_eq!(
            press(details, None, &card(MINE, 1), mine(), false),
            Press::WarnLastTry
        );
        let sent = press(details, None, &card(MINE, 1), mine(), true);
        assert!(matches!(
            sent,
            Press::Send { ref contact, confirm_last_try: true, .. }
                if contact.mobile.as_deref() == Some("+447700900123")
        ));
        let typo = refused(press(
            typed("ravi@nhs.net", "", "12"),
            None,
            &card(MINE, 3),
            mine(),
            false,
        ));
        assert!(typo.is_some_and(|p| p.field == Some(PASSCODE_FIELD)));
    }

    #[test]
    fn reg_5_the_servers_refusals_are_shown_by_their_inputs() {
        let email = in_my_card_words(Problem::from_code(ErrorCode::EmailNotApproved));
        assert_eq!(email.field, Some(CONTACT_FIELDS.email));
        let pin = in_my_card_words(Problem::from_code(ErrorCode::WrongPin));
        assert_eq!(pin.field, Some(PASSCODE_FIELD));
        let closed = in_my_card_words(Problem::from_code(ErrorCode::SelfServiceClosed));
        assert!(closed.message.contains("contact details") && closed.field.is_none());
    }

    #[test]
    fn reg_5_dates_read_as_people_write_them() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_900_000_000), "2030-03-17");
        assert_eq!(date(951_782_400), "2000-02-29");
    }
}
