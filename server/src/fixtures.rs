//! Values the unit tests of every flow's `decide` share: a user, a sender, a pepper.

#![allow(clippy::unwrap_used)]

use api_types::ra::UserUuid;
use api_types::{AttemptId, CardGuid};

use crate::flow::{Outcome, Write};
use crate::mail::templates::Sender;
use crate::secrets::CodePepper;
use crate::store::attempts::Attempt;
use crate::store::cards::Card;
use crate::store::users::{UnlockCounters, User};

pub(crate) const SENDER: Sender<'static> = Sender {
    organisation: "Org",
    ra_help: "Call the RA.",
};

/// A UUID the test writes out.
pub(crate) fn uuid(text: &str) -> UserUuid {
    UserUuid::parse(text).unwrap()
}

/// John Rigby's UUID.
pub(crate) fn john_uuid() -> UserUuid {
    uuid("555555555501")
}

/// John Rigby, registered, staff, nothing counted against him.
pub(crate) fn john() -> User {
    User {
        uuid: john_uuid(),
        display_name: "Mr John Rigby".into(),
        email: "john.rigby@nhs.net".into(),
        registered: true,
        counters: UnlockCounters::default(),
        question_ids: vec![],
        mobile: None,
        family_name: "Rigby".into(),
        role: api_types::ra::Role::Staff,
        passcodes_set_at: None,
        passcodes_unlocked_at: None,
    }
}

pub(crate) fn pepper() -> CodePepper {
    CodePepper::new(&[6; 32]).unwrap()
}

/// John's attempt on card `02…02`, begun at 1000, in `state`.
pub(crate) fn attempt(state: crate::store::attempts::AttemptState) -> Attempt {
    Attempt {
        id: AttemptId::from_bytes([1; 16]),
        card_guid: CardGuid::from_bytes([2; 16]),
        user_uuid: john_uuid(),
        state,
        challenge: [0; 32],
        created_at: 1000,
        expires_at: 1000 + 1800,
        question_ids: vec![],
        code: None,
        code_failures: 0,
        card_updated: false,
        completed_at: None,
        flow_hash: None,
        channel: None,
        route: api_types::recovery::UnlockRoute::Questions,
        delivery: None,
    }
}

/// The attempt an outcome writes (the tests' question: "what state did it leave?").
pub(crate) fn written_attempt<T>(outcome: &Outcome<T>) -> &Attempt {
    outcome
        .writes()
        .iter()
        .find_map(|w| match w {
            Write::Attempt(a) => Some(a),
            _ => None,
        })
        .unwrap()
}

/// John's card `02…02`, with no keys or secrets.
pub(crate) fn card() -> Card {
    Card {
        guid: CardGuid::from_bytes([2; 16]),
        user_uuid: john_uuid(),
        card_auth_public_key: vec![],
        puk_enc: vec![],
        puk_next_enc: None,
        scp03_keys_enc: None,
        scp03_key_version: None,
    }
}

/// John's renewal of his card, open, begun at `0` and with no channel.
pub(crate) fn renewal() -> crate::store::renewals::Renewal {
    crate::store::renewals::Renewal {
        id: api_types::values::RenewalId::from_bytes([4; 16]),
        card_guid: card().guid,
        user_uuid: john_uuid(),
        state: crate::store::renewals::RenewalState::Open,
        channel: None,
        created_at: 0,
        expires_at: 900,
        finished_at: None,
        by_ra: None,
        recovery: None,
    }
}

/// Whom an outcome's mail goes to, in order.
pub(crate) fn mailed_to<T>(outcome: &Outcome<T>) -> Vec<&str> {
    outcome
        .writes()
        .iter()
        .filter_map(|w| match w {
            Write::Mail(m) => Some(m.to.as_str()),
            _ => None,
        })
        .collect()
}
