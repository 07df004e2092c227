//! REG-3 / REG-5: where a user's codes and notices go — an email address on an approved
//! domain and, if they keep one, a UK mobile — checked and normalised the same way by
//! registration, "My card" and the RA console.

use api_types::register::MAX_EMAIL_LEN;

use crate::AppError;

/// The address, trimmed and with its domain lowercased, if it is one plain address on an
/// approved domain (or a subdomain of one).
pub(crate) fn check_email(email: &str, approved: &[String]) -> Result<String, AppError> {
    let email = email.trim();
    let Some((local, domain)) = email.split_once('@') else {
        return Err(AppError::EmailMalformed);
    };
    let domain = domain.to_ascii_lowercase();
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._+-'".contains(c))
    };
    let labels_ok = domain.split('.').count() >= 2
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if email.len() > MAX_EMAIL_LEN || !plain(local) || !labels_ok {
        return Err(AppError::EmailMalformed);
    }
    let on_approved = approved
        .iter()
        .any(|a| domain == *a || domain.ends_with(&format!(".{a}")));
    if !on_approved {
        return Err(AppError::EmailNotApproved);
    }
    Ok(format!("{local}@{domain}"))
}

/// REG-5: an approved email and, unless left empty, a UK mobile, both normalised.
pub(crate) fn check_contact(
    email: &str,
    mobile: Option<&str>,
    approved: &[String],
) -> Result<(String, Option<String>), AppError> {
    let email = check_email(email, approved)?;
    let mobile = match mobile.map(str::trim) {
        None | Some("") => None,
        Some(typed) => Some(check_mobile(typed)?),
    };
    Ok((email, mobile))
}

/// A UK mobile number (`07…`, `+447…` or `447…`, spaces allowed) in E.164 form.
pub(crate) fn check_mobile(mobile: &str) -> Result<String, AppError> {
    let digits: String = mobile.chars().filter(|c| !c.is_whitespace()).collect();
    let national = digits
        .strip_prefix("+44")
        .or_else(|| digits.strip_prefix("44"))
        .map(|rest| format!("0{rest}"))
        .unwrap_or(digits);
    let valid = national.len() == 11
        && national.starts_with("07")
        && national.chars().all(|c| c.is_ascii_digit());
    if valid {
        Ok(format!("+44{}", &national[1..]))
    } else {
        Err(AppError::MobileMalformed)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn approved() -> Vec<String> {
        ["nhs.net", "nhs.uk"].map(String::from).to_vec()
    }

    #[test]
    fn reg_3_only_addresses_on_approved_domains() {
        assert_eq!(
            check_email(" John.Rigby@NHS.net ", &approved()).unwrap(),
            "John.Rigby@nhs.net"
        );
        assert!(check_email("j@trust.nhs.uk", &approved()).is_ok());
        for refused in ["j@evilnhs.net", "j@nhs.net.evil.com", "j@gmail.com"] {
            assert!(matches!(
                check_email(refused, &approved()),
                Err(AppError::EmailNotApproved)
            ));
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
        ] {
            assert!(
                check_email(malformed, &approved()).is_err(),
                "{malformed:?}"
            );
        }
    }

    #[test]
    fn reg_5_uk_mobiles_in_any_usual_form() {
        for typed in ["07700 900123", "+44 7700 900123", "447700900123"] {
            assert_eq!(check_mobile(typed).unwrap(), "+447700900123", "{typed}");
        }
        for refused in [
            "",
            "0121 496 0000",
            "07700 90012",
            "+1 202 555 0100",
            "07700-900123x",
        ] {
            assert!(check_mobile(refused).is_err(), "{refused:?}");
        }
    }

    proptest! {
        // ALL-2: any text is judged, never a panic; what passes is on an approved domain.
        #[test]
        fn all_2_any_email_text_is_judged(text in ".{0,300}") {
            if let Ok(email) = check_email(&text, &approved()) {
                prop_assert!(email.ends_with("nhs.net") || email.ends_with("nhs.uk"));
                prop_assert!(!email.contains('\n'));
            }
        }
    }
}
