//! RA-2: find a user by UUID (exact) or the start of a name — case, accents and LIKE
//! wildcards as plain characters — a page at a time; and the user's page.

use api_types::ra::{Role, SearchUsers, UserList, UserQuery, UserUuid, ViewUser};
use api_types::{Endpoint, ErrorCode};

use super::{as_ra, get_refused, signed_in, uuid};
use crate::both;
use crate::helpers::*;

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
    let search = |q: &str, page: u32| {
        let query = UserQuery {
            q: q.to_owned(),
            page,
        };
        let (app, cookie) = (&app, &cookie);
        async move {
            as_ra::<SearchUsers>(app, cookie, &(), &query)
                .await
                .unwrap()
        }
    };
    for q in ["bronte", "BRONTË", "zoe", "zoe bro", "brontë z"] {
        let found: UserList = search(q, 0).await;
        assert_eq!(found.users.len(), 1, "{q}");
        assert_eq!(found.users[0].uuid.as_str(), zoe.uuid);
        assert_eq!(found.users[0].display_name, "Mr Zoë Brontë");
    }
    let exact = search(&zoe.uuid, 0).await;
    assert_eq!(exact.users[0].uuid.as_str(), zoe.uuid);
    // A UUID is exact: its start finds nothing.
    let partial = search(&zoe.uuid[..6], 0).await;
    assert!(partial.users.is_empty());
    // LIKE wildcards are just characters that no name key holds.
    for q in ["%", "_", "%%", " "] {
        let none = search(q, 0).await;
        assert!(none.users.is_empty(), "{q:?}");
    }
    let wild = search("qu%l", 0).await;
    assert!(wild.users.is_empty(), "% is no wildcard");
    let first = search("quill", 0).await;
    let second = search("quill", 1).await;
    assert_eq!((first.users.len(), first.has_more), (20, true));
    assert_eq!((second.users.len(), second.has_more), (1, false));
    let mut all: Vec<String> = first
        .users
        .iter()
        .chain(&second.users)
        .map(|u| u.uuid.as_str().to_owned())
        .collect();
    all.dedup();
    assert_eq!(all.len(), 21);
    // A page that is not a number: no typed query can say it.
    let bad_page = format!("{}?page=x", SearchUsers::ROUTE);
    assert_eq!(
        get_refused(&app, &bad_page, &cookie).await,
        ErrorCode::BadRequest
    );

    // RA-2: the user's page.
    let record = as_ra::<ViewUser>(&app, &cookie, &uuid(&zoe), &())
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
    // Not a UUID: no typed path can hold it.
    let short = ViewUser::ROUTE.replace("{uuid}", "123");
    assert_eq!(
        get_refused(&app, &short, &cookie).await,
        ErrorCode::NotFound
    );
    let nobody = UserUuid::parse("999999999999").unwrap();
    assert_eq!(
        as_ra::<ViewUser>(&app, &cookie, &nobody, &())
            .await
            .unwrap_err(),
        ErrorCode::NotFound
    );
}
both!(ra_2_find_by_uuid_and_by_name_prefix_ignoring_case_and_accents);

// RA-2: a card's PIN tries as last seen — what it last reported (an unlock, a wrong
// passcode), or all of them at its latest sign-in, whichever is newer.
async fn ra_2_a_sign_in_shows_the_card_with_all_its_pin_tries_as_of_then(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let john = app.enroll_unlocked().await;
    let mut conn = app.state.store.pool.acquire().await.unwrap();
    let reported = server::Clock::now(&*app.clock);
    server::store::ra::set_pin_tries(&mut conn, &john.guid, 1, reported)
        .await
        .unwrap();
    drop(conn);
    let tries = |record: api_types::ra::UserRecord| {
        (
            record.cards[0].pin_tries_left,
            record.cards[0].pin_tries_seen_at,
        )
    };
    let record = as_ra::<ViewUser>(&app, &cookie, &uuid(&john), &())
        .await
        .unwrap();
    assert_eq!(tries(record), (Some(1), Some(reported)));
    app.clock.advance(60);
    crate::auth::login(&app, &john).await.unwrap();
    let record = as_ra::<ViewUser>(&app, &cookie, &uuid(&john), &())
        .await
        .unwrap();
    assert_eq!(tries(record), (Some(3), Some(reported + 60)));
}
both!(ra_2_a_sign_in_shows_the_card_with_all_its_pin_tries_as_of_then);

// RA-4 / ALL-5 (issue 17, item 11): who searched for whom is in the trail, and an RA's
// console calls — reads included — count against the RA's own budget, so a stolen
// session cannot page through every user at will.
async fn ra_4_searches_are_audited_and_an_ras_calls_are_limited(db: Db) {
    let app = TestApp::spawn_with(db, |s| s.rate_limit_per_ra = 4).await;
    let (_, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let query = UserQuery {
        q: "rigby".into(),
        page: 0,
    };
    for _ in 0..4 {
        as_ra::<SearchUsers>(&app, &cookie, &(), &query)
            .await
            .unwrap();
    }
    let searches = app.anonymous_events().await;
    let by_ann = searches
        .iter()
        .filter(|(action, outcome, detail)| {
            action == "ra.search" && outcome == "ok" && detail == "\"rigby\", page 0"
        })
        .count();
    assert_eq!(by_ann, 4, "{searches:?}");
    let refused = as_ra::<SearchUsers>(&app, &cookie, &(), &query).await;
    assert_eq!(refused.unwrap_err(), ErrorCode::RateLimited);
    let john = app.enroll(true).await;
    let refused = as_ra::<ViewUser>(&app, &cookie, &uuid(&john), &()).await;
    assert_eq!(refused.unwrap_err(), ErrorCode::RateLimited);
    // Another RA's budget is their own.
    let (_, other) = signed_in(&app, Role::RaAgent, ("Otto", "Agent")).await;
    as_ra::<SearchUsers>(&app, &other, &(), &query)
        .await
        .unwrap();
}
both!(ra_4_searches_are_audited_and_an_ras_calls_are_limited);
