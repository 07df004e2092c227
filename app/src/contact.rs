//! Contact details (REG-5 on "My card", RA-3 in the console): an email address and, if
//! the user keeps one, a UK mobile number, checked here by api-types' own rules
//! ([`EmailAddress`], [`UkMobile`]) before anything is sent — the server checks again
//! with the same ones. Each problem is put beside its input, with the code the server
//! would answer: `bad_request` for a malformed value, `email_not_approved` for an address
//! off the approved domains.

use api_types::contact::{ContactError, EmailAddress, UkMobile};
use api_types::ErrorCode;

use crate::errors::{FieldError, Problem};

/// The ids of a form's email and mobile inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ContactFields {
    pub(crate) email: &'static str,
    pub(crate) mobile: &'static str,
}

/// The contact details as the server takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Contact {
    pub(crate) email: String,
    /// `None`: no mobile number.
    pub(crate) mobile: Option<String>,
}

/// REG-3 / REG-5: the typed email and mobile, or one problem listing each input that needs
/// changing. `approved`: the approved email domains, when the page has them; without
/// them only the address's form is checked here, and the server judges its domain.
pub(crate) fn check_contact(
    fields: ContactFields,
    email: &str,
    mobile: &str,
    approved: Option<&[String]>,
) -> Result<Contact, Problem> {
    let email = match approved {
        Some(approved) => EmailAddress::parse_approved(email, approved),
        None => EmailAddress::parse(email),
    }
    .map_err(|refused| email_problem(fields.email, email, refused, approved));
    let mobile = UkMobile::parse_optional(Some(mobile)).map_err(|_| FieldError {
        field: fields.mobile,
        message: "Enter a UK mobile number, like 07700 900123, or leave it empty.".to_owned(),
    });
    match (email, mobile) {
        (Ok(email), Ok(mobile)) => Ok(Contact {
            email: email.into_string(),
            mobile: mobile.map(UkMobile::into_string),
        }),
        (email, mobile) => {
            let code = match &email {
                Err((refused, _)) => ErrorCode::from(*refused),
                Ok(_) => ErrorCode::BadRequest,
            };
            let errors = email.err().map(|(_, e)| e).into_iter();
            Err(Problem::from_code(code).on_fields(errors.chain(mobile.err()).collect()))
        }
    }
}

/// Why the typed address was refused, in words for its input.
fn email_problem(
    field: &'static str,
    typed: &str,
    refused: ContactError,
    approved: Option<&[String]>,
) -> (ContactError, FieldError) {
    let approved = approved.unwrap_or_default();
    let message = match refused {
        _ if typed.trim().is_empty() => "Enter an email address.".to_owned(),
        ContactError::EmailNotApproved => {
            format!("Enter an email address at one of: {}.", approved.join(", "))
        }
        ContactError::EmailMalformed | ContactError::MobileMalformed => {
            let example = approved.first().map_or("nhs.net", String::as_str);
            format!("Enter an email address in the correct format, like name@{example}.")
        }
    };
    (refused, FieldError { field, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: ContactFields = ContactFields {
        email: "contact-email",
        mobile: "contact-mobile",
    };

    fn approved() -> Vec<String> {
        ["nhs.net", "nhs.uk"].map(String::from).to_vec()
    }

    fn fields(problem: &Problem) -> Vec<&'static str> {
        problem.field_errors().iter().map(|e| e.field).collect()
    }

    #[test]
    fn reg_5_contact_details_are_sent_as_the_server_keeps_them() {
        let sent = check_contact(FIELDS, " ravi@NHS.net ", "07700 900123", Some(&approved()));
        assert_eq!(
            sent,
            Ok(Contact {
                email: "ravi@nhs.net".into(),
                mobile: Some("+447700900123".into()),
            })
        );
        let no_mobile = check_contact(FIELDS, "ravi@nhs.net", "  ", None);
        assert!(no_mobile.is_ok_and(|c| c.mobile.is_none()));
    }

    #[test]
    fn reg_5_each_bad_value_is_refused_by_its_input_with_the_servers_code() {
        let off_domain = check_contact(FIELDS, "r@gmail.com", "", Some(&approved())).err();
        assert!(off_domain
            .as_ref()
            .is_some_and(|p| p.is(ErrorCode::EmailNotApproved)
                && fields(p) == ["contact-email"]
                && p.message.contains("nhs.net, nhs.uk")));
        for malformed in ["", "r", "r@@nhs.net", "a b@nhs.net"] {
            let refused = check_contact(FIELDS, malformed, "", None).err();
            assert!(
                refused.is_some_and(|p| p.is(ErrorCode::BadRequest) && fields(&p) == ["contact-email"]),
                "{malformed:?}"
            );
        }
        let both = check_contact(FIELDS, "r", "0121 496 0000", None).err();
        assert!(both.is_some_and(|p| fields(&p) == ["contact-email", "contact-mobile"]));
        let mobile = check_contact(FIELDS, "r@nhs.net", "12345", None).err();
        assert!(
            mobile.is_some_and(|p| p.is(ErrorCode::BadRequest) && fields(&p) == ["contact-mobile"])
        );
    }
}
