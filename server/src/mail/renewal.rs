//! The words of the certificate renewal's mail (CERT-2, JOB-2): the daily reminder,
//! with the date the certificate ends, what happens before then, and a link straight to
//! renewal.

use api_types::policy::Policy;
use api_types::time::utc_date;

use super::templates::{compose, not_me, Mail, Sender};

pub const REMINDER_SUBJECT: &str = "Your smartcard's certificates end soon: please renew them";
pub const RENEWED_SUBJECT: &str = "Your smartcard's certificates have been renewed";

const DAY: i64 = 24 * 60 * 60;

/// JOB-2: the reminder for a login certificate ending at `not_after`.
pub fn reminder(
    sender: &Sender<'_>,
    (to, name): (&str, &str),
    (policy, not_after, now): (Policy, i64, i64),
    renew_link: &str,
) -> Mail {
    let ends = utc_date(not_after);
    let next = match policy.renewal_forced_days() {
        Some(days) if not_after - now > days * DAY => format!(
            "From {} you will be asked to renew them before anything else when you sign in.",
            utc_date(not_after - days * DAY)
        ),
        Some(_) => {
            "You will be asked to renew them before anything else when you next sign in.".to_owned()
        }
        None => "You can renew them whenever you sign in until then.".to_owned(),
    };
    let paragraphs = [
        format!(
            "The certificates on your smartcard end on {ends}. After that you cannot sign \
             in with your card until your Registration Authority renews them in person."
        ),
        next,
        format!(
            "Renew them yourself now, with your card in the reader and your passcode (it \
             takes about a minute): {renew_link}"
        ),
        format!(
            "If you did not expect this email, please tell your Registration Authority: {}",
            sender.ra_help
        ),
    ];
    compose(sender, to, REMINDER_SUBJECT, name, &paragraphs, None)
}

/// CERT-3: the notice that the card's certificates were renewed, with the "this wasn't
/// me" link every notice carries.
pub fn renewed(
    sender: &Sender<'_>,
    (to, name): (&str, &str),
    not_after: i64,
    not_me_link: &str,
) -> Mail {
    let paragraphs = [
        format!(
            "The certificates on your smartcard were renewed: the card made new keys, and its \
             new certificates are valid until {}. The old ones no longer work.",
            utc_date(not_after)
        ),
        not_me(sender, not_me_link),
    ];
    compose(sender, to, RENEWED_SUBJECT, name, &paragraphs, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENDER: Sender<'static> = Sender {
        organisation: "Smartcard Service Centre",
        ra_help: "Call the RA on 0121 000 4050.",
    };
    const NOW: i64 = 1_795_392_000; // 2026-11-23
    const LINK: &str = "https://selfservice.example.nhs.uk/renew";

    #[test]
    fn job_2_reminder_says_the_date_what_comes_next_and_links_to_renewal() {
        let to = ("j@nhs.net", "Mr John Rigby");
        let mail = reminder(&SENDER, to, (Policy::Seed2006, NOW + 25 * DAY, NOW), LINK);
        for part in [&mail.text, &mail.html] {
            assert!(part.contains("end on 2026-12-18"), "{part}");
            assert!(
                part.contains("From 2026-11-28 you will be asked to renew"),
                "{part}"
            );
            assert!(part.contains(LINK));
            assert!(part.contains("0121 000 4050"));
        }
        let forced = reminder(&SENDER, to, (Policy::Seed2006, NOW + 15 * DAY, NOW), LINK);
        assert!(
            forced.text.contains("when you next sign in"),
            "{}",
            forced.text
        );
        let nhs = reminder(&SENDER, to, (Policy::Nhs2023, NOW + 15 * DAY, NOW), LINK);
        assert!(nhs.text.contains("whenever you sign in"), "{}", nhs.text);
        assert!(!nhs.text.contains("before anything else"));
        assert_eq!(mail.expires_at, None);
    }
}
