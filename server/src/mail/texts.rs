//! SMS-1: every text message the service sends. A text is a Notify template's id (from
//! the settings) and its personalisation: the words live in the template on Notify (the
//! README gives them, and the stand-in's `deploy/notify/templates.toml` holds them), so
//! here is only what fills its placeholders. Queued in the outbox like mail.

use std::collections::BTreeMap;

use api_types::contact::UkMobile;

/// A text ready for the outbox.
#[derive(Clone, PartialEq, Eq)]
pub struct Text {
    /// E.164, `+447…`.
    pub to: String,
    pub personalisation: BTreeMap<&'static str, String>,
    /// When the code inside stops working: dropped, unsent, after that (ALL-7).
    pub expires_at: Option<i64>,
}

/// The personalisation holds a code: never print it.
impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Text")
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

/// SCSC-2 / POL-3: the one-time passcode text — the code, how many minutes it lasts, and
/// the "this wasn't me" link (RA-6) for whoever did not ask for it.
pub fn one_time_passcode(
    to: &UkMobile,
    code: &str,
    (now, expires_at): (i64, i64),
    not_me_link: &str,
) -> Text {
    let minutes = (expires_at - now + 59) / 60;
    let personalisation = BTreeMap::from([
        ("code", code.to_owned()),
        ("minutes", minutes.to_string()),
        ("not_me_url", not_me_link.to_owned()),
    ]);
    Text {
        to: to.as_str().to_owned(),
        personalisation,
        expires_at: Some(expires_at),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sms_1_the_text_carries_the_code_only_as_personalisation_and_never_prints_it() {
        let mobile = UkMobile::parse("07700 900123").unwrap();
        let text = one_time_passcode(&mobile, "ABCDEFGH2345", (1000, 1600), "https://x/not-me#t");
        assert_eq!(text.to, "+447700900123");
        assert_eq!(text.personalisation["code"], "ABCDEFGH2345");
        assert_eq!(text.personalisation["minutes"], "10");
        assert_eq!(text.expires_at, Some(1600));
        assert!(!format!("{text:?}").contains("ABCD"));
        // POL-3: the minutes left of a code that runs to the attempt's 15, rounded up.
        let late = one_time_passcode(&mobile, "024680", (1000, 1000 + 301), "l");
        assert_eq!(late.personalisation["minutes"], "6");
    }
}
