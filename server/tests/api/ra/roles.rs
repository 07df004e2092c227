//! RA-1: the role comes from the user's record on every call, never from the request;
//! nobody acts on their own account; only a manager changes roles.

use api_types::ra::{
    Audit, AuditCsv, AuditFilter, ChangeRole, ChangeUserContact, ContactRequest, IssuePhoneCode,
    Reopen, ReportId, Reports, ReviewReport, Role, RoleRequest, SearchUsers, StopSelfService,
    UserQuery, UserUuid, ViewDashboard, ViewUser,
};
use api_types::{Endpoint, ErrorCode};

use super::{as_ra, because, code_of, get_refused, reason, signed_in, trail, uuid};
use crate::both;
use crate::helpers::*;

/// Sends endpoint `$endpoint`'s request from a page on `$origin` with `$cookie`: its route
/// and the raw answer.
macro_rules! send {
    ($app:expr, $origin:expr, $cookie:expr, $endpoint:ty, $params:expr, $request:expr) => {
        (
            <$endpoint>::ROUTE,
            $app.request_from::<$endpoint>($origin, $cookie, $params, $request)
                .send()
                .await
                .unwrap(),
        )
    };
}

/// Every RA read, by a browser holding `cookie` (or none), about `user`.
async fn ra_reads(
    app: &TestApp,
    cookie: Option<&str>,
    user: &UserUuid,
) -> Vec<(&'static str, reqwest::Response)> {
    let search = UserQuery {
        q: "rigby".into(),
        page: 0,
    };
    let filter = AuditFilter::default();
    vec![
        send!(app, ORIGIN, cookie, SearchUsers, &(), &search),
        send!(app, ORIGIN, cookie, ViewUser, user, &()),
        send!(app, ORIGIN, cookie, Audit, &(), &filter),
        send!(app, ORIGIN, cookie, AuditCsv, &(), &filter),
        send!(app, ORIGIN, cookie, Reports, &(), &()),
        send!(app, ORIGIN, cookie, ViewDashboard, &(), &()),
    ]
}

/// Every RA action, well-formed, by a page on `origin` holding `cookie` (or none), on
/// `user` (and on a report).
async fn ra_writes(
    app: &TestApp,
    origin: &str,
    cookie: Option<&str>,
    user: &UserUuid,
) -> Vec<(&'static str, reqwest::Response)> {
    let reason = reason();
    let contact = ContactRequest {
        email: "x@nhs.net".into(),
        mobile: None,
        reason: reason.reason.clone(),
    };
    let promote = RoleRequest {
        role: Role::RaManager,
        reason: reason.reason.clone(),
    };
    let report = ReportId::of_hash(&[0; 32]);
    vec![
        send!(app, origin, cookie, Reopen, user, &reason),
        send!(app, origin, cookie, StopSelfService, user, &reason),
        send!(app, origin, cookie, ChangeUserContact, user, &contact),
        send!(app, origin, cookie, IssuePhoneCode, user, &reason),
        send!(app, origin, cookie, ChangeRole, user, &promote),
        send!(app, origin, cookie, ReviewReport, &report, &reason),
    ]
}

async fn ra_1_every_ra_endpoint_needs_an_ra_role_from_the_record(db: Db) {
    let app = TestApp::spawn(db).await;
    let (staff, staff_cookie) = signed_in(&app, Role::Staff, ("Sam", "Staff")).await;
    let (_, agent_cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let target = app.enroll(true).await;
    let user = uuid(&target);
    // A cookie someone made up is nobody.
    let forged = "scss-session=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    for (cookie, expected) in [
        (None, ErrorCode::NotSignedIn),
        (Some(staff_cookie.as_str()), ErrorCode::RaRoleRequired),
        (Some(forged), ErrorCode::NotSignedIn),
    ] {
        let reads = ra_reads(&app, cookie, &user).await;
        for (route, answer) in reads
            .into_iter()
            .chain(ra_writes(&app, ORIGIN, cookie, &user).await)
        {
            assert_eq!(code_of(answer).await, expected, "{route}");
        }
    }
    // ALL-6: another origin is refused before anything else.
    let evil = ra_writes(&app, "https://evil.example", Some(&agent_cookie), &user);
    for (route, answer) in evil.await {
        assert_eq!(answer.status().as_u16(), 403, "{route}");
    }
    // Only a manager changes roles: an agent cannot make themselves or anyone a manager.
    let promote = RoleRequest {
        role: Role::RaManager,
        reason: because("I would like to be a manager"),
    };
    assert_eq!(
        as_ra::<ChangeRole>(&app, &agent_cookie, &user, &promote)
            .await
            .unwrap_err(),
        ErrorCode::RaRoleRequired
    );
    // A role in the request is just ignored data: the console still refuses staff. (A
    // field no typed query has, so the query by hand.)
    let search = UserQuery {
        q: "rigby".into(),
        page: 0,
    };
    let claimed = format!(
        "{}&role=ra_manager",
        SearchUsers::target(&(), &search).unwrap()
    );
    assert_eq!(
        get_refused(&app, &claimed, &staff_cookie).await,
        ErrorCode::RaRoleRequired
    );
    // Probing the console shows in the trail.
    let probes = app.audit_events(&staff).await;
    assert!(probes
        .iter()
        .any(|(action, outcome)| action == "ra.access" && outcome == "ra_role_required"));
    // Nothing changed for the target.
    assert_eq!(
        app.counters(&target).await,
        server::store::users::UnlockCounters::default()
    );
}
both!(ra_1_every_ra_endpoint_needs_an_ra_role_from_the_record);

async fn ra_1_separation_of_duties_and_roles_change_only_by_a_manager(db: Db) {
    let app = TestApp::spawn(db).await;
    let (agent, agent_cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let (manager, manager_cookie) = signed_in(&app, Role::RaManager, ("Mo", "Manager")).await;
    let role = |role, text| RoleRequest {
        role,
        reason: because(text),
    };
    // Nobody acts on their own account.
    let own = [
        as_ra::<Reopen>(&app, &agent_cookie, &uuid(&agent), &reason())
            .await
            .map(drop),
        as_ra::<IssuePhoneCode>(&app, &agent_cookie, &uuid(&agent), &reason())
            .await
            .map(drop),
    ];
    for refused in own {
        assert_eq!(refused.unwrap_err(), ErrorCode::OwnAccount);
    }
    let contact = ContactRequest {
        email: "ann.agent@nhs.net".into(),
        mobile: None,
        reason: because("Moved to a new team"),
    };
    assert_eq!(
        as_ra::<ChangeUserContact>(&app, &agent_cookie, &uuid(&agent), &contact)
            .await
            .unwrap_err(),
        ErrorCode::OwnAccount
    );
    let demote_self = role(Role::Staff, "Stepping down from the RA");
    assert_eq!(
        as_ra::<ChangeRole>(&app, &manager_cookie, &uuid(&manager), &demote_self)
            .await
            .unwrap_err(),
        ErrorCode::OwnAccount
    );
    // A manager removes the agent's role: the agent's very next call is refused.
    let demote = role(Role::Staff, "Left the RA team on 1 December");
    as_ra::<ChangeRole>(&app, &manager_cookie, &uuid(&agent), &demote)
        .await
        .unwrap();
    assert_eq!(
        as_ra::<ViewDashboard>(&app, &agent_cookie, &(), &())
            .await
            .unwrap_err(),
        ErrorCode::RaRoleRequired
    );
    let events = trail(&app, &manager_cookie, &agent).await;
    let change = events.iter().find(|e| e.1 == "ra.role").unwrap();
    assert_eq!(change.0, format!("ra:{}", manager.uuid));
    assert_eq!(change.2, "changed");
    assert!(change.3.contains("ra_agent -> staff") && change.3.contains("Left the RA team"));
    wait_for_mail(
        &agent.email,
        "Your Registration Authority changed your smartcard account",
    )
    .await;
    // And grants it back.
    let grant = role(Role::RaAgent, "Back in the RA team");
    as_ra::<ChangeRole>(&app, &manager_cookie, &uuid(&agent), &grant)
        .await
        .unwrap();
    as_ra::<ViewDashboard>(&app, &agent_cookie, &(), &())
        .await
        .unwrap();
}
both!(ra_1_separation_of_duties_and_roles_change_only_by_a_manager);

// ALL-6 (issue 17, item 11): an RA read writes (the RA's view of a user is in the trail,
// the session's idle clock moves), so a page on another site — even a sibling subdomain,
// which SameSite=Strict cookies do not stop — cannot make the RA's browser read: the
// browser's Sec-Fetch-Site (or an Origin) gives it away, and nothing is written.
async fn all_6_an_ra_read_asked_for_by_another_site_is_refused_and_writes_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let john = app.enroll(true).await;
    let audit = app.count("audit_log").await;
    for (site, origin) in [
        (Some("same-site"), None),
        (Some("cross-site"), None),
        (None, Some("https://evil.example")),
    ] {
        let mut read = app.request::<ViewUser>(Some(&cookie), &uuid(&john), &());
        if let Some(site) = site {
            read = read.header("sec-fetch-site", site);
        }
        if let Some(origin) = origin {
            read = read.header("origin", origin);
        }
        let refused = read.send().await.unwrap();
        assert_eq!(
            code_of(refused).await,
            ErrorCode::OriginNotAllowed,
            "{site:?} {origin:?}"
        );
    }
    assert_eq!(app.count("audit_log").await, audit);
    // Our own page (and the RA typing the address) read as before.
    for site in ["same-origin", "none"] {
        let read = app
            .request::<ViewUser>(Some(&cookie), &uuid(&john), &())
            .header("sec-fetch-site", site)
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), 200, "{site}");
    }
}
both!(all_6_an_ra_read_asked_for_by_another_site_is_refused_and_writes_nothing);
