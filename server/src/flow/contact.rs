//! REG-3 / REG-5: where a user's codes and notices go, for every flow that changes it
//! (registration, "My card", the RA console): the rules themselves are api-types'
//! ([`EmailAddress`], [`UkMobile`]), the same the page checks with.

use api_types::contact::{ContactError, EmailAddress, UkMobile};
use api_types::recovery::{Delivery, DeliveryOption};

use super::codes::mask_email;
use crate::store::users::User;
use crate::AppError;

impl From<ContactError> for AppError {
    fn from(error: ContactError) -> Self {
        match error {
            ContactError::EmailMalformed => AppError::EmailMalformed,
            ContactError::EmailNotApproved => AppError::EmailNotApproved,
            ContactError::MobileMalformed => AppError::MobileMalformed,
        }
    }
}

/// REG-5: an approved email and, unless left empty, a UK mobile.
pub(crate) fn parse_contact(
    email: &str,
    mobile: Option<&str>,
    approved: &[String],
) -> Result<(EmailAddress, Option<UkMobile>), AppError> {
    let email = EmailAddress::parse_approved(email, approved)?;
    Ok((email, UkMobile::parse_optional(mobile)?))
}

/// SCSC-2 / POL-3: where a one-time code may go for `user` — their email if it is on the
/// approved domains, their mobile if they keep one and texts can be sent (SMS-1) — each
/// with where it goes, masked.
pub(crate) fn delivery_options(
    user: &User,
    approved: &[String],
    texts: bool,
) -> Vec<DeliveryOption> {
    let email = EmailAddress::parse_approved(&user.email, approved)
        .ok()
        .map(|email| DeliveryOption {
            delivery: Delivery::Email,
            hint: mask_email(email.as_str()),
        });
    let mobile = user
        .mobile
        .as_deref()
        .filter(|_| texts)
        .and_then(|mobile| UkMobile::parse(mobile).ok())
        .map(|mobile| DeliveryOption {
            delivery: Delivery::Sms,
            hint: mask_mobile(&mobile),
        });
    email.into_iter().chain(mobile).collect()
}

impl crate::AppState {
    /// [`delivery_options`] under this service's approved domains and texts.
    pub(crate) fn delivery_options_of(&self, user: &User) -> Vec<DeliveryOption> {
        let settings = &self.settings;
        delivery_options(
            user,
            &settings.approved_email_domains,
            settings.texts_enabled(),
        )
    }
}

/// `07*** ***123` for `+447700900123`.
pub(crate) fn mask_mobile(mobile: &UkMobile) -> String {
    let digits = mobile.as_str();
    let last = digits.get(digits.len().saturating_sub(3)..).unwrap_or("");
    format!("07*** ***{last}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scsc_2_codes_go_to_an_approved_email_and_a_mobile_when_texts_can_be_sent() {
        let approved = ["nhs.net".to_owned()];
        let user = User {
            mobile: Some("+447700900123".into()),
            ..crate::fixtures::john()
        };
        let both = delivery_options(&user, &approved, true);
        assert_eq!(
            both.iter()
                .map(|o| (o.delivery, o.hint.as_str()))
                .collect::<Vec<_>>(),
            [
                (Delivery::Email, "j***@nhs.net"),
                (Delivery::Sms, "07*** ***123")
            ]
        );
        assert_eq!(delivery_options(&user, &approved, false).len(), 1);
        let elsewhere = User {
            email: "john@gmail.com".into(),
            mobile: None,
            ..crate::fixtures::john()
        };
        assert!(delivery_options(&elsewhere, &approved, true).is_empty());
    }

    #[test]
    fn reg_5_the_email_is_judged_before_the_mobile_and_each_refusal_keeps_its_code() {
        let approved = ["nhs.net".to_owned()];
        let both_bad = parse_contact("j@gmail.com", Some("123"), &approved);
        assert!(matches!(both_bad, Err(AppError::EmailNotApproved)));
        let mobile_bad = parse_contact("j@nhs.net", Some("123"), &approved);
        assert!(matches!(mobile_bad, Err(AppError::MobileMalformed)));
        let fine = parse_contact("j@NHS.net", Some(""), &approved).ok();
        assert_eq!(
            fine.map(|(e, m)| (e.into_string(), m)),
            Some(("j@nhs.net".into(), None))
        );
    }
}
