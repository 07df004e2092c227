//! REG-5: the user changes their email and mobile on "My card", after entering the
//! passcode again on the card (the email is where unlock codes go). The email must be on
//! an approved domain (REG-3), the mobile a UK mobile; the OLD address is told, with a
//! "this wasn't me" link.

use std::ops::ControlFlow;

use api_types::audit::AuditAction;
use api_types::auth::{ChangeContactRequest, MyCard};
use api_types::contact::{EmailAddress, UkMobile};

use crate::flow::card_again::CardProvenAgain;
use crate::flow::contact::parse_contact;
use crate::flow::notice::NotMeDraw;
use crate::flow::{Client, Outcome, Subject, Write};
use crate::mail::templates::{self, Sender};
use crate::secrets::FlowSecret;
use crate::store::users::{self, User};
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::ContactChange;

impl AppState {
    pub async fn change_contact(
        &self,
        secret: Option<&FlowSecret>,
        request: ChangeContactRequest,
        client: &Client,
    ) -> Result<MyCard, AppError> {
        let signed = (&request.login_id, &request.signature);
        let (session, now, mut tx, proof) = self.card_step(ACTION, secret, client, signed).await?;
        let info = &session.info;
        let user = users::find_for_update(&mut tx, self.store.backend, &info.uuid).await?;
        let approved = &self.settings.approved_email_domains;
        let given = Given {
            subject: Subject::session(info),
            proof,
            user,
            contact: parse_contact(&request.email, request.mobile.as_deref(), approved),
            sender: &self.sender(),
            not_me: self.not_me_draw(),
        };
        self.finish(tx, now, client, decide(given, now)).await?;
        self.my_card(secret, client).await
    }
}

/// What the step read and was given.
struct Given<'a> {
    subject: Subject,
    proof: CardProvenAgain,
    user: Option<User>,
    /// The new email and mobile, checked and normalised, or why not.
    contact: Result<(EmailAddress, Option<UkMobile>), AppError>,
    sender: &'a Sender<'a>,
    not_me: NotMeDraw<'a>,
}

fn decide(given: Given<'_>, now: i64) -> Outcome<()> {
    let outcome = match given.proof.gate(Outcome::new(ACTION, given.subject)) {
        ControlFlow::Continue(outcome) => outcome,
        ControlFlow::Break(refused) => return refused,
    };
    let Some(user) = given.user else {
        return outcome.refuse(AppError::NotSignedIn);
    };
    // RA-6: while closed, where codes go stays where the RA found it.
    if user.counters.self_service_closed {
        return outcome.refuse(AppError::SelfServiceClosed);
    }
    let (email, mobile) = match given.contact {
        Ok(contact) => contact,
        Err(refused) => return outcome.refuse(refused),
    };
    let (link, url) = given.not_me.link(&user.uuid, "contact", now);
    // The old address hears of it: if this wasn't them, their link closes self-service.
    let notice = templates::contact_changed(given.sender, &user.email, &user.display_name, &url);
    outcome
        .write(Write::Contact {
            user_uuid: user.uuid,
            email,
            mobile,
        })
        .write(link)
        .write(Write::Mail(notice))
        .ok("changed", ())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::john_uuid;
    use api_types::CardGuid;

    const SENDER: Sender<'static> = Sender {
        organisation: "Org",
        ra_help: "Call the RA.",
    };

    fn change(
        proof: CardProvenAgain,
        contact: Result<(EmailAddress, Option<UkMobile>), AppError>,
    ) -> Outcome<()> {
        change_as(john_old(), proof, contact)
    }

    fn john_old() -> User {
        User {
            email: "old@nhs.net".into(),
            ..crate::fixtures::john()
        }
    }

    fn change_as(
        user: User,
        proof: CardProvenAgain,
        contact: Result<(EmailAddress, Option<UkMobile>), AppError>,
    ) -> Outcome<()> {
        let given = Given {
            subject: Subject::card_of(CardGuid::from_bytes([2; 16]), &john_uuid()),
            proof,
            user: Some(user),
            contact,
            sender: &SENDER,
            not_me: NotMeDraw::for_tests(),
        };
        decide(given, 1000)
    }

    fn proven() -> CardProvenAgain {
        CardProvenAgain::proven()
    }

    #[test]
    fn reg_5_a_change_tells_the_old_address_with_a_not_me_link() {
        let new = parse_contact("new@nhs.net", Some("07700 900123"), &["nhs.net".into()]);
        let outcome = change(proven(), new);
        assert!(outcome.reply.is_ok());
        let writes = outcome.writes();
        assert!(writes.iter().any(|w| matches!(w,
            Write::Contact { email, mobile: Some(m), .. } if email.as_str() == "new@nhs.net"
                && m.as_str() == "+447700900123")));
        assert!(writes.iter().any(|w| matches!(w,
            Write::Mail(m) if m.to == "old@nhs.net" && m.text.contains("/not-me#"))));
        assert!(writes.iter().any(|w| matches!(w, Write::NotMeLink(_))));
    }

    #[test]
    fn reg_5_a_bad_address_or_an_unproven_card_changes_nothing() {
        let outcome = change(proven(), Err(AppError::EmailNotApproved));
        assert!(matches!(outcome.reply, Err(AppError::EmailNotApproved)));
        // The challenge is spent all the same, and nothing else is written.
        assert!(matches!(outcome.writes(), [Write::UseLoginChallenge(_)]));
        let new = parse_contact("new@nhs.net", None, &["nhs.net".into()]);
        let outcome = change(CardProvenAgain::refused(AppError::CardNotGenuine), new);
        assert!(matches!(outcome.reply, Err(AppError::CardNotGenuine)));
        assert!(outcome.writes().is_empty());
    }

    #[test]
    fn ra_6_a_closed_account_keeps_its_contact_details() {
        let mut closed = john_old();
        closed.counters.self_service_closed = true;
        let new = parse_contact("new@nhs.net", None, &["nhs.net".into()]);
        let outcome = change_as(closed, proven(), new);
        assert!(matches!(outcome.reply, Err(AppError::SelfServiceClosed)));
        assert!(matches!(outcome.writes(), [Write::UseLoginChallenge(_)]));
    }
}
