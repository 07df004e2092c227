//! Demo data (`smartcard-server seed-demo`): a few users with virtual cards and security
//! answers, so a newcomer can click through an unlock and the browser tests have a known
//! start. Re-running resets them.

use std::path::Path;

use card_protocol::pin::Puk;
use rand::rngs::OsRng;
use serde::Serialize;
use sqlx::Row;
use virtual_card::{CreateOptions, VirtualCard};

use crate::store::{enroll, NewCard, NewUser};
use crate::{AppError, AppState};

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

pub async fn seed(state: &AppState, cards_dir: &Path) -> Result<Vec<SeededUser>, AppError> {
    std::fs::create_dir_all(cards_dir)
        .map_err(|e| AppError::Internal(format!("cannot create {}: {e}", cards_dir.display())))?;
    let mut seeded = Vec::new();
    for demo in USERS {
        let puk = Puk::generate(&mut OsRng);
        let puk_text: String = puk.as_bytes().iter().map(|b| char::from(*b)).collect();
        let file = cards_dir.join(format!("{}.json", demo.slug));
        let card = VirtualCard::create_file(
            &file,
            &CreateOptions {
                pin: DEMO_PIN.into(),
                puk: puk_text.clone(),
                guid: None,
                locked: demo.locked,
            },
        )
        .map_err(|e| AppError::Internal(format!("creating {}: {e}", file.display())))?;
        let guid = hex::encode(card.guid());
        enroll(
            &state.pool,
            &state.kek,
            &state.hasher,
            state.clock.now(),
            &demo.user,
            demo.answers,
            &NewCard {
                guid: &guid,
                card_auth_public_key: &card.card_auth_public_key_sec1(),
                puk: &puk_text,
            },
        )
        .await?;
        let mut answers = std::collections::BTreeMap::new();
        for (question, answer) in demo.answers {
            let row = sqlx::query("SELECT text FROM security_questions WHERE id = $1")
                .bind(*question)
                .fetch_one(&state.pool)
                .await?;
            answers.insert(row.try_get::<String, _>(0)?, (*answer).to_owned());
        }
        let user = &demo.user;
        seeded.push(SeededUser {
            name: format!("{} {} {}", user.title, user.given_name, user.family_name),
            uuid: user.uuid.into(),
            email: user.email.into(),
            role: user.role.into(),
            registered: user.registered,
            card_file: file.display().to_string(),
            card_guid: guid,
            card_locked: demo.locked,
            answers,
        });
    }
    Ok(seeded)
}
