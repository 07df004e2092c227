//! RA-1…RA-4 tried as RA agents, managers, staff and attackers would: the role from the
//! record on every call, separation of duties, search, reopening a locked account, the
//! phone code, contact changes, the audit search and its streamed CSV export, the "this
//! wasn't me" queue and the at-risk dashboard.

use api_types::ra::{
    user_action_path, user_path, AuditPage, ChainState, Dashboard, PhoneCode, RaAction, Role,
    UserList, UserRecord, UserUuid, PATH_AUDIT, PATH_AUDIT_CSV, PATH_DASHBOARD, PATH_REPORTS,
    PATH_USERS,
};
use api_types::unlock::{CodeRequest, RaCode};
use api_types::{AttemptId, ErrorCode, UnlockCode};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use server::Clock;

use crate::auth::login;
use crate::both;
use crate::helpers::*;

/// Signed in as someone of this role (set in their record, as an operator would).
async fn signed_in(app: &TestApp, role: Role, name: (&str, &str)) -> (TestCard, String) {
    let card = app.enroll_person(name, true, false).await;
    set_role(app, &card, role).await;
    let (_, cookie) = login(app, &card).await.unwrap();
    (card, cookie)
}

async fn set_role(app: &TestApp, card: &TestCard, role: Role) {
    let mut conn = app.state.store.pool.acquire().await.unwrap();
    server::store::users::set_role(&mut conn, &card.uuid, role)
        .await
        .unwrap();
}

fn uuid(card: &TestCard) -> UserUuid {
    UserUuid::parse(&card.uuid).unwrap()
}

/// A GET as the RA's browser sends it; the body, or the refusal's code.
async fn get<T: DeserializeOwned>(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
) -> Result<T, ErrorCode> {
    let mut get = app.client.get(app.url(path));
    if let Some(cookie) = cookie {
        get = get.header("cookie", cookie);
    }
    let response = get.send().await.unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store"); // ALL-6
    let status = response.status();
    if status.is_success() {
        return Ok(response.json().await.unwrap());
    }
    let error: api_types::ApiError = response.json().await.unwrap();
    assert_eq!(status.as_u16(), error.code.http_status());
    Err(error.code)
}

/// A POST of JSON from our origin with this session cookie.
async fn post(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    body: Value,
) -> Result<Value, ErrorCode> {
    let mut post = app.client.post(app.url(path)).header("origin", ORIGIN);
    if let Some(cookie) = cookie {
        post = post.header("cookie", cookie);
    }
    let response = post.json(&body).send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    if status.is_success() {
        Ok(body)
    } else {
        Err(serde_json::from_value::<api_types::ApiError>(body)
            .unwrap()
            .code)
    }
}

fn reason() -> Value {
    json!({ "reason": "Identity checked on the phone against the HR record" })
}

async fn act(
    app: &TestApp,
    cookie: &str,
    card: &TestCard,
    action: RaAction,
    body: Value,
) -> Result<Value, ErrorCode> {
    post(
        app,
        &user_action_path(&uuid(card), action),
        Some(cookie),
        body,
    )
    .await
}

/// The audit rows about a user, as (actor, action, outcome, detail).
async fn trail(
    app: &TestApp,
    cookie: &str,
    user: &TestCard,
) -> Vec<(String, String, String, String)> {
    let page: AuditPage = get(
        app,
        &format!("{PATH_AUDIT}?user={}", user.uuid),
        Some(cookie),
    )
    .await
    .unwrap();
    page.events
        .into_iter()
        .map(|e| (e.actor, e.action.as_str().to_owned(), e.outcome, e.detail))
        .collect()
}

/// Three wrong sets of answers: self-service closes (UNL-4).
async fn lock_out(app: &TestApp, card: &TestCard) {
    for _ in 0..3 {
        let (id, proof) = app.start_and_prove(card).await;
        let _ = app.answer(&id, &proof.unwrap(), false).await;
    }
    let (_, proof) = app.start_and_prove(card).await;
    assert_eq!(proof.unwrap_err().code(), ErrorCode::SelfServiceClosed);
}

async fn ra_1_every_ra_endpoint_needs_an_ra_role_from_the_record(db: Db) {
    let app = TestApp::spawn(db).await;
    let (staff, staff_cookie) = signed_in(&app, Role::Staff, ("Sam", "Staff")).await;
    let (_, agent_cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let target = app.enroll(true).await;
    let user = uuid(&target);
    let reads = [
        format!("{PATH_USERS}?q=rigby"),
        user_path(&user),
        PATH_AUDIT.to_owned(),
        PATH_AUDIT_CSV.to_owned(),
        PATH_REPORTS.to_owned(),
        PATH_DASHBOARD.to_owned(),
    ];
    let because = "Identity checked on the phone";
    let writes = [
        (
            user_action_path(&user, RaAction::Reopen),
            json!({ "reason": because }),
        ),
        (
            user_action_path(&user, RaAction::Contact),
            json!({ "email": "x@nhs.net", "reason": because }),
        ),
        (
            user_action_path(&user, RaAction::PhoneCode),
            json!({ "reason": because }),
        ),
        (
            user_action_path(&user, RaAction::Role),
            json!({ "role": "ra_manager", "reason": because }),
        ),
        (
            format!("{PATH_REPORTS}/00/review"),
            json!({ "reason": because }),
        ),
    ];
    for path in &reads {
        assert_eq!(
            get::<Value>(&app, path, None).await.unwrap_err(),
            ErrorCode::NotSignedIn,
            "{path}"
        );
        assert_eq!(
            get::<Value>(&app, path, Some(&staff_cookie))
                .await
                .unwrap_err(),
            ErrorCode::RaRoleRequired,
            "{path}"
        );
        // A cookie someone made up is nobody.
        let forged =
            "scss-session=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        assert_eq!(
            get::<Value>(&app, path, Some(forged)).await.unwrap_err(),
            ErrorCode::NotSignedIn,
            "{path}"
        );
    }
    for (path, body) in &writes {
        assert_eq!(
            post(&app, path, None, body.clone()).await.unwrap_err(),
            ErrorCode::NotSignedIn,
            "{path}"
        );
        assert_eq!(
            post(&app, path, Some(&staff_cookie), body.clone())
                .await
                .unwrap_err(),
            ErrorCode::RaRoleRequired,
            "{path}"
        );
        // ALL-6: another origin is refused before anything else.
        let cross = app
            .client
            .post(app.url(path))
            .header("origin", "https://evil.example")
            .header("cookie", &agent_cookie)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(cross.status().as_u16(), 403, "{path}");
    }
    // Only a manager changes roles: an agent cannot make themselves or anyone a manager.
    let promote = json!({ "role": "ra_manager", "reason": "I would like to be a manager" });
    assert_eq!(
        act(&app, &agent_cookie, &target, RaAction::Role, promote)
            .await
            .unwrap_err(),
        ErrorCode::RaRoleRequired
    );
    // A role in the request is just ignored data: the console still refuses staff.
    let claimed = format!("{PATH_USERS}?q=rigby&role=ra_manager");
    assert_eq!(
        get::<Value>(&app, &claimed, Some(&staff_cookie))
            .await
            .unwrap_err(),
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
    // Nobody acts on their own account.
    for action in [RaAction::Reopen, RaAction::PhoneCode] {
        assert_eq!(
            act(&app, &agent_cookie, &agent, action, reason())
                .await
                .unwrap_err(),
            ErrorCode::OwnAccount
        );
    }
    let contact = json!({ "email": "ann.agent@nhs.net", "reason": "Moved to a new team" });
    assert_eq!(
        act(&app, &agent_cookie, &agent, RaAction::Contact, contact)
            .await
            .unwrap_err(),
        ErrorCode::OwnAccount
    );
    let demote_self = json!({ "role": "staff", "reason": "Stepping down from the RA" });
    assert_eq!(
        act(&app, &manager_cookie, &manager, RaAction::Role, demote_self)
            .await
            .unwrap_err(),
        ErrorCode::OwnAccount
    );
    // A manager removes the agent's role: the agent's very next call is refused.
    let demote = json!({ "role": "staff", "reason": "Left the RA team on 1 December" });
    act(&app, &manager_cookie, &agent, RaAction::Role, demote)
        .await
        .unwrap();
    assert_eq!(
        get::<Value>(&app, PATH_DASHBOARD, Some(&agent_cookie))
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
    let grant = json!({ "role": "ra_agent", "reason": "Back in the RA team" });
    act(&app, &manager_cookie, &agent, RaAction::Role, grant)
        .await
        .unwrap();
    get::<Dashboard>(&app, PATH_DASHBOARD, Some(&agent_cookie))
        .await
        .unwrap();
}
both!(ra_1_separation_of_duties_and_roles_change_only_by_a_manager);

async fn ra_2_find_by_uuid_and_by_name_prefix_ignoring_case_and_accents(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let zoe = app.enroll_person(("Zoë", "Brontë"), true, true).await;
    // 21 more people named Quill, straight into the table: two pages of them.
    let mut conn = app.state.store.pool.acquire().await.unwrap();
    for n in 0..21 {
        let uuid = format!("7700000000{n:02}");
        let user = server::store::users::NewUser {
            uuid: &uuid,
            title: "Dr",
            given_name: "Pat",
            family_name: "Quill",
            email: "pat.quill@nhs.net",
            role: "staff",
            registered: false,
        };
        server::store::users::insert(&mut conn, &user)
            .await
            .unwrap();
    }
    drop(conn);
    let search = |q: &str, page: u32| format!("{PATH_USERS}?q={q}&page={page}");
    for q in [
        "bronte",
        "BRONT%C3%8B",
        "zoe",
        "zoe%20bro",
        "bront%C3%AB%20z",
    ] {
        let found: UserList = get(&app, &search(q, 0), Some(&cookie)).await.unwrap();
        assert_eq!(found.users.len(), 1, "{q}");
        assert_eq!(found.users[0].uuid, zoe.uuid);
        assert_eq!(found.users[0].display_name, "Mr Zoë Brontë");
    }
    let exact: UserList = get(&app, &search(&zoe.uuid, 0), Some(&cookie))
        .await
        .unwrap();
    assert_eq!(exact.users[0].uuid, zoe.uuid);
    // A UUID is exact: its start finds nothing.
    let partial: UserList = get(&app, &search(&zoe.uuid[..6], 0), Some(&cookie))
        .await
        .unwrap();
    assert!(partial.users.is_empty());
    // LIKE wildcards are just characters that no name key holds.
    for q in ["%25", "_", "%25%25", "%20"] {
        let none: UserList = get(&app, &search(q, 0), Some(&cookie)).await.unwrap();
        assert!(none.users.is_empty(), "{q}");
    }
    let wild: UserList = get(&app, &search("qu%25l", 0), Some(&cookie))
        .await
        .unwrap();
    assert!(wild.users.is_empty(), "% is no wildcard");
    let first: UserList = get(&app, &search("quill", 0), Some(&cookie)).await.unwrap();
    let second: UserList = get(&app, &search("quill", 1), Some(&cookie)).await.unwrap();
    assert_eq!((first.users.len(), first.has_more), (20, true));
    assert_eq!((second.users.len(), second.has_more), (1, false));
    let mut all: Vec<String> = first
        .users
        .iter()
        .chain(&second.users)
        .map(|u| u.uuid.clone())
        .collect();
    all.dedup();
    assert_eq!(all.len(), 21);
    assert_eq!(
        get::<Value>(&app, &format!("{PATH_USERS}?page=x"), Some(&cookie))
            .await
            .unwrap_err(),
        ErrorCode::BadRequest
    );

    // RA-2: the user's page.
    let record: UserRecord = get(&app, &user_path(&uuid(&zoe)), Some(&cookie))
        .await
        .unwrap();
    assert_eq!(record.summary.email, zoe.email);
    assert_eq!(record.cards.len(), 1);
    assert_eq!(record.cards[0].guid, zoe.guid);
    assert!(record.cards[0].certificate_expires_at.unwrap() > START);
    assert!(!record.locks.self_service_closed && record.phone_code.is_none());
    assert!(record
        .events
        .iter()
        .any(|e| e.action.as_str() == "card.issue"));
    assert_eq!(
        get::<Value>(&app, "/api/ra/users/123", Some(&cookie))
            .await
            .unwrap_err(),
        ErrorCode::NotFound
    );
    assert_eq!(
        get::<Value>(&app, "/api/ra/users/999999999999", Some(&cookie))
            .await
            .unwrap_err(),
        ErrorCode::NotFound
    );
}
both!(ra_2_find_by_uuid_and_by_name_prefix_ignoring_case_and_accents);

async fn ra_3_unl_4_reopening_a_locked_account_restores_self_service(db: Db) {
    let app = TestApp::spawn(db).await;
    let (agent, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let john = app.enroll(true).await;
    lock_out(&app, &john).await;
    let record: UserRecord = get(&app, &user_path(&uuid(&john)), Some(&cookie))
        .await
        .unwrap();
    assert!(record.locks.self_service_closed && record.locks.questions_locked);
    assert!(!record.locks.code_locked);
    assert_eq!(record.locks.answer_failures, 3);
    // A reason is required, and must say something.
    for bad in [
        json!({}),
        json!({ "reason": "" }),
        json!({ "reason": "ok" }),
    ] {
        assert_eq!(
            act(&app, &cookie, &john, RaAction::Reopen, bad)
                .await
                .unwrap_err(),
            ErrorCode::BadRequest
        );
    }
    assert!(app.counters(&john).await.self_service_closed);
    act(&app, &cookie, &john, RaAction::Reopen, reason())
        .await
        .unwrap();
    let record: UserRecord = get(&app, &user_path(&uuid(&john)), Some(&cookie))
        .await
        .unwrap();
    assert!(!record.locks.self_service_closed && record.locks.answer_failures == 0);
    wait_for_mail(
        &john.email,
        "Your Registration Authority changed your smartcard account",
    )
    .await;
    // John unlocks his card himself again.
    let (id, code) = app.up_to_code(&john).await;
    app.finish_unlock(&john, &id, &code, "Mine12").await;
    let events = trail(&app, &cookie, &john).await;
    let reopen = events.iter().find(|e| e.1 == "ra.reopen").unwrap();
    assert_eq!(reopen.0, format!("ra:{}", agent.uuid));
    assert_eq!(
        (reopen.2.as_str(), reopen.3.as_str()),
        (
            "reopened",
            "Identity checked on the phone against the HR record"
        )
    );
    assert!(events
        .iter()
        .any(|e| e.1 == "unlock.complete" && e.2 == "unlocked"));
    // RA-2: the unlock told the server the card has all its tries again.
    let record: UserRecord = get(&app, &user_path(&uuid(&john)), Some(&cookie))
        .await
        .unwrap();
    assert_eq!(record.cards[0].pin_tries_left, Some(3));
    assert!(record
        .events
        .iter()
        .any(|e| e.action.as_str() == "ra.view_user" && e.actor == format!("ra:{}", agent.uuid)));
}
both!(ra_3_unl_4_reopening_a_locked_account_restores_self_service);

/// The unlock with a phone code in place of the questions, up to the card update.
async fn ra_code(app: &TestApp, id: &AttemptId, code: &UnlockCode) -> Result<(), ErrorCode> {
    app.step::<RaCode>(id, &CodeRequest { code: code.clone() })
        .await
        .map(|_| ())
        .map_err(|refused| refused.code())
}

async fn ra_3_unl_8_a_phone_code_unlocks_once_within_ten_minutes_with_the_users_own_card(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    // Jane never registered (UNL-8) and her card is locked.
    let jane = app.enroll(false).await;
    let other = app.enroll(false).await;
    let (id, proof) = app.start_and_prove(&jane).await;
    assert_eq!(proof.unwrap_err().code(), ErrorCode::NotRegistered);
    let some_code = UnlockCode::parse("123456").unwrap();
    assert_eq!(
        ra_code(&app, &id, &some_code).await.unwrap_err(),
        ErrorCode::NoRaCode
    );

    let issued: PhoneCode = serde_json::from_value(
        act(&app, &cookie, &jane, RaAction::PhoneCode, reason())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(issued.tries, 3);
    assert_eq!(issued.expires_at, app.clock.now() + 600);
    // The user is told a code was given, never the code; nor is it kept in clear.
    let notice = wait_for_mail(
        &jane.email,
        "Your Registration Authority changed your smartcard account",
    )
    .await;
    assert!(!notice.contains(issued.code.expose()));
    let record: UserRecord = get(&app, &user_path(&uuid(&jane)), Some(&cookie))
        .await
        .unwrap();
    assert_eq!(record.phone_code.unwrap().tries_left, 3);
    assert!(!trail(&app, &cookie, &jane)
        .await
        .iter()
        .any(|e| e.3.contains(issued.code.expose())));

    // Another user's card cannot use Jane's code.
    let (other_id, _) = app.start_and_prove(&other).await;
    assert_eq!(
        ra_code(&app, &other_id, &issued.code).await.unwrap_err(),
        ErrorCode::NoRaCode
    );
    // Wrong tries are counted; then the right code lets the card update begin.
    let wrong = wrong_code(&issued.code);
    assert_eq!(
        ra_code(&app, &id, &wrong).await.unwrap_err(),
        ErrorCode::CodeInvalid
    );
    ra_code(&app, &id, &issued.code).await.unwrap();
    let sealed = app.update_card(&jane, &id).await;
    jane.change_pin(&sealed, "Jane12");
    assert!(app.complete(&id, Vec::new(), true).await.unwrap().unlocked);
    // Single use: a new attempt cannot use it again.
    let (again, _) = app.start_and_prove(&jane).await;
    assert_eq!(
        ra_code(&app, &again, &issued.code).await.unwrap_err(),
        ErrorCode::NoRaCode
    );

    // Ten minutes, then dead.
    let late: PhoneCode = serde_json::from_value(
        act(&app, &cookie, &other, RaAction::PhoneCode, reason())
            .await
            .unwrap(),
    )
    .unwrap();
    app.clock.advance(601);
    assert_eq!(
        ra_code(&app, &other_id, &late.code).await.unwrap_err(),
        ErrorCode::CodeExpired
    );
    // Three wrong tries, then dead even for the right code.
    let (fresh, _) = app.start_and_prove(&other).await;
    let tries: PhoneCode = serde_json::from_value(
        act(&app, &cookie, &other, RaAction::PhoneCode, reason())
            .await
            .unwrap(),
    )
    .unwrap();
    let wrong = wrong_code(&tries.code);
    for expected in [
        ErrorCode::CodeInvalid,
        ErrorCode::CodeInvalid,
        ErrorCode::CodeTriesExhausted,
    ] {
        assert_eq!(ra_code(&app, &fresh, &wrong).await.unwrap_err(), expected);
    }
    assert_eq!(
        ra_code(&app, &fresh, &tries.code).await.unwrap_err(),
        ErrorCode::CodeTriesExhausted
    );
    let events = app.audit_events(&other).await;
    assert!(events
        .iter()
        .any(|(a, o)| a == "ra.phone_code" && o == "issued"));
}
both!(ra_3_unl_8_a_phone_code_unlocks_once_within_ten_minutes_with_the_users_own_card);

async fn ra_3_contact_details_changed_by_the_ra_tell_both_addresses(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let john = app.enroll(true).await;
    let outside = json!({ "email": "john@gmail.com", "reason": "Caller asked for it" });
    assert_eq!(
        act(&app, &cookie, &john, RaAction::Contact, outside)
            .await
            .unwrap_err(),
        ErrorCode::EmailNotApproved
    );
    let new_email = format!("new.{}", john.email);
    let change =
        json!({ "email": new_email, "mobile": "07700 900123", "reason": "Caller asked for it" });
    act(&app, &cookie, &john, RaAction::Contact, change)
        .await
        .unwrap();
    let subject = "Your Registration Authority changed your smartcard account";
    wait_for_mail(&john.email, subject).await;
    wait_for_mail(&new_email, subject).await;
    let record: UserRecord = get(&app, &user_path(&uuid(&john)), Some(&cookie))
        .await
        .unwrap();
    assert_eq!(record.summary.email, new_email);
    assert_eq!(record.mobile.as_deref(), Some("+447700900123"));
}
both!(ra_3_contact_details_changed_by_the_ra_tell_both_addresses);

async fn ra_4_audit_search_filters_and_verifies_the_chain(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let john = app.enroll(true).await;
    let before = app.clock.now();
    app.clock.advance(100);
    lock_out(&app, &john).await;
    let page = |query: String| {
        let path = format!("{PATH_AUDIT}?{query}");
        let cookie = cookie.clone();
        let app = &app;
        async move { get::<AuditPage>(app, &path, Some(&cookie)).await }
    };
    let all = page(String::new()).await.unwrap();
    assert!(matches!(all.chain, Some(ChainState::Intact { rows }) if rows > 10));
    let closed = page(format!("user={}&outcome=self_service_closed", john.uuid))
        .await
        .unwrap();
    assert!(!closed.events.is_empty());
    assert!(closed
        .events
        .iter()
        .all(|e| e.outcome == "self_service_closed" && e.user_uuid.as_deref() == Some(&john.uuid)));
    let unlock = page(format!(
        "card={}&action=unlock.",
        john.guid.to_hex().to_uppercase()
    ))
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
    let answers = page("action=unlock.answers&client=127.0.0.1".into())
        .await
        .unwrap();
    assert!(answers
        .events
        .iter()
        .all(|e| e.action.as_str() == "unlock.answers"
            && e.client_addr.as_deref() == Some("127.0.0.1")));
    assert_eq!(
        page("client=10.9.9.9".into()).await.unwrap().events.len(),
        0
    );
    let early = page(format!("user={}&to={}", john.uuid, before + 1))
        .await
        .unwrap();
    assert!(early.events.iter().all(|e| e.at <= before));
    assert!(early
        .events
        .iter()
        .any(|e| e.action.as_str() == "card.issue"));
    let late = page(format!("user={}&from={}", john.uuid, before + 100))
        .await
        .unwrap();
    assert!(late.events.iter().all(|e| e.at >= before + 100) && !late.events.is_empty());
    // Paging: newest first, then older.
    let first = page(String::new()).await.unwrap();
    if let Some(next) = first.next_before {
        let older = page(format!("before={next}")).await.unwrap();
        assert!(older.chain.is_none());
        assert!(older.events.iter().all(|e| e.seq < next));
    }
    for bad in [
        "user=abc",
        "card=xyz",
        "action=a%25",
        "client=somewhere",
        "from=yesterday",
    ] {
        assert_eq!(
            page(bad.into()).await.unwrap_err(),
            ErrorCode::BadRequest,
            "{bad}"
        );
    }
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
    let response = app
        .client
        .get(app.url(&format!("{PATH_AUDIT_CSV}?user=770000000001")))
        .header("cookie", &cookie)
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
    let exports: AuditPage = get(
        &app,
        &format!("{PATH_AUDIT}?action=ra.audit_export"),
        Some(&cookie),
    )
    .await
    .unwrap();
    assert_eq!(exports.events.len(), 1);
    assert_eq!(exports.events[0].actor, format!("ra:{}", agent.uuid));
}
both!(ra_4_a_large_trail_exports_as_streamed_csv);

async fn ra_4_ra_5_not_me_reports_are_a_queue_and_the_dashboard_lists_who_is_at_risk(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let jane = app.enroll(false).await;
    let john = app.enroll(true).await;
    // John unlocks twice within 30 days: a repeat lockout.
    for pin in ["First1", "Second2"] {
        let (id, code) = app.up_to_code(&john).await;
        app.finish_unlock(&john, &id, &code, pin).await;
        let notice = wait_for_mail(&john.email, "Your smartcard has been unlocked").await;
        if pin == "Second2" {
            // …and says the second was not him.
            let start = notice.find("/not-me#").unwrap() + "/not-me#".len();
            let token = api_types::values::NotMeToken::parse(&notice[start..start + 64]).unwrap();
            app.send::<api_types::auth::NotMe>(
                "/api/not-me".into(),
                None,
                &api_types::auth::NotMeRequest { token },
            )
            .await
            .unwrap();
        }
        // Lock the card again for the next round.
        let mut piv = card_protocol::client::PivClient::new(john.card.clone());
        piv.select().unwrap();
        for _ in 0..3 {
            let _ = piv.verify_pin(&card_protocol::pin::Pin::parse("9999").unwrap());
        }
    }
    let dashboard: Dashboard = get(&app, PATH_DASHBOARD, Some(&cookie)).await.unwrap();
    assert!(dashboard
        .unverified_email
        .iter()
        .any(|u| u.uuid == jane.uuid));
    assert!(!dashboard
        .unverified_email
        .iter()
        .any(|u| u.uuid == john.uuid));
    let repeat = dashboard
        .repeat_lockouts
        .iter()
        .find(|l| l.user.uuid == john.uuid)
        .unwrap();
    assert_eq!(repeat.lockouts, 2);
    assert_eq!(dashboard.open_reports.len(), 1);
    assert!(dashboard.expiring_certificates.is_empty());
    // Certificates within 30 days of their end show up.
    let record: UserRecord = get(&app, &user_path(&uuid(&jane)), Some(&cookie))
        .await
        .unwrap();
    let ends = record.cards[0].certificate_expires_at.unwrap();
    app.clock.set(ends - 10 * 86_400);
    let (_, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Later")).await;
    let later: Dashboard = get(&app, PATH_DASHBOARD, Some(&cookie)).await.unwrap();
    assert!(later
        .expiring_certificates
        .iter()
        .any(|e| e.user.uuid == jane.uuid && e.expires_at == ends));
    // Lockouts older than 30 days no longer count.
    assert!(!later
        .repeat_lockouts
        .iter()
        .any(|l| l.user.uuid == john.uuid));

    // The queue: John's report; reviewing takes it off, once.
    let reports: api_types::ra::ReportList = get(&app, PATH_REPORTS, Some(&cookie)).await.unwrap();
    assert_eq!(reports.reports.len(), 1);
    let report = &reports.reports[0];
    assert_eq!(
        (report.user.uuid.as_str(), report.notice.as_str()),
        (john.uuid.as_str(), "unlock")
    );
    let review = format!("{PATH_REPORTS}/{}/review", report.id);
    post(&app, &review, Some(&cookie), reason()).await.unwrap();
    assert_eq!(
        post(&app, &review, Some(&cookie), reason())
            .await
            .unwrap_err(),
        ErrorCode::NotFound
    );
    assert_eq!(
        post(
            &app,
            &format!("{PATH_REPORTS}/zz/review"),
            Some(&cookie),
            reason()
        )
        .await
        .unwrap_err(),
        ErrorCode::NotFound
    );
    let after: api_types::ra::ReportList = get(&app, PATH_REPORTS, Some(&cookie)).await.unwrap();
    assert!(after.reports.is_empty());
    let events = trail(&app, &cookie, &john).await;
    assert!(events
        .iter()
        .any(|e| e.1 == "ra.review_report" && e.2 == "reviewed"));
    // Reviewing does not reopen self-service: that is its own decision.
    assert!(app.counters(&john).await.self_service_closed);
}
both!(ra_4_ra_5_not_me_reports_are_a_queue_and_the_dashboard_lists_who_is_at_risk);
