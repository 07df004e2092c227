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
use server::store::answers;
use server::store::enroll::{enroll, Enrolment};
use server::store::users::NewUser;
use server::AppState;
use virtual_card::{CreateOptions, VirtualCard};

/// The demo PIN of the cards that are not locked.
pub const DEMO_PIN: &str = "1234";

struct DemoUser {
    slug: &'static str,
    user: NewUser<'static>,
    answers: &'static [(i64, &'static str)],
    locked: bool,
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
    },
];

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
    /// Question text → answer.
    pub answers: std::collections::BTreeMap<String, String>,
}

pub async fn seed(state: &AppState, cards_dir: &Path) -> anyhow::Result<Vec<SeededUser>> {
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
        enroll(
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
        .await?;
        // CERT-1: every demo card is issued as a real one would be, through the secure
        // channel (the card saves its new keys and certificates to its file).
        state
            .issue_card(card.clone(), &guid)
            .await
            .with_context(|| format!("issuing {}", file.display()))?;
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
            answers,
        });
    }
    Ok(seeded)
}
