//! The words of Manage Passcodes' mail (PASS-2, PASS-4): which passcodes an Update
//! changed, told to the user with a "this wasn't me" link, and the daily reminder before
//! they expire. Never a passcode itself.

use api_types::time::utc_date;

use super::templates::{compose, not_me, Mail, Sender};

pub const CHANGED_SUBJECT: &str = "Your smartcard passcodes have been changed";
pub const REMINDER_SUBJECT: &str = "Your smartcard passcodes expire soon: please change them";

/// PASS-4 / JOB-2: the daily reminder for passcodes expiring at `expires_at`, locking at
/// `locks_at` if still unchanged.
pub fn reminder(
    sender: &Sender<'_>,
    (to, name): (&str, &str),
    (expires_at, locks_at): (i64, i64),
    link: &str,
) -> Mail {
    let paragraphs = [
        format!(
            "The passcodes on your Smartcard Self-Service account expire on {}. From then, \
             signing in takes you to Manage Passcodes before anything else; if they are still \
             unchanged on {}, your account is locked and only your Registration Authority can \
             unlock it.",
            utc_date(expires_at),
            utc_date(locks_at)
        ),
        format!("Change them now, with your smartcard in the reader: {link}"),
        format!(
            "If you did not expect this email, please tell your Registration Authority: {}",
            sender.ra_help
        ),
    ];
    compose(sender, to, REMINDER_SUBJECT, name, &paragraphs, None)
}

/// `changed`: the passcodes' names as the page gives them, in the order changed.
pub fn changed(
    sender: &Sender<'_>,
    (to, name): (&str, &str),
    changed: &[&str],
    not_me_link: &str,
) -> Mail {
    let paragraphs = [
        format!(
            "These passcodes on your Smartcard Self-Service account were just changed: {}.",
            changed.join(", ")
        ),
        not_me(sender, not_me_link),
    ];
    compose(sender, to, CHANGED_SUBJECT, name, &paragraphs, None)
}
