//! Every email the service sends, in one place: a plain-text part and an HTML part in
//! the NHS.UK style (blue header band, Arial, #212b32 text). Pure: the flows decide to
//! send, these functions only write the words. Names and help text are escaped in HTML.

use api_types::UnlockCode;

use crate::flow::codes::CodeKind;

/// A message ready for the outbox.
#[derive(Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// When the code inside stops working: the message is dropped, unsent, after that
    /// (ALL-7). `None` for messages without a code.
    pub expires_at: Option<i64>,
}

/// The body may hold a code: never print it.
impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Who the mail is from and how to reach the RA (ALL-4).
pub struct Sender<'a> {
    pub organisation: &'a str,
    pub ra_help: &'a str,
}

/// The "this wasn't me" paragraph of a notice: its single-use link.
pub(super) fn not_me(sender: &Sender<'_>, link: &str) -> String {
    format!(
        "If this wasn't you, tell us at once with this link (it works once): {link} — \
         self-service will then be closed for your account until your Registration \
         Authority has looked into it: {}",
        sender.ra_help
    )
}

pub const UNLOCK_CODE_SUBJECT: &str = "Smartcard Unlock Code";
pub const UNLOCKED_SUBJECT: &str = "Your smartcard has been unlocked";

/// "15 minutes", from the emailed codes' lifetime (the same for unlock and registration).
fn code_validity() -> String {
    let minutes = CodeKind::Unlock.policy().ttl / 60;
    format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" })
}

/// UNL-5: the Smartcard Unlock Code email.
pub fn unlock_code(
    sender: &Sender<'_>,
    to: &str,
    name: &str,
    (code, expires_at): (&UnlockCode, i64),
    not_me_link: &str,
) -> Mail {
    let validity = code_validity();
    let paragraphs = [
        "We have received a request for a Smartcard Unlock Code. Please enter the code below \
         to unlock your Smartcard and set a new passcode."
            .to_owned(),
        format!("This code is valid for {validity}."),
        // RA-6: someone else asking for a code is the moment to stop them.
        not_me(sender, not_me_link),
    ];
    Mail {
        expires_at: Some(expires_at),
        ..compose(
            sender,
            to,
            UNLOCK_CODE_SUBJECT,
            name,
            &paragraphs,
            Some(code.expose()),
        )
    }
}

/// UNL-7: the notice that the card was unlocked.
pub fn unlocked(sender: &Sender<'_>, to: &str, name: &str, not_me_link: &str) -> Mail {
    let paragraphs = [
        "Your Smartcard has been unlocked using the self-service unlock, and a new passcode \
         was set on it."
            .to_owned(),
        not_me(sender, not_me_link),
    ];
    compose(sender, to, UNLOCKED_SUBJECT, name, &paragraphs, None)
}

pub const REGISTRATION_CODE_SUBJECT: &str = "Smartcard Self-Service registration code";
pub const REGISTERED_SUBJECT: &str = "You have registered for Smartcard Self-Service";

/// REG-4: the registration code, to the address being confirmed.
pub fn registration_code(
    sender: &Sender<'_>,
    to: &str,
    name: &str,
    code: &UnlockCode,
    expires_at: i64,
) -> Mail {
    let paragraphs = [
        "Please enter the code below to finish registering for Smartcard Self-Service, so \
         you can unlock your smartcard yourself."
            .to_owned(),
        format!("This code is valid for {}.", code_validity()),
        format!(
            "If you did not ask to register, please inform your organisation's Registration \
             Authority: {}",
            sender.ra_help
        ),
    ];
    Mail {
        expires_at: Some(expires_at),
        ..compose(
            sender,
            to,
            REGISTRATION_CODE_SUBJECT,
            name,
            &paragraphs,
            Some(code.expose()),
        )
    }
}

/// REG-4: the notice after a registration (or a change of answers).
pub fn registered(sender: &Sender<'_>, to: &str, name: &str, not_me_link: &str) -> Mail {
    let paragraphs = [
        "You have registered for Smartcard Self-Service: your security questions and email \
         address are set, and you can now unlock your smartcard yourself."
            .to_owned(),
        not_me(sender, not_me_link),
    ];
    compose(sender, to, REGISTERED_SUBJECT, name, &paragraphs, None)
}

pub const REGISTRATION_REPLACED_SUBJECT: &str =
    "Your Smartcard Self-Service security questions were replaced";

/// REG-4 / RA-4: to the address on record before a re-registration moved the unlock
/// codes elsewhere, so a stranger who re-registered cannot quietly take the route.
pub fn registration_replaced(sender: &Sender<'_>, to: &str, name: &str, not_me_link: &str) -> Mail {
    let paragraphs = [
        "Someone registered again for Smartcard Self-Service with your card: your security \
         questions were replaced, and unlock codes now go to a different email address."
            .to_owned(),
        not_me(sender, not_me_link),
    ];
    compose(
        sender,
        to,
        REGISTRATION_REPLACED_SUBJECT,
        name,
        &paragraphs,
        None,
    )
}

pub const CONTACT_CHANGED_SUBJECT: &str = "Your Smartcard Self-Service contact details changed";

/// REG-5: to the old address, when the email (or mobile) on record changes.
pub fn contact_changed(sender: &Sender<'_>, to: &str, name: &str, not_me_link: &str) -> Mail {
    let paragraphs = [
        "The email address or mobile number on your Smartcard Self-Service account has \
         been changed. Unlock codes now go to the new address."
            .to_owned(),
        not_me(sender, not_me_link),
    ];
    compose(sender, to, CONTACT_CHANGED_SUBJECT, name, &paragraphs, None)
}

pub const RA_CHANGED_SUBJECT: &str = "Your Registration Authority changed your smartcard account";

/// RA-3: what the RA did, told to the user (never with a code in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaNotice {
    Reopened,
    Stopped,
    PhoneCode,
    Contact,
    Role,
    ReportReviewed,
    Revoked,
    PasscodesUnlocked,
}

pub fn ra_changed(
    sender: &Sender<'_>,
    (to, name): (&str, &str),
    notice: RaNotice,
    not_me_link: &str,
) -> Mail {
    let what = match notice {
        RaNotice::Reopened => {
            "Your Registration Authority has reopened self-service unlock for your account: \
             you can unlock your smartcard yourself again."
        }
        RaNotice::Stopped => {
            "Your Registration Authority has stopped self-service for your account while they \
             look into it: any unlock or registration in progress was stopped and you were \
             signed out. Contact them to have it reopened."
        }
        RaNotice::PhoneCode => {
            "Your Registration Authority gave a one-time unlock code by phone for your \
             smartcard. It works once, for 10 minutes, and only with your own card."
        }
        RaNotice::Contact => {
            "Your Registration Authority changed the email address or mobile number on your \
             account. Unlock codes now go to the address on record."
        }
        RaNotice::Role => "Your Registration Authority changed your role in the RA console.",
        RaNotice::PasscodesUnlocked => {
            "Your Registration Authority has unlocked your account, which was locked because \
             your passcodes expired. Change them on Manage Passcodes when you next sign in."
        }
        RaNotice::Revoked => {
            "Your Registration Authority has revoked the certificates on your smartcard, as it \
             was reported lost or stolen: it can no longer be used to sign in or for \
             self-service, and you have been signed out everywhere. Contact them for a new \
             card."
        }
        RaNotice::ReportReviewed => {
            "Your Registration Authority has looked into the \"this wasn't me\" report made \
             for your account."
        }
    };
    let paragraphs = [what.to_owned(), not_me(sender, not_me_link)];
    compose(sender, to, RA_CHANGED_SUBJECT, name, &paragraphs, None)
}

/// Greeting, paragraphs (the code, if any, after the first), sign-off.
pub(super) fn compose(
    sender: &Sender<'_>,
    to: &str,
    subject: &str,
    name: &str,
    paragraphs: &[String],
    code: Option<&str>,
) -> Mail {
    const NO_REPLY: &str =
        "Please do not reply to this email as this email account is not monitored.";
    let mut text = format!("Hello {name}\n\n");
    let mut html = format!(
        "<!doctype html><html lang=\"en\"><body style=\"margin:0;background:#f0f4f5;\
         font-family:Arial,sans-serif;color:#212b32;font-size:16px;line-height:1.5\">\
         <div style=\"background:#005eb8;color:#ffffff;padding:16px 24px;font-size:20px;\
         font-weight:bold\">{org}</div>\
         <div style=\"background:#ffffff;padding:24px;max-width:600px\">\
         <p>Hello {name}</p>",
        org = escape(sender.organisation),
        name = escape(name),
    );
    for (index, paragraph) in paragraphs.iter().enumerate() {
        text.push_str(paragraph);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape(paragraph)));
        if let (0, Some(code)) = (index, code) {
            text.push_str(&format!("{code}\n\n"));
            html.push_str(&format!(
                "<p style=\"font-size:32px;font-weight:bold;letter-spacing:4px;\
                 border-left:8px solid #005eb8;padding-left:16px\">{}</p>",
                escape(code)
            ));
        }
    }
    text.push_str(&format!(
        "{NO_REPLY}\n\nRegards,\n{}\n",
        sender.organisation
    ));
    html.push_str(&format!(
        "<p>{NO_REPLY}</p><p>Regards,<br>{}</p></div></body></html>",
        escape(sender.organisation)
    ));
    Mail {
        to: to.to_owned(),
        subject: subject.to_owned(),
        text,
        html,
        expires_at: None,
    }
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SENDER: Sender<'static> = Sender {
        organisation: "Smartcard Service Centre",
        ra_help: "Call the RA on 0121 000 4050.",
    };

    #[test]
    fn unl_5_code_mail_says_15_minutes_and_how_to_reach_the_ra() {
        let code = UnlockCode::parse("012345").unwrap();
        let link = "https://selfservice.example.nhs.uk/not-me#cd34";
        let mail = unlock_code(&SENDER, "j@nhs.net", "Mr John Rigby", (&code, 900), link);
        assert_eq!(mail.expires_at, Some(900));
        assert_eq!(mail.subject, "Smartcard Unlock Code");
        for part in [&mail.text, &mail.html] {
            assert!(part.contains("valid for 15 minutes"), "{part}");
            assert!(part.contains("012345"));
            assert!(part.contains("0121 000 4050"));
            assert!(part.contains("Registration Authority"));
            // RA-6: a code nobody asked for is stopped from the mail itself.
            assert!(part.contains(link));
        }
        assert!(!format!("{mail:?}").contains("012345"));
    }

    #[test]
    fn unl_7_unlocked_notice_has_both_parts() {
        let link = "https://selfservice.example.nhs.uk/not-me#ab12";
        let mail = unlocked(&SENDER, "j@nhs.net", "Mr John Rigby", link);
        assert!(mail.text.starts_with("Hello Mr John Rigby"));
        assert!(mail.text.contains(link) && mail.html.contains(link));
        assert!(mail.html.contains("<p>Hello Mr John Rigby</p>"));
        assert!(mail.html.contains("#005eb8"));
    }

    #[test]
    fn all_2_mail_html_escapes_names_and_help() {
        let sender = Sender {
            organisation: "A & B",
            ra_help: "<script>x</script>",
        };
        let mail = unlocked(&sender, "j@nhs.net", "O'Brien <b>", "https://x/not-me#1");
        assert!(!mail.html.contains("<script>"));
        assert!(!mail.html.contains("<b>"));
        assert!(mail.html.contains("A &amp; B"));
        assert!(mail.text.contains("O'Brien <b>"));
    }
}
