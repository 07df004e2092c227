//! The endpoint declarations' paths, queries and checks.

use super::*;
use crate::ra::{AuditFilter, UserQuery, UserUuid};
use crate::values::AttemptId;

#[test]
fn a_path_is_the_route_filled_in() {
    let id = AttemptId::parse(&"0a".repeat(16)).unwrap();
    assert_eq!(crate::unlock::Start::path(&()), "/api/unlock/start");
    assert_eq!(
        crate::unlock::CardProof::path(&id),
        format!("/api/unlock/{}/card-proof", "0a".repeat(16))
    );
    assert_eq!(crate::unlock::Complete::ROUTE, "/api/unlock/{id}/complete");
    let uuid = UserUuid::parse("123456789012").unwrap();
    assert_eq!(
        crate::ra::Reopen::path(&uuid),
        "/api/ra/users/123456789012/reopen"
    );
    assert_eq!(
        crate::ra::ViewUser::path(&uuid),
        "/api/ra/users/123456789012"
    );
}

#[test]
fn a_segment_never_adds_a_path_or_a_query() {
    // Every segment type today parses to plain characters; should one ever allow more,
    // the path still cannot grow a segment or a query.
    struct Odd;
    impl Segment for Odd {
        fn segment(&self) -> &str {
            "../x?y=1#z é"
        }
    }
    assert_eq!(
        Odd.fill(crate::ra::ReviewReport::ROUTE),
        "/api/ra/reports/..%2Fx%3Fy%3D1%23z%20%C3%A9/review"
    );
}

#[test]
fn percent_encoding_keeps_only_what_it_is_told() {
    assert_eq!(
        percent_encode("/ra/users/1?x=#", b"-._~/"),
        "/ra/users/1%3Fx%3D%23"
    );
    assert_eq!(
        percent_encode("O'Brien & é", b""),
        "O%27Brien%20%26%20%C3%A9"
    );
}

#[test]
fn a_post_sends_its_request_as_the_body() {
    let id = AttemptId::parse(&"0a".repeat(16)).unwrap();
    let target = crate::unlock::Channel::target(&id, &crate::unlock::ChannelRequest {});
    assert_eq!(target.unwrap(), crate::unlock::Channel::path(&id));
}

#[test]
fn ra_2_a_name_is_one_value_however_it_is_written() {
    let query = |q: &str, page| UserQuery {
        q: q.to_owned(),
        page,
    };
    let target = crate::ra::SearchUsers::target(&(), &query("Rigby", 0)).unwrap();
    assert_eq!(target, "/api/ra/users?q=Rigby&page=0");
    let target = crate::ra::SearchUsers::target(&(), &query("O'Brien & co=1 é", 2)).unwrap();
    assert_eq!(target, "/api/ra/users?q=O%27Brien+%26+co%3D1+%C3%A9&page=2");
    // The server reads back exactly what was meant.
    let (_, sent) = target.split_once('?').unwrap();
    let read: UserQuery = serde_urlencoded::from_str(sent).unwrap();
    assert_eq!(read, query("O'Brien & co=1 é", 2));
}

#[test]
fn ra_4_the_audit_query_carries_only_the_filters_given() {
    assert_eq!(
        crate::ra::Audit::target(&(), &AuditFilter::default()).unwrap(),
        "/api/ra/audit"
    );
    let filter = AuditFilter {
        user: UserUuid::parse("123456789012").ok(),
        action: crate::audit::ActionFilter::parse("unlock.").ok(),
        from: Some(1_795_392_000),
        before: Some(77),
        ..AuditFilter::default()
    };
    assert_eq!(
        crate::ra::Audit::target(&(), &filter).unwrap(),
        "/api/ra/audit?user=123456789012&action=unlock.&from=1795392000&before=77"
    );
    let csv = AuditFilter {
        before: None,
        ..filter
    };
    assert_eq!(
        crate::ra::AuditCsv::target(&(), &csv).unwrap(),
        "/api/ra/audit.csv?user=123456789012&action=unlock.&from=1795392000"
    );
}

#[test]
fn ra_4_a_malformed_filter_is_refused_as_it_is_read() {
    let read = |query: &str| serde_urlencoded::from_str::<AuditFilter>(query);
    let fine = read("user=123456789012&action=unlock.&client=127.0.0.1&outcome=ok").unwrap();
    assert_eq!(fine.client, "127.0.0.1".parse().ok());
    for bad in [
        "user=abc",
        "card=xyz",
        "action=a%25",
        "action=nope.",
        "outcome=a%20b",
        "client=somewhere",
        "from=yesterday",
    ] {
        assert!(read(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_get_without_a_query_is_its_path() {
    assert_eq!(
        crate::unlock::Config::target(&(), &()).unwrap(),
        "/api/config"
    );
    assert_eq!(
        crate::ra::Reports::target(&(), &()).unwrap(),
        "/api/ra/reports"
    );
}

#[test]
fn not_json_is_never_decoded() {
    assert!(serde_json::from_str::<NotJson>(r#""ok""#).is_err());
}

#[test]
fn routes_are_checked_for_their_braces_and_their_prefix() {
    assert_eq!(slots("/api/ra/users/{uuid}/role"), 1);
    assert_eq!(slots("/api/health"), 0);
    assert!(starts_with("/api/health", API_PREFIX));
    assert!(!starts_with("/apihealth", API_PREFIX));
    assert!(!starts_with("/ap", API_PREFIX));
}
