//! RA-2: find users by UUID (exact) or name (prefix, case- and accent-insensitive), a
//! page at a time; and one user's record — cards, registration, locks, contact details,
//! the live phone code and their security events. Opening a record is itself audited
//! (`ra.view_user`): who looked at whose account is part of the trail.

use api_types::audit::AuditAction;
use api_types::passcodes::{PasscodeExpiry, PasscodesDue};
use api_types::policy::Policy;
use api_types::ra::{
    CardRecord, Locks, PhoneCodeState, UserList, UserQuery, UserRecord, UserUuid, EVENTS_PER_PAGE,
    USERS_PER_PAGE,
};
use api_types::CardGuid;

use super::{summary, Needs};
use crate::flow::codes::{CodeKind, HeldCode};
use crate::flow::lockout::{recovery_open, MAX_ANSWER_FAILURES};
use crate::flow::session::passcodes_due;
use crate::flow::{Client, Outcome, Subject};
use crate::secrets::FlowSecret;
use crate::store::audit_search::{self, Event, Filter};
use crate::store::phone_codes::{self, PhoneCode};
use crate::store::ra::{self, CardListing, Listed, Search};
use crate::store::users::{self, User};
use crate::store::{not_me, StoreError};
use crate::{AppError, AppState};

const VIEW: AuditAction = AuditAction::RaViewUser;
const SEARCH: AuditAction = AuditAction::RaSearch;
/// Deeper than this, narrow the search instead.
const MAX_PAGE: u32 = 500;

impl AppState {
    pub async fn ra_search(
        &self,
        secret: Option<&FlowSecret>,
        query: UserQuery,
        client: &Client,
    ) -> Result<UserList, AppError> {
        let ra = self.ra_actor(secret, client, Needs::Agent).await?;
        let page = query.page.min(MAX_PAGE);
        let typed = query.q.trim();
        // RA-4: who searched for whom is in the trail.
        let searched = Outcome::new(SEARCH, Subject::anonymous())
            .by(ra.name())
            .detail(format!("{typed:?}, page {page}"))
            .ok("ok", ());
        let (now, tx) = self.open().await?;
        self.finish(tx, now, client, searched).await?;
        let key = users::name_key(typed);
        let search = match UserUuid::parse(typed) {
            Ok(uuid) => Search::Uuid(uuid),
            Err(_) if key.is_empty() => {
                return Ok(UserList {
                    users: Vec::new(),
                    page,
                    has_more: false,
                })
            }
            Err(_) => Search::NamePrefix(&key),
        };
        let per_page = i64::from(USERS_PER_PAGE);
        let mut conn = self.store.pool.acquire().await.map_err(StoreError::from)?;
        let mut found =
            ra::search(&mut conn, &search, per_page + 1, per_page * i64::from(page)).await?;
        let has_more = found.len() as i64 > per_page;
        found.truncate(USERS_PER_PAGE as usize);
        Ok(UserList {
            users: found.into_iter().map(summary).collect::<Result<_, _>>()?,
            page,
            has_more,
        })
    }

    pub async fn ra_user(
        &self,
        secret: Option<&FlowSecret>,
        uuid: &UserUuid,
        client: &Client,
    ) -> Result<UserRecord, AppError> {
        let ra = self.ra_actor(secret, client, Needs::Agent).await?;
        let (now, mut tx) = self.open().await?;
        let found = match (
            ra::listed(&mut tx, uuid).await?,
            users::find(&mut tx, uuid).await?,
        ) {
            (Some(listed), Some(user)) => Some(Loaded {
                listed,
                user,
                cards: ra::cards_of(&mut tx, uuid).await?,
                open_reports: not_me::open_count_for_user(&mut tx, uuid).await?,
                phone_code: phone_codes::find(&mut tx, uuid).await?,
                events: audit_search::page(
                    &mut tx,
                    &Filter {
                        user: Some(uuid.clone()),
                        ..Filter::default()
                    },
                    i64::from(EVENTS_PER_PAGE),
                )
                .await?,
            }),
            _ => None,
        };
        let outcome = Outcome::new(VIEW, Subject::user(uuid)).by(ra.name());
        let code_limit = i64::from(self.settings.max_code_failures_per_day);
        let outcome = match found {
            Some(loaded) => match decide_record(
                loaded,
                (
                    code_limit,
                    self.settings.policy,
                    self.settings.passcode_expiry,
                ),
                now,
            ) {
                Ok(record) => outcome.ok("ok", record),
                Err(corrupt) => outcome.refuse(corrupt),
            },
            None => outcome.refuse(AppError::NotFound),
        };
        self.finish(tx, now, client, outcome).await
    }
}

/// What the RA's view of one user reads.
struct Loaded {
    listed: Listed,
    user: User,
    cards: Vec<CardListing>,
    open_reports: i64,
    phone_code: Option<PhoneCode>,
    events: Vec<Event>,
}

/// RA-2: the user's record as the RA sees it at `now`: which locks hold, and the phone
/// code only while it still works.
fn decide_record(
    loaded: Loaded,
    (code_limit, policy, expiry): (i64, Policy, PasscodeExpiry),
    now: i64,
) -> Result<UserRecord, AppError> {
    let Loaded {
        listed,
        user,
        cards,
        open_reports,
        phone_code,
        events,
    } = loaded;
    let counters = user.counters;
    let closed = counters.self_service_closed;
    let passcodes_locked = matches!(
        passcodes_due(expiry, &user, now),
        PasscodesDue::Locked { .. }
    );
    let kind = CodeKind::RaPhone;
    Ok(UserRecord {
        summary: summary(listed)?,
        mobile: user.mobile,
        locks: Locks {
            self_service_closed: closed,
            questions_locked: closed && counters.answer_failures >= MAX_ANSWER_FAILURES,
            code_locked: closed && counters.code_failures >= code_limit,
            open_reports: u32::try_from(open_reports).unwrap_or(u32::MAX),
            answer_failures: u32::try_from(counters.answer_failures).unwrap_or(0),
            code_failures: u32::try_from(counters.code_failures).unwrap_or(0),
            passcodes_locked,
            recovery_locked: !recovery_open(counters),
        },
        cards: cards
            .into_iter()
            .map(|card| {
                let pin_tries = pin_tries_as_last_seen(&card);
                Ok(CardRecord {
                    guid: CardGuid::parse(&card.guid).map_err(|_| StoreError::Corrupt {
                        table: "cards",
                        column: "guid",
                    })?,
                    issued_at: card.created_at,
                    certificate_expires_at: card.certificate_expires_at,
                    pin_tries_left: pin_tries.0,
                    pin_tries_seen_at: pin_tries.1,
                    renewals_in_a_row: card.renewals_in_a_row,
                    renewal: policy.renewal_due(
                        card.certificate_expires_at,
                        card.renewals_in_a_row,
                        now,
                    ),
                })
            })
            .collect::<Result<_, AppError>>()?,
        phone_code: phone_code.and_then(|code| {
            let held = HeldCode::phone(&code);
            held.live(kind, now).then(|| PhoneCodeState {
                issued_at: code.issued_at,
                expires_at: code.expires_at,
                tries_left: held.tries_left(kind),
            })
        }),
        events: events
            .into_iter()
            .map(Event::into_record)
            .collect::<Result<_, _>>()?,
    })
}

/// RA-2: the card's PIN tries as last seen, and when: what it last reported (an unlock),
/// or all of them at its latest sign-in, whichever came later (a report of the same
/// second wins: it may be a wrong PIN typed since).
fn pin_tries_as_last_seen(card: &CardListing) -> (Option<u8>, Option<i64>) {
    let reported = (
        card.pin_tries_left.and_then(|t| u8::try_from(t).ok()),
        card.pin_tries_seen_at,
    );
    match (card.signed_in_at, card.pin_tries_seen_at) {
        (Some(signed_in), Some(seen)) if signed_in <= seen => reported,
        (Some(signed_in), _) => (Some(card_protocol::piv::PIN_TRIES), Some(signed_in)),
        (None, _) => reported,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(reported: Option<(i64, i64)>, signed_in_at: Option<i64>) -> CardListing {
        CardListing {
            guid: "09".repeat(16),
            created_at: 0,
            pin_tries_left: reported.map(|r| r.0),
            pin_tries_seen_at: reported.map(|r| r.1),
            signed_in_at,
            certificate_expires_at: None,
            renewals_in_a_row: 0,
        }
    }

    #[test]
    fn ra_2_pin_tries_are_the_latest_of_a_report_and_a_sign_in() {
        assert_eq!(pin_tries_as_last_seen(&card(None, None)), (None, None));
        assert_eq!(
            pin_tries_as_last_seen(&card(None, Some(50))),
            (Some(3), Some(50))
        );
        assert_eq!(
            pin_tries_as_last_seen(&card(Some((1, 40)), None)),
            (Some(1), Some(40))
        );
        // Signed in since the card reported one try left: all three again.
        assert_eq!(
            pin_tries_as_last_seen(&card(Some((1, 40)), Some(50))),
            (Some(3), Some(50))
        );
        // A report after the sign-in (or in the same second) is the newer word.
        assert_eq!(
            pin_tries_as_last_seen(&card(Some((0, 60)), Some(50))),
            (Some(0), Some(60))
        );
        assert_eq!(
            pin_tries_as_last_seen(&card(Some((2, 50)), Some(50))),
            (Some(2), Some(50))
        );
    }
}
