//! UK mobile numbers as Notify takes them for a service that may not text abroad or
//! landlines: `07…`, `7…`, `+447…`, `447…` or `00447…`, with spaces, dashes and brackets
//! ignored (a `(0)` after the country code too); normalised to E.164. Notify's own check
//! is libphonenumber's: this is the part of it a UK mobile meets.

/// Why a number is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A schema problem: Notify's message, to follow `phone_number `.
    Schema(&'static str),
    /// A plausible number abroad: Notify refuses it later, as a BadRequestError.
    International,
}

impl Refusal {
    pub const INTERNATIONAL_MESSAGE: &'static str = "Cannot send to international mobile numbers";
}

/// `+447700900123` for any accepted form, or why Notify refuses it.
pub fn normalise(typed: &str) -> Result<String, Refusal> {
    let allowed = |c: char| c.is_ascii_digit() || c.is_whitespace() || "()-+".contains(c);
    if !typed.chars().all(allowed) {
        return Err(Refusal::Schema("Must not contain letters or symbols"));
    }
    let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return Err(Refusal::Schema("Not enough digits"));
    }
    let plus = typed.trim_start().starts_with('+');
    let national = if let Some(rest) = digits.strip_prefix("0044").or_else(|| {
        digits
            .strip_prefix("44")
            .filter(|_| plus || digits.len() >= 12)
    }) {
        // `+44 (0)7700 900123`: the trunk 0 written after the country code.
        rest.strip_prefix('0').unwrap_or(rest)
    } else if plus || digits.starts_with("00") {
        let abroad = digits.trim_start_matches('0');
        return if (8..=15).contains(&abroad.len()) {
            Err(Refusal::International)
        } else {
            Err(Refusal::Schema("Not a valid country prefix"))
        };
    } else {
        digits.strip_prefix('0').unwrap_or(&digits)
    };
    if national.len() > 10 {
        return Err(Refusal::Schema("Too many digits"));
    }
    if national.len() < 9 || (national.starts_with('7') && national.len() < 10) {
        return Err(Refusal::Schema("Not enough digits"));
    }
    if !national.starts_with('7') {
        return Err(Refusal::Schema("Not a UK mobile number"));
    }
    Ok(format!("+44{national}"))
}

/// Notify's test numbers: texts to them fail after the 201, as with a test key.
pub fn test_status(normalised: &str) -> &'static str {
    match normalised {
        "+447700900002" => "permanent-failure",
        "+447700900003" => "temporary-failure",
        _ => "delivered",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_2_uk_mobiles_in_every_usual_form() {
        for typed in [
            "07700 900123",
            "07700900123",
            "7700900123",
            "+44 7700 900123",
            "+44 (0)7700 900123",
            "447700900123",
            "00447700900123",
            "(07700) 900-123",
            " 07700\t900123 ",
        ] {
            assert_eq!(normalise(typed).as_deref(), Ok("+447700900123"), "{typed}");
        }
        let schema = |typed| match normalise(typed) {
            Err(Refusal::Schema(why)) => why,
            other => panic!("{typed}: {other:?}"),
        };
        assert_eq!(schema("020 7946 0000"), "Not a UK mobile number");
        assert_eq!(schema("0770090012"), "Not enough digits");
        assert_eq!(schema("077009001234"), "Too many digits");
        assert_eq!(
            schema("07700 90012a"),
            "Must not contain letters or symbols"
        );
        assert_eq!(
            schema("07700.900123"),
            "Must not contain letters or symbols"
        );
        assert_eq!(schema(""), "Not enough digits");
        assert_eq!(schema("+1"), "Not a valid country prefix");
        assert_eq!(normalise("+1 202 555 0100"), Err(Refusal::International));
        assert_eq!(test_status("+447700900002"), "permanent-failure");
        assert_eq!(test_status("+447700900003"), "temporary-failure");
    }
}
