//! Demo data (`seed-demo`): a few users with virtual cards and security answers, so a
//! newcomer can click through an unlock and the browser tests have a known start.
//! Re-running resets them. A crate of its own so the production server never links the
//! virtual card.

use std::path::Path;

use anyhow::Context;
use api_types::CardGuid;
use card_protocol::pin::Puk;
use rand::rngs::OsRng;
use serde::Serialize;
use server::ca::CARD_LIFETIME_DAYS;
use server::store::enroll::{enroll, Enrolment};
use server::store::users::NewUser;
use server::store::{answers, passcodes};
use server::{AppState, Clock, TestClock};
use virtual_card::{CreateOptions, VirtualCard};

const DAY: i64 = 24 * 60 * 60;

/// The demo PIN of the cards that are not locked.
pub const DEMO_PIN: &str = "1234";

struct DemoUser {
    slug: &'static str,
    user: NewUser<'static>,
    answers: &'static [(i64, &'static str)],
    locked: bool,
    /// CERT-2: the card's certificates end this many days from now (issued through the
    /// CA with the clock moved back); none: issued today, for three years.
    certificate_ends_in_days: Option<i64>,
    /// PASS-4: the passcodes were set this many days ago (enrolled with the clock moved
    /// back); none: today.
    passcodes_set_days_ago: Option<i64>,
    /// PASS-5: a Verification Passcode for the helpdesk to check.
    verification_passcode: Option<&'static str>,
    /// SCSC-1: an Account Recovery Passcode, for the Smartcard Service Centre's unlock.
    recovery_passcode: Option<&'static str>,
    /// SCSC-2 / POL-3: a mobile on the profile, for the code by text.
    mobile: Option<&'static str>,
}

const USERS: &[DemoUser] = &[
    DemoUser {
        slug: "john-rigby",
        user: NewUser {
            uuid: "555555555501",
            title: "Mr",
            given_name: "John",
            family_name: "Rigby",
            email: "john.rigby@nhs.net",
            role: "staff",
            registered: true,
        },
        answers: &[
            (1, "Smith"),
            (2, "Birmingham"),
            (3, "Ford Fiesta"),
            (5, "Rex"),
        ],
        locked: true,
        certificate_ends_in_days: None,
        passcodes_set_days_ago: None,
        verification_passcode: None,
        recovery_passcode: Some("Recovery pass 1"),
        mobile: Some("+447700900123"),
    },
    DemoUser {
        slug: "jane-doe",
        user: NewUser {
            uuid: "555555555502",
            title: "Ms",
            given_name: "Jane",
            family_name: "Doe",
            email: "jane.doe@nhs.net",
            role: "staff",
            registered: false,
        },
        answers: &[],
        locked: true,
        certificate_ends_in_days: None,
        passcodes_set_days_ago: None,
        verification_passcode: None,
        // SCSC: not registered for the questions, but the Service Centre can unlock her.
        recovery_passcode: Some("Recovery pass 2"),
        mobile: Some("+447700900456"),
    },
    DemoUser {
        slug: "ravi-patel",
        user: NewUser {
            uuid: "555555555503",
            title: "Mr",
            given_name: "Ravi",
            family_name: "Patel",
            email: "ravi.patel@nhs.net",
            role: "ra_agent",
            registered: false,
        },
        answers: &[],
        locked: false,
        certificate_ends_in_days: None,
        passcodes_set_days_ago: None,
        verification_passcode: None,
        recovery_passcode: None,
        mobile: None,
    },
    DemoUser {
        slug: "grace-okafor",
        user: NewUser {
            uuid: "555555555504",
            title: "Mrs",
            given_name: "Grace",
            family_name: "Okafor",
            email: "grace.okafor@nhs.net",
            role: "ra_manager",
            registered: false,
        },
        answers: &[],
        locked: false,
        certificate_ends_in_days: None,
        passcodes_set_days_ago: None,
        verification_passcode: None,
        recovery_passcode: None,
        mobile: None,
    },
    // CERT-2 / CERT-3: a reminder a day from now on; renewal forced at sign-in; expired.
    renewing(
        "amira-khan",
        "555555555505",
        ("Ms", "Amira", "Khan"),
        "amira.khan@nhs.net",
        25,
    ),
    renewing(
        "tom-hughes",
        "555555555506",
        ("Mr", "Tom", "Hughes"),
        "tom.hughes@nhs.net",
        15,
    ),
    renewing(
        "lucy-evans",
        "555555555507",
        ("Dr", "Lucy", "Evans"),
        "lucy.evans@nhs.net",
        -3,
    ),
    // PASS-5: a helpdesk agent, who checks callers' Verification Passcodes.
    DemoUser {
        slug: "hana-ito",
        user: NewUser {
            uuid: "555555555511",
            title: "Ms",
            given_name: "Hana",
            family_name: "Ito",
            email: "hana.ito@nhs.net",
            role: "helpdesk",
            registered: false,
        },
        answers: &[],
        locked: false,
        certificate_ends_in_days: None,
        passcodes_set_days_ago: None,
        verification_passcode: None,
        recovery_passcode: None,
        mobile: None,
    },
    // PASS-4: passcodes 10 days from expiry (reminded, may decline), expired 5 days ago
    // (sign-in leads to Manage Passcodes), expired 25 days ago (locked: the RA's).
    aging(
        "priya-shah",
        "555555555508",
        ("Ms", "Priya", "Shah"),
        "priya.shah@nhs.net",
        355,
    ),
    aging(
        "sam-wood",
        "555555555509",
        ("Mr", "Sam", "Wood"),
        "sam.wood@nhs.net",
        370,
    ),
    aging(
        "helen-price",
        "555555555510",
        ("Mrs", "Helen", "Price"),
        "helen.price@nhs.net",
        390,
    ),
];

/// A registered member of staff with an unlocked card whose certificates end in `days`.
const fn renewing(
    slug: &'static str,
    uuid: &'static str,
    (title, given_name, family_name): (&'static str, &'static str, &'static str),
    email: &'static str,
    days: i64,
) -> DemoUser {
    DemoUser {
        slug,
        user: NewUser {
            uuid,
            title,
            given_name,
            family_name,
            email,
            role: "staff",
            registered: false,
        },
        answers: &[],
        locked: false,
        certificate_ends_in_days: Some(days),
        passcodes_set_days_ago: None,
        verification_passcode: None,
        recovery_passcode: None,
        mobile: None,
    }
}

/// A registered member of staff with an unlocked card whose passcodes were set `days`
/// ago (PASS-4).
const fn aging(
    slug: &'static str,
    uuid: &'static str,
    (title, given_name, family_name): (&'static str, &'static str, &'static str),
    email: &'static str,
    days: i64,
) -> DemoUser {
    DemoUser {
        certificate_ends_in_days: None,
        passcodes_set_days_ago: Some(days),
        // PASS-5: what the helpdesk demo checks.
        verification_passcode: Some("Verify pass 1"),
        ..renewing(slug, uuid, (title, given_name, family_name), email, 0)
    }
}

/// PASS-5 / SCSC-1: a server-side passcode of the user's, hashed as an Update would.
async fn set_passcode(
    state: &AppState,
    uuid: &str,
    kind: api_types::passcodes::PasscodeKind,
    passcode: &str,
) -> anyhow::Result<()> {
    let user = api_types::ra::UserUuid::parse(uuid).context("a demo UUID")?;
    let new = passcodes::NewPasscode {
        hash: state.passcodes.hash(passcode)?,
        keyed: server::store::attempts::HexBytes(state.passcodes.keyed(
            uuid,
            kind.as_str(),
            passcode,
        )?),
    };
    let mut conn = state.store.pool.acquire().await?;
    passcodes::set(&mut conn, &user, kind, &new, state.clock.now()).await?;
    Ok(())
}

#[derive(Serialize)]
pub struct SeededUser {
    pub name: String,
    pub uuid: String,
    pub email: String,
    pub role: String,
    pub registered: bool,
    pub card_file: String,
    pub card_guid: String,
    pub card_locked: bool,
    /// When the card's login certificate ends, Unix seconds.
    pub certificate_not_after: i64,
    /// Question text → answer.
    pub answers: std::collections::BTreeMap<String, String>,
    /// SCSC-1: the Account Recovery Passcode, if the user has one.
    pub recovery_passcode: Option<String>,
    /// SCSC-2: the mobile on the profile (E.164), if any.
    pub mobile: Option<String>,
}

/// Seeds every demo user. `clock` is the state's own: it is moved back while a card whose
/// certificates should end soon is issued, so the CA issues them as it did back then.
pub async fn seed(
    state: &AppState,
    clock: &TestClock,
    cards_dir: &Path,
) -> anyhow::Result<Vec<SeededUser>> {
    let today = clock.now();
    std::fs::create_dir_all(cards_dir)
        .with_context(|| format!("cannot create {}", cards_dir.display()))?;
    let mut seeded = Vec::new();
    for demo in USERS {
        let puk = Puk::generate(&mut OsRng);
        let puk_text: String = puk.as_bytes().iter().map(|b| char::from(*b)).collect();
        let file = cards_dir.join(format!("{}.json", demo.slug));
        let card = VirtualCard::create_file(
            &file,
            &CreateOptions {
                pin: DEMO_PIN.into(),
                puk: puk_text,
                guid: None,
                locked: demo.locked,
            },
        )
        .with_context(|| format!("creating {}", file.display()))?;
        let guid = CardGuid::from_bytes(card.guid());
        let channel_keys = card.scp03_keys();
        let card = virtual_card::SharedCard::new(card);
        if let Some(days) = demo.passcodes_set_days_ago {
            clock.set(today - days * DAY);
        }
        let enrolled = enroll(
            &state.store,
            &state.kek,
            &state.hasher,
            state.clock.now(),
            &Enrolment {
                user: demo.user.clone(),
                answers: demo.answers,
                card_guid: guid,
                // Issuance (below) has the card generate its keys.
                card_auth_public_key: Vec::new(),
                puk,
                channel_keys,
                channel_key_version: virtual_card::SCP03_KEY_VERSION,
            },
        )
        .await;
        clock.set(today);
        enrolled?;
        use api_types::passcodes::PasscodeKind;
        if let Some(passcode) = demo.verification_passcode {
            set_passcode(state, demo.user.uuid, PasscodeKind::Verification, passcode).await?;
        }
        if let Some(passcode) = demo.recovery_passcode {
            set_passcode(
                state,
                demo.user.uuid,
                PasscodeKind::AccountRecovery,
                passcode,
            )
            .await?;
        }
        if demo.mobile.is_some() {
            let uuid = api_types::ra::UserUuid::parse(demo.user.uuid).context("a demo UUID")?;
            let mut conn = state.store.pool.acquire().await?;
            let email = demo.user.email;
            server::store::users::set_contact(&mut conn, &uuid, email, demo.mobile).await?;
        }
        // CERT-1: every demo card is issued as a real one would be, through the secure
        // channel (the card saves its new keys and certificates to its file).
        if let Some(days) = demo.certificate_ends_in_days {
            clock.set(today + days * DAY - CARD_LIFETIME_DAYS as i64 * DAY);
        }
        let issued = state.issue_card(card.clone(), &guid).await;
        clock.set(today);
        let issued = issued.with_context(|| format!("issuing {}", file.display()))?;
        let mut conn = state.store.pool.acquire().await?;
        let mut answers = std::collections::BTreeMap::new();
        for (question, answer) in demo.answers {
            let text = answers::question_text(&mut conn, *question).await?;
            answers.insert(text, (*answer).to_owned());
        }
        let user = &demo.user;
        seeded.push(SeededUser {
            name: format!("{} {} {}", user.title, user.given_name, user.family_name),
            uuid: user.uuid.into(),
            email: user.email.into(),
            role: user.role.into(),
            registered: user.registered,
            card_file: file.display().to_string(),
            card_guid: guid.to_hex(),
            card_locked: demo.locked,
            certificate_not_after: issued.piv_auth.not_after,
            answers,
            recovery_passcode: demo.recovery_passcode.map(String::from),
            mobile: demo.mobile.map(String::from),
        });
    }
    Ok(seeded)
}
