//! Query strings of the RA console's searches (RA-2, RA-4), built here so every value is
//! percent-encoded: a name, an action prefix or a client address can never add a
//! parameter of its own.

use api_types::ra::{AuditFilter, PATH_USERS};

/// A query value: letters, digits, `-._~` and `/` as they are, every other byte of its
/// UTF-8 as `%XX`.
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `path?a=1&b=2`, leaving out the parameters without a value.
fn with_query(path: &str, pairs: &[(&str, Option<String>)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter_map(|(key, value)| value.as_ref().map(|v| format!("{key}={}", encode(v))))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// `GET /api/ra/users?q=…&page=…`.
pub(crate) fn users_path(q: &str, page: u32) -> String {
    with_query(
        PATH_USERS,
        &[("q", Some(q.to_owned())), ("page", Some(page.to_string()))],
    )
}

/// The audit search (`PATH_AUDIT`) or its CSV export (`PATH_AUDIT_CSV`) with `filter`.
pub(crate) fn audit_path(path: &str, filter: &AuditFilter) -> String {
    let text = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
    let number = |value: Option<i64>| value.map(|v| v.to_string());
    with_query(
        path,
        &[
            ("user", text(&filter.user)),
            ("card", text(&filter.card)),
            ("action", text(&filter.action)),
            ("outcome", text(&filter.outcome)),
            ("client", text(&filter.client)),
            ("from", number(filter.from)),
            ("to", number(filter.to)),
            ("before", number(filter.before)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::ra::{PATH_AUDIT, PATH_AUDIT_CSV};

    #[test]
    fn ra_2_a_name_is_one_value_however_it_is_written() {
        assert_eq!(users_path("Rigby", 0), "/api/ra/users?q=Rigby&page=0");
        assert_eq!(
            users_path("O'Brien & co=1 é", 2),
            "/api/ra/users?q=O%27Brien%20%26%20co%3D1%20%C3%A9&page=2"
        );
        assert_eq!(encode("/ra/users/1?x=#"), "/ra/users/1%3Fx%3D%23");
    }

    #[test]
    fn ra_4_the_audit_query_carries_only_the_filters_given() {
        assert_eq!(
            audit_path(PATH_AUDIT, &AuditFilter::default()),
            "/api/ra/audit"
        );
        let filter = AuditFilter {
            user: Some("123456789012".into()),
            action: Some("unlock.".into()),
            client: Some(String::new()),
            from: Some(1_795_392_000),
            before: Some(77),
            ..AuditFilter::default()
        };
        assert_eq!(
            audit_path(PATH_AUDIT, &filter),
            "/api/ra/audit?user=123456789012&action=unlock.&from=1795392000&before=77"
        );
        let csv = AuditFilter {
            before: None,
            ..filter
        };
        assert_eq!(
            audit_path(PATH_AUDIT_CSV, &csv),
            "/api/ra/audit.csv?user=123456789012&action=unlock.&from=1795392000"
        );
    }
}
