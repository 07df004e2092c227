//! The words of Manage Passcodes' mail (PASS-2): which passcodes an Update changed, told
//! to the user with a "this wasn't me" link. Never a passcode itself.

use super::templates::{compose, not_me, Mail, Sender};

pub const CHANGED_SUBJECT: &str = "Your smartcard passcodes have been changed";

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
