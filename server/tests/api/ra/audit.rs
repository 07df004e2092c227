//! RA-4: the audit trail searched by user, card, action, outcome, client and time, paged,
//! with its chains verified; and the same filters as a streamed CSV export.

use api_types::ra::{
    ActionFilter, Audit, AuditCsv, AuditFilter, ChainState, OutcomeWord, Reports, Role, UserUuid,
    ViewDashboard,
};
use api_types::{Endpoint, ErrorCode};
use server::Clock;

use super::{as_ra, get_refused, lock_out, signed_in};
use crate::both;
use crate::helpers::*;

async fn ra_4_audit_search_filters_and_verifies_the_chain(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let john = app.enroll(true).await;
    let before = app.clock.now();
    app.clock.advance(100);
    lock_out(&app, &john).await;
    let page = |filter: AuditFilter| {
        let (app, cookie) = (&app, &cookie);
        async move { as_ra::<Audit>(app, cookie, &(), &filter).await }
    };
    let uuid = |text: &str| UserUuid::parse(text).ok();
    let action = |text: &str| ActionFilter::parse(text).ok();
    let all = page(AuditFilter::default()).await.unwrap();
    assert!(matches!(all.chain, Some(ChainState::Intact { rows, unchecked: 0 }) if rows > 5));
    let closed = page(AuditFilter {
        user: uuid(&john.uuid),
        outcome: OutcomeWord::parse("self_service_closed").ok(),
        ..AuditFilter::default()
    })
    .await
    .unwrap();
    assert!(!closed.events.is_empty());
    assert!(closed
        .events
        .iter()
        .all(|e| e.outcome == "self_service_closed" && e.user_uuid.as_deref() == Some(&john.uuid)));
    let unlock = page(AuditFilter {
        card: Some(john.guid),
        action: action("unlock."),
        ..AuditFilter::default()
    })
    .await
    .unwrap();
    assert!(unlock
        .events
        .iter()
        .all(|e| e.action.as_str().starts_with("unlock.")));
    assert!(unlock
        .events
        .iter()
        .any(|e| e.action.as_str() == "unlock.answers"));
    let answers = page(AuditFilter {
        action: action("unlock.answers"),
        client: "127.0.0.1".parse().ok(),
        ..AuditFilter::default()
    })
    .await
    .unwrap();
    assert!(answers
        .events
        .iter()
        .all(|e| e.action.as_str() == "unlock.answers"
            && e.client_addr.as_deref() == Some("127.0.0.1")));
    let elsewhere = AuditFilter {
        client: "10.9.9.9".parse().ok(),
        ..AuditFilter::default()
    };
    assert_eq!(page(elsewhere).await.unwrap().events.len(), 0);
    let early = page(AuditFilter {
        user: uuid(&john.uuid),
        to: Some(before + 1),
        ..AuditFilter::default()
    })
    .await
    .unwrap();
    assert!(early.events.iter().all(|e| e.at <= before));
    assert!(early
        .events
        .iter()
        .any(|e| e.action.as_str() == "card.issue"));
    let late = page(AuditFilter {
        user: uuid(&john.uuid),
        from: Some(before + 100),
        ..AuditFilter::default()
    })
    .await
    .unwrap();
    assert!(late.events.iter().all(|e| e.at >= before + 100) && !late.events.is_empty());
    // Paging: newest first, then older.
    let first = page(AuditFilter::default()).await.unwrap();
    if let Some(next) = first.next_before {
        let older = page(AuditFilter {
            before: Some(next),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
        assert!(older.chain.is_none());
        assert!(older.events.iter().all(|e| e.seq < next));
    }
    // No typed filter can say these: they come as a query a hand-made request sends. A
    // card is the same in either case.
    let upper = format!(
        "{}?card={}",
        Audit::ROUTE,
        john.guid.to_hex().to_uppercase()
    );
    let by_card = app.client.get(app.url(&upper)).header("cookie", &cookie);
    let by_card = by_card.send().await.unwrap();
    assert!(
        by_card.status().is_success(),
        "an upper-case GUID is still the card"
    );
    for query in [
        "user=abc",
        "card=xyz",
        "action=a%25",
        "action=nope.",
        "client=somewhere",
    ] {
        let path = format!("{}?{query}", Audit::ROUTE);
        assert_eq!(
            get_refused(&app, &path, &cookie).await,
            ErrorCode::BadRequest,
            "{query}"
        );
    }
    // A time that is not a number: no typed filter can say it.
    let yesterday = format!("{}?from=yesterday", Audit::ROUTE);
    assert_eq!(
        get_refused(&app, &yesterday, &cookie).await,
        ErrorCode::BadRequest
    );
}
both!(ra_4_audit_search_filters_and_verifies_the_chain);

async fn ra_4_a_large_trail_exports_as_streamed_csv(db: Db) {
    let app = TestApp::spawn(db).await;
    let (agent, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    // 3,000 events straight into the trail, one chain link at a time as steps write them;
    // one with a reason that a spreadsheet would run as a formula.
    let mut tx = app.state.store.begin().await.unwrap();
    for n in 0..3000 {
        let entry = server::store::audit::AuditEntry {
            actor: format!("ra:{}", agent.uuid),
            action: "ra.reopen".into(),
            outcome: "reopened".into(),
            card_guid: None,
            user_uuid: Some("770000000001".into()),
            client_addr: Some("10.1.2.3".into()),
            detail: if n == 0 {
                "=HYPERLINK(\"http://evil\")".into()
            } else {
                format!("bulk, \"{n}\"")
            },
        };
        server::store::audit::append(
            &mut tx,
            app.state.store.backend,
            &app.state.audit_key,
            app.clock.now(),
            &entry,
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    // A CSV file, not JSON: the raw answer.
    let filter = AuditFilter {
        user: UserUuid::parse("770000000001").ok(),
        ..AuditFilter::default()
    };
    let response = app
        .request::<AuditCsv>(Some(&cookie), &(), &filter)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    // Streamed: no length known up front, and it arrives in pieces.
    assert!(response.headers().get("content-length").is_none());
    let mut chunks = 0;
    let mut body = Vec::new();
    let mut response = response;
    while let Some(chunk) = response.chunk().await.unwrap() {
        chunks += 1;
        body.extend_from_slice(&chunk);
    }
    assert!(
        chunks >= 6,
        "3,000 rows in batches of 500 came as {chunks} chunk(s)"
    );
    let text = String::from_utf8(body).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    // Every bulk row, and the export itself (recorded before the first byte went out).
    assert_eq!(lines.len(), 3002);
    assert!(lines[1].contains("\"ra.audit_export\""));
    assert!(lines[0].starts_with("seq,time_utc,"));
    assert!(lines
        .iter()
        .any(|l| l.contains("\"'=HYPERLINK(\"\"http://evil\"\")\"")));
    assert!(lines[2].contains("\"bulk, \"\"2999\"\"\""));
    // The export is itself in the trail.
    let exports = AuditFilter {
        action: ActionFilter::parse("ra.audit_export").ok(),
        ..AuditFilter::default()
    };
    let exports = as_ra::<Audit>(&app, &cookie, &(), &exports).await.unwrap();
    assert_eq!(exports.events.len(), 1);
    assert_eq!(exports.events[0].actor, format!("ra:{}", agent.uuid));
}
both!(ra_4_a_large_trail_exports_as_streamed_csv);

// RA-4 (issue 17): reading the trail, the reports queue and the dashboard is itself in
// the trail — who read what, with the filters — and a page never lists its own reading.
async fn ra_4_reading_the_trail_the_queue_and_the_dashboard_is_audited(db: Db) {
    let app = TestApp::spawn(db).await;
    let (agent, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let john = app.enroll(true).await;
    let about_john = AuditFilter {
        user: UserUuid::parse(&john.uuid).ok(),
        ..AuditFilter::default()
    };
    let first = as_ra::<Audit>(&app, &cookie, &(), &about_john)
        .await
        .unwrap();
    assert!(first
        .events
        .iter()
        .all(|e| e.action.as_str() != "ra.view_trail"));
    let second = as_ra::<Audit>(&app, &cookie, &(), &about_john)
        .await
        .unwrap();
    let read = &second.events[0];
    assert_eq!(read.action.as_str(), "ra.view_trail");
    assert_eq!(read.actor, format!("ra:{}", agent.uuid));
    assert_eq!(read.user_uuid.as_deref(), Some(john.uuid.as_str()));
    assert!(read.detail.contains(&john.uuid), "{}", read.detail);
    as_ra::<Reports>(&app, &cookie, &(), &()).await.unwrap();
    as_ra::<ViewDashboard>(&app, &cookie, &(), &())
        .await
        .unwrap();
    let readings = || async {
        let ra_area = AuditFilter {
            action: ActionFilter::parse("ra.").ok(),
            ..AuditFilter::default()
        };
        let page = as_ra::<Audit>(&app, &cookie, &(), &ra_area).await.unwrap();
        page.events
            .into_iter()
            .filter(|e| e.action.as_str().starts_with("ra.view_"))
            .collect::<Vec<_>>()
    };
    let read = readings().await;
    let actions: Vec<&str> = read.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "ra.view_dashboard",
            "ra.view_reports",
            "ra.view_trail",
            "ra.view_trail"
        ]
    );
    assert!(read
        .iter()
        .all(|e| e.actor == format!("ra:{}", agent.uuid) && e.outcome == "ok"));
    // A refused reader leaves a refusal (`ra.access`), never a reading.
    let staff = app.enroll_unlocked().await;
    let (_, staff_cookie) = crate::auth::login(&app, &staff).await.unwrap();
    let refused = as_ra::<ViewDashboard>(&app, &staff_cookie, &(), &()).await;
    assert_eq!(refused.unwrap_err(), ErrorCode::RaRoleRequired);
    let read = readings().await;
    let dashboards = read
        .iter()
        .filter(|e| e.action.as_str() == "ra.view_dashboard");
    assert_eq!(dashboards.count(), 1);
}
both!(ra_4_reading_the_trail_the_queue_and_the_dashboard_is_audited);
