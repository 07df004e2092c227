//! The request bodies checked as Notify's JSON schemas check them, with its messages:
//! each property's type and format in the schema's order, then the required ones, then
//! any unexpected ones, every problem listed. Notify builds its messages from Python's
//! `repr` with the quotes taken out, so `reference 12 is not of type string`.

use serde_json::{Map, Value};

use crate::errors::NotifyError;
use crate::phone::{self, Refusal};

/// Which endpoint: what it sends to and which fields it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sms,
    Email,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sms => "sms",
            Kind::Email => "email",
        }
    }

    fn recipient(self) -> &'static str {
        match self {
            Kind::Sms => "phone_number",
            Kind::Email => "email_address",
        }
    }

    /// In the order of Notify's schema, which is the order it reports problems in.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Sms => &[
                "reference",
                "phone_number",
                "template_id",
                "personalisation",
                "sms_sender_id",
            ],
            Kind::Email => &[
                "reference",
                "email_address",
                "template_id",
                "personalisation",
                "email_reply_to_id",
                "one_click_unsubscribe_url",
            ],
        }
    }
}

/// A request that passed the schema.
#[derive(Debug)]
pub struct Request {
    pub to: String,
    /// E.164 for a phone, lowercased for an email address.
    pub to_normalised: String,
    pub template_id: uuid::Uuid,
    pub personalisation: Map<String, Value>,
    pub reference: Option<String>,
    /// `sms_sender_id` or `email_reply_to_id`, as sent.
    pub sender_id: Option<String>,
    pub unsubscribe_url: Option<String>,
}

/// A UUID as Python's `uuid.UUID(text)` reads one: braces, `urn:uuid:`, any dashes
/// and either case allowed, 32 hex digits in the end.
pub fn notify_uuid(text: &str) -> Option<uuid::Uuid> {
    let bare = text.replace("urn:", "").replace("uuid:", "");
    let hex: String = bare.trim_matches(['{', '}']).replace('-', "");
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(&hex, 16)
        .ok()
        .map(uuid::Uuid::from_u128)
}

/// Python's `repr` of a JSON value, near enough for Notify's messages.
pub fn py_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{}'", s.escape_debug()),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(py_repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("'{}': {}", k.escape_debug(), py_repr(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// Notify's message for a problem with `field`, its quotes removed as Notify does.
fn problem(field: &str, text: String) -> String {
    format!("{field} {text}").replace('\'', "")
}

/// Python's truthiness: Notify treats a falsy body (`null`, `[]`, `""`, …) as `{}`.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// The problem with one property's value, as its part of the schema finds it.
fn field_problem(kind: Kind, field: &str, value: &Value) -> Option<String> {
    let not_of_type = |t: &str| problem(field, format!("{} is not of type '{t}'", py_repr(value)));
    let text = value.as_str();
    match field {
        "reference" | "phone_number" | "email_address" if text.is_none() => {
            Some(not_of_type("string"))
        }
        "reference" => text
            .filter(|s| s.chars().count() > 1000)
            .map(|_| problem(field, format!("{} is too long", py_repr(value)))),
        "phone_number" => match phone::normalise(text.unwrap_or_default()) {
            Err(Refusal::Schema(why)) => Some(problem(field, why.into())),
            _ => None,
        },
        "email_address" => (!valid_email(text.unwrap_or_default()))
            .then(|| problem(field, "Not a valid email address".into())),
        // Notify's UUID schema has one message for any problem, type or format.
        "template_id" | "sms_sender_id" | "email_reply_to_id" => text
            .and_then(notify_uuid)
            .is_none()
            .then(|| problem(field, "is not a valid UUID".into())),
        "personalisation" => (!value.is_object()).then(|| not_of_type("object")),
        "one_click_unsubscribe_url" if kind == Kind::Email => (!text
            .is_some_and(|url| url.starts_with("https")))
        .then(|| problem(field, "is not a valid https url".into())),
        _ => None,
    }
}

/// Checks a request body as Notify's schema for `kind` does.
pub fn parse(kind: Kind, body: &[u8]) -> Result<Request, NotifyError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| NotifyError::bad_request("Invalid JSON supplied in POST data"))?;
    let fields = match value {
        Value::Object(fields) => fields,
        other if !truthy(&other) => Map::new(),
        other => {
            let text = format!("{} is not of type 'object'", py_repr(&other)).replace('\'', "");
            return Err(NotifyError::validation(text));
        }
    };
    let mut problems = Vec::new();
    for field in kind.fields() {
        if let Some(value) = fields.get(*field) {
            problems.extend(field_problem(kind, field, value));
        }
    }
    for required in [kind.recipient(), "template_id"] {
        if !fields.contains_key(required) {
            problems.push(format!("{required} is a required property"));
        }
    }
    let extra: Vec<&str> = fields
        .keys()
        .map(String::as_str)
        .filter(|k| !kind.fields().contains(k))
        .collect();
    if !extra.is_empty() {
        let verb = if extra.len() == 1 { "was" } else { "were" };
        problems.push(format!(
            "Additional properties are not allowed ({} {verb} unexpected)",
            extra.join(", ").replace('\'', "")
        ));
    }
    if let Some(error) = NotifyError::validations(problems) {
        return Err(error);
    }
    // Every field below passed its check above.
    let text = |name: &str| fields.get(name).and_then(Value::as_str).map(String::from);
    let to = text(kind.recipient()).unwrap_or_default();
    let to_normalised = match kind {
        // A number abroad passes the schema; the caller refuses it after the template.
        Kind::Sms => phone::normalise(&to).unwrap_or_else(|_| to.clone()),
        Kind::Email => to.trim().to_lowercase(),
    };
    let template_id = fields
        .get("template_id")
        .and_then(Value::as_str)
        .and_then(notify_uuid)
        .ok_or_else(|| NotifyError::validation("template_id is not a valid UUID"))?;
    let personalisation = match fields.get("personalisation") {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    let sender = match kind {
        Kind::Sms => "sms_sender_id",
        Kind::Email => "email_reply_to_id",
    };
    Ok(Request {
        to,
        to_normalised,
        template_id,
        personalisation,
        reference: text("reference"),
        sender_id: text(sender),
        unsubscribe_url: text("one_click_unsubscribe_url"),
    })
}

/// Notify's email address check (notifications-utils), without the IDNA step: ASCII
/// domains only.
pub fn valid_email(address: &str) -> bool {
    const LOCAL_SPECIALS: &str = ".!#$%&'*+/=?^_`{|}~-";
    let address = address.trim();
    let Some((local, host)) = address.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(c));
    let host_shape = host.len() >= 2
        && !host.starts_with('.')
        && !host.contains('@')
        && !host.contains(char::is_whitespace);
    if !local_ok || !host_shape || address.len() > 320 || address.contains("..") {
        return false;
    }
    let parts: Vec<&str> = host.split('.').collect();
    if !host.is_ascii() || host.len() > 253 || parts.len() < 2 {
        return false;
    }
    let label = |part: &str| {
        !part.is_empty()
            && part.len() <= 63
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !part.starts_with('-')
            && !part.ends_with('-')
            && !part.contains("---")
    };
    let tld = |part: &str| match part.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("xn--") => {
            let rest = &part[4..];
            label(rest) && !rest.contains("--")
        }
        _ => (2..=63).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphabetic()),
    };
    parts.iter().all(|p| label(p)) && parts.last().is_some_and(|p| tld(p))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn messages(kind: Kind, body: &str) -> Vec<String> {
        let error = parse(kind, body.as_bytes()).unwrap_err();
        std::iter::once(error.message).chain(error.also).collect()
    }

    #[test]
    fn sms_2_uuids_are_read_as_python_reads_them() {
        let id = "0e8e6f4f-0a4c-4c1b-9a53-1f3f6c7f2a10";
        for form in [
            id.to_owned(),
            id.to_uppercase(),
            id.replace('-', ""),
            format!("{{{id}}}"),
            format!("urn:uuid:{id}"),
        ] {
            assert_eq!(notify_uuid(&form).unwrap().to_string(), id, "{form}");
        }
        assert!(notify_uuid("0e8e6f4f-0a4c-4c1b-9a53-1f3f6c7f2a1").is_none());
        assert!(notify_uuid("+e8e6f4f0a4c4c1b9a531f3f6c7f2a10").is_none());
    }

    #[test]
    fn sms_2_every_schema_problem_is_listed_in_notifys_words() {
        assert_eq!(
            messages(Kind::Sms, "{}"),
            [
                "phone_number is a required property",
                "template_id is a required property"
            ]
        );
        assert_eq!(messages(Kind::Sms, "null"), messages(Kind::Sms, "{}"));
        assert_eq!(messages(Kind::Sms, "[1]"), ["[1] is not of type object"]);
        assert_eq!(
            messages(
                Kind::Sms,
                r#"{"reference": 12, "phone_number": "07700900123", "template_id": "x",
                    "personalisation": ["a"], "colour": "red", "size": 1}"#
            ),
            [
                "reference 12 is not of type string",
                "template_id is not a valid UUID",
                "personalisation [a] is not of type object",
                "Additional properties are not allowed (colour, size were unexpected)",
            ]
        );
        let invalid = parse(Kind::Sms, b"{").unwrap_err();
        assert_eq!(
            (invalid.error, invalid.message.as_str()),
            ("BadRequestError", "Invalid JSON supplied in POST data")
        );
        assert_eq!(
            messages(
                Kind::Email,
                r#"{"email_address": "a@b", "template_id": "0e8e6f4f0a4c4c1b9a531f3f6c7f2a10", "one_click_unsubscribe_url": "http://x"}"#
            ),
            [
                "email_address Not a valid email address",
                "one_click_unsubscribe_url is not a valid https url"
            ]
        );
    }

    #[test]
    fn sms_2_email_addresses_are_checked_as_notify_checks_them() {
        for good in [
            "amala@example.com",
            "o'neil.x+y@nhs.net",
            "a@xn--r8jz45g.xn--zckzah",
        ] {
            assert!(valid_email(good), "{good}");
        }
        for bad in [
            "amala",
            "amala@example",
            "a..b@example.com",
            "a@-x.com",
            "a@x.c",
            "a b@example.com",
            "a@example.com.",
            "\"a\"@example.com",
            "a@exa mple.com",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }
}
