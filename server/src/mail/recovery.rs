//! The words of the one-time-passcode unlocks' mail (SCSC-2, POL-3): what the code is
//! for, how long it lasts, and — for whoever did not ask for it — the "this wasn't me"
//! link (RA-6). Their text message says the same through its Notify template
//! ([`super::texts`]).

use super::templates::{compose, not_me, Mail, Sender};

pub const ONE_TIME_PASSCODE_SUBJECT: &str = "Your Smartcard One Time Passcode";

/// SCSC-2 / POL-3: the One Time Passcode (or, under `nhs-2023`, the unlock code) by email,
/// valid until `expires_at`, `minutes` from now.
pub fn one_time_passcode(
    sender: &Sender<'_>,
    (to, name): (&str, &str),
    (code, minutes, expires_at): (&str, i64, i64),
    not_me_link: &str,
) -> Mail {
    let paragraphs = [
        "We have received a request to unlock your Smartcard. Enter the One Time Passcode \
         below to unlock it and set a new Smartcard Passcode."
            .to_owned(),
        format!(
            "You must do this within {minutes} minute{} of requesting the Passcode.",
            if minutes == 1 { "" } else { "s" }
        ),
        not_me(sender, not_me_link),
    ];
    Mail {
        expires_at: Some(expires_at),
        ..compose(
            sender,
            to,
            ONE_TIME_PASSCODE_SUBJECT,
            name,
            &paragraphs,
            Some(code),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scsc_2_the_email_says_what_the_code_is_for_how_long_and_who_to_tell() {
        let sender = Sender {
            organisation: "Smartcard Service Centre",
            ra_help: "Call the RA on 0121 000 4050.",
        };
        let mail = one_time_passcode(
            &sender,
            ("john.rigby@nhs.net", "Mr John Rigby"),
            ("ABCDEFGH2345", 10, 1600),
            "https://ss.example/not-me#t",
        );
        assert_eq!(mail.subject, ONE_TIME_PASSCODE_SUBJECT);
        assert_eq!(mail.expires_at, Some(1600));
        for said in [
            "ABCDEFGH2345",
            "unlock",
            "within 10 minutes",
            "https://ss.example/not-me#t",
            "0121 000 4050",
        ] {
            assert!(mail.text.contains(said), "{said}");
        }
    }
}
