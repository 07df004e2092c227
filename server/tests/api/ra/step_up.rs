//! RA-5 tried as an attacker would: an RA cookie on its own — the RA walked away, or
//! pulled their card — cannot give anyone access once 5 minutes have passed since the
//! RA's card last proved itself; the passcode again on the RA's own card (not another)
//! opens 5 more minutes. And agents act on staff accounts only.

use api_types::ra::{
    ChangeRole, ChangeUserContact, ContactRequest, IssuePhoneCode, Reopen, Role, RoleRequest,
    StopSelfService,
};
use api_types::ErrorCode;
use server::Clock;

use super::{as_ra, because, card_again, reason, signed_in, trail, uuid};
use crate::both;
use crate::helpers::*;

async fn ra_5_giving_access_needs_the_ras_own_card_proven_within_5_minutes(db: Db) {
    let app = TestApp::spawn(db).await;
    let (agent, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let john = app.enroll(true).await;
    // Signing in proved the card: for 5 minutes the cookie is enough.
    as_ra::<IssuePhoneCode>(&app, &cookie, &uuid(&john), &reason())
        .await
        .unwrap();
    app.clock.advance(300);
    let gives_access = [
        as_ra::<IssuePhoneCode>(&app, &cookie, &uuid(&john), &reason())
            .await
            .map(|_| ()),
        as_ra::<Reopen>(&app, &cookie, &uuid(&john), &reason())
            .await
            .map(|_| ()),
        as_ra::<ChangeUserContact>(
            &app,
            &cookie,
            &uuid(&john),
            &ContactRequest {
                email: "elsewhere@nhs.net".into(),
                mobile: None,
                reason: because("Asked on the phone"),
            },
        )
        .await
        .map(|_| ()),
    ];
    for refused in gives_access {
        assert_eq!(refused, Err(ErrorCode::CardProofRequired));
    }
    // Each refusal is in the trail under the RA's name.
    let events = trail(&app, &cookie, &john).await;
    let refusals = events
        .iter()
        .filter(|(actor, _, outcome, _)| {
            actor == &format!("ra:{}", agent.uuid) && outcome == "card_proof_required"
        })
        .count();
    assert_eq!(refusals, 3, "{events:?}");

    // Another card in the reader proves nothing.
    let someone_else = app.enroll_unlocked().await;
    assert_eq!(
        card_again(&app, &cookie, &someone_else).await,
        Err(ErrorCode::CardNotGenuine)
    );
    let until = card_again(&app, &cookie, &agent).await.unwrap();
    assert_eq!(until, app.clock.now() + 300);
    as_ra::<IssuePhoneCode>(&app, &cookie, &uuid(&john), &reason())
        .await
        .unwrap();
    // Stopping self-service takes access away: never held up, in an incident.
    app.clock.advance(301);
    as_ra::<StopSelfService>(&app, &cookie, &uuid(&john), &reason())
        .await
        .unwrap();
}
both!(ra_5_giving_access_needs_the_ras_own_card_proven_within_5_minutes);

async fn ra_5_agents_act_on_staff_accounts_only_managers_on_ras_too(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, agent) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let (other_agent, _) = signed_in(&app, Role::RaAgent, ("Otto", "Agent")).await;
    let (manager_card, manager) = signed_in(&app, Role::RaManager, ("Mo", "Manager")).await;
    let target = uuid(&other_agent);
    let as_agent = [
        as_ra::<IssuePhoneCode>(&app, &agent, &target, &reason())
            .await
            .map(|_| ()),
        as_ra::<StopSelfService>(&app, &agent, &target, &reason())
            .await
            .map(|_| ()),
        as_ra::<Reopen>(&app, &agent, &uuid(&manager_card), &reason())
            .await
            .map(|_| ()),
    ];
    for refused in as_agent {
        assert_eq!(refused, Err(ErrorCode::ManagerRequired));
    }
    as_ra::<IssuePhoneCode>(&app, &manager, &target, &reason())
        .await
        .unwrap();
    let demote = RoleRequest {
        role: Role::Staff,
        reason: because("Left the RA team"),
    };
    as_ra::<ChangeRole>(&app, &manager, &target, &demote)
        .await
        .unwrap();
    // Staff now: the agent may act on them.
    as_ra::<IssuePhoneCode>(&app, &agent, &target, &reason())
        .await
        .unwrap();
}
both!(ra_5_agents_act_on_staff_accounts_only_managers_on_ras_too);
