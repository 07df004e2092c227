//! REG-3 / REG-5: where a user's codes and notices go — an email address on an approved
//! domain and, if they keep one, a UK mobile number — parsed once, here, by the page and
//! the server alike, so both sides take and refuse the same addresses.

use crate::error::ErrorCode;
use crate::register::MAX_EMAIL_LEN;

/// Why an address or number was refused. On the wire a malformed value is a
/// `bad_request` (the page checks the shape before sending); an address off the approved
/// domains is `email_not_approved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactError {
    EmailMalformed,
    EmailNotApproved,
    MobileMalformed,
}

impl From<ContactError> for ErrorCode {
    fn from(error: ContactError) -> Self {
        match error {
            ContactError::EmailMalformed | ContactError::MobileMalformed => ErrorCode::BadRequest,
            ContactError::EmailNotApproved => ErrorCode::EmailNotApproved,
        }
    }
}

/// One plain email address: trimmed, its domain lowercased (the local part is kept as
/// typed: mail systems may treat it case-sensitively). No display names, comments,
/// quoting or line breaks, so it can never smuggle a header into a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(typed: &str) -> Result<Self, ContactError> {
        let email = typed.trim();
        let Some((local, domain)) = email.split_once('@') else {
            return Err(ContactError::EmailMalformed);
        };
        let plain_local = !local.is_empty()
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._+-'".contains(c));
        let labels_ok = domain.split('.').count() >= 2
            && domain.split('.').all(|label| {
                !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if email.len() > MAX_EMAIL_LEN || !plain_local || !labels_ok {
            return Err(ContactError::EmailMalformed);
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    /// REG-3, the one approved-domain rule: the domain is one of `approved`, or a
    /// subdomain of one (`trust.nhs.uk` under `nhs.uk`; never `evilnhs.net`).
    pub fn parse_approved(typed: &str, approved: &[String]) -> Result<Self, ContactError> {
        let email = Self::parse(typed)?;
        let domain = email.domain();
        let on_approved = approved.iter().any(|approved| {
            let approved = approved.trim().to_ascii_lowercase();
            domain == approved
                || domain
                    .strip_suffix(approved.as_str())
                    .is_some_and(|sub| sub.ends_with('.'))
        });
        if on_approved {
            Ok(email)
        } else {
            Err(ContactError::EmailNotApproved)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

/// A UK mobile number in E.164 form (`+447…`), from `07…`, `+447…` or `447…` with any
/// spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UkMobile(String);

impl UkMobile {
    pub fn parse(typed: &str) -> Result<Self, ContactError> {
        let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
        let national = digits
            .strip_prefix("+44")
            .or_else(|| digits.strip_prefix("44"))
            .map(|rest| format!("0{rest}"))
            .unwrap_or(digits);
        let valid = national.len() == 11
            && national.starts_with("07")
            && national.chars().all(|c| c.is_ascii_digit());
        if valid {
            Ok(Self(format!("+44{}", &national[1..])))
        } else {
            Err(ContactError::MobileMalformed)
        }
    }

    /// REG-5: a mobile number is optional; left empty, there is none.
    pub fn parse_optional(typed: Option<&str>) -> Result<Option<Self>, ContactError> {
        match typed.map(str::trim) {
            None | Some("") => Ok(None),
            Some(typed) => Self::parse(typed).map(Some),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn approved() -> Vec<String> {
        ["nhs.net", "NHS.uk"].map(String::from).to_vec()
    }

    #[test]
    fn reg_3_only_addresses_on_approved_domains() {
        let email = EmailAddress::parse_approved(" John.Rigby@NHS.net ", &approved()).unwrap();
        assert_eq!(email.as_str(), "John.Rigby@nhs.net");
        assert!(EmailAddress::parse_approved("j@trust.nhs.uk", &approved()).is_ok());
        for refused in ["j@evilnhs.net", "j@nhs.net.evil.com", "j@gmail.com"] {
            assert_eq!(
                EmailAddress::parse_approved(refused, &approved()),
                Err(ContactError::EmailNotApproved),
                "{refused}"
            );
        }
        for malformed in [
            "",
            "j",
            "@nhs.net",
            "j@",
            "a b@nhs.net",
            "j@@nhs.net",
            "j@nhs..net",
            "j@nhs.net\r\nBcc: x@y",
            "\"j\"@nhs.net",
        ] {
            assert_eq!(
                EmailAddress::parse_approved(malformed, &approved()),
                Err(ContactError::EmailMalformed),
                "{malformed:?}"
            );
        }
        let long = format!("{}@nhs.net", "a".repeat(MAX_EMAIL_LEN));
        assert_eq!(
            EmailAddress::parse(&long),
            Err(ContactError::EmailMalformed)
        );
    }

    #[test]
    fn reg_5_uk_mobiles_in_any_usual_form() {
        for typed in ["07700 900123", "+44 7700 900123", "447700900123"] {
            assert_eq!(UkMobile::parse(typed).unwrap().as_str(), "+447700900123");
        }
        for refused in [
            "",
            "0121 496 0000",
            "07700 90012",
            "+1 202 555 0100",
            "07700-900123x",
        ] {
            assert_eq!(
                UkMobile::parse(refused),
                Err(ContactError::MobileMalformed),
                "{refused:?}"
            );
        }
        assert_eq!(UkMobile::parse_optional(Some("  ")), Ok(None));
        assert_eq!(UkMobile::parse_optional(None), Ok(None));
        assert!(UkMobile::parse_optional(Some("nonsense")).is_err());
    }

    proptest! {
        // ALL-2: any text is judged, never a panic; what passes is one plain address on an
        // approved domain, and parsing it again gives it back unchanged.
        #[test]
        fn all_2_any_email_text_is_judged(text in ".{0,300}") {
            if let Ok(email) = EmailAddress::parse_approved(&text, &approved()) {
                prop_assert!(email.domain().ends_with("nhs.net") || email.domain().ends_with("nhs.uk"));
                prop_assert!(!email.as_str().contains(['\n', '\r', ' ', '<', '"']));
                prop_assert_eq!(EmailAddress::parse(email.as_str()), Ok(email.clone()));
            }
        }

        #[test]
        fn all_2_any_mobile_text_is_judged(text in "[0-9+ ]{0,20}|\\PC{0,20}") {
            if let Ok(mobile) = UkMobile::parse(&text) {
                prop_assert!(mobile.as_str().starts_with("+447"));
                prop_assert_eq!(mobile.as_str().len(), 13);
            }
        }
    }
}
