//! REG-3 / REG-5: where a user's codes and notices go, for every flow that changes it
//! (registration, "My card", the RA console): the rules themselves are api-types'
//! ([`EmailAddress`], [`UkMobile`]), the same the page checks with.

use api_types::contact::{ContactError, EmailAddress, UkMobile};

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

#[cfg(test)]
mod tests {
    use super::*;

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
