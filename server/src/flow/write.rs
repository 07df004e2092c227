//! What a step decided to change ([`Write`]), and how one change is applied: by
//! [`AppState::finish`](crate::AppState::finish), each in the step's transaction.

use api_types::contact::{EmailAddress, UkMobile};
use api_types::ra::UserUuid;
use api_types::values::PasscodeUpdateId;
use api_types::CardGuid;
use card_protocol::KeySlot;

use super::login_challenge::Spent;
use crate::ca::Issued;
use crate::mail::templates::Mail;
use crate::mail::texts::Text;
use crate::store::attempts::{self, Attempt};
use crate::store::certificates::{self, NewCardCertificate, SUPERSEDED};
use crate::store::not_me::{self, NotMeLink};
use crate::store::passcodes::{self, HashedChange, HashedChanges, PasscodeUpdate};
use crate::store::phone_codes::{self, PhoneCode};
use crate::store::registrations::{self, HashedAnswer, Registration};
use crate::store::renewals::{self, PendingCertificate, Renewal};
use crate::store::sessions::{self, Session};
use crate::store::users::{self, UnlockCounters};
use crate::store::{cards, outbox, ra, spent_logins};
use crate::AppError;
use sqlx::AnyConnection;

/// One state change a step decided on, applied by [`AppState::finish`].
#[derive(Debug)]
pub(crate) enum Write {
    NewAttempt(Attempt),
    Attempt(Attempt),
    /// UNL-4 counters, compare-and-set from `before`.
    UnlockCounters {
        user_uuid: UserUuid,
        before: UnlockCounters,
        after: UnlockCounters,
    },
    /// UNL-3: the questions this user's attempts ask until an unlock succeeds (none:
    /// choose afresh next time).
    UnlockQuestions {
        user_uuid: UserUuid,
        question_ids: Vec<i64>,
    },
    /// CARD-3: a PUK about to be sent to the card, sealed.
    PendingPuk {
        card: CardGuid,
        sealed: Vec<u8>,
    },
    /// The card took the pending PUK; `sealed` is it sealed for the current-PUK column.
    AdoptPendingPuk {
        card: CardGuid,
        sealed: Vec<u8>,
    },
    /// The card kept its PUK.
    DropPendingPuk(CardGuid),
    Mail(Mail),
    /// SMS-1: a text message, queued with the mail.
    Text(Text),
    /// AUTH-1: a login challenge is used up, whatever the signature said. Refused as
    /// `login_expired` if another request spent it first.
    UseLoginChallenge(Spent),
    /// AUTH-1 / AUTH-2: a sign-in — its challenge spent (as [`Write::UseLoginChallenge`])
    /// and its session, which is also the card seen with all its PIN tries (RA-2). A
    /// step's one write, with its audit link
    /// ([`AppState::finish_sign_in`](crate::AppState::finish_sign_in)).
    SignedIn {
        challenge: Spent,
        session: Session,
    },
    /// AUTH-2: a request was served: the idle clock starts again.
    TouchSession(Vec<u8>),
    /// RA-5: the session's card proved itself again.
    CardProven(Vec<u8>),
    /// AUTH-2: logout, or a session found expired.
    EndSession(Vec<u8>),
    /// REG-1: a registration begun.
    NewRegistration(Registration),
    /// A registration moved one step.
    Registration(Registration),
    /// A "this wasn't me" link sent in a notice.
    NotMeLink(NotMeLink),
    /// The link was used: the report is recorded.
    NotMeReported(Vec<u8>),
    /// REG-5: the user's new email and mobile.
    Contact {
        user_uuid: UserUuid,
        email: EmailAddress,
        mobile: Option<UkMobile>,
    },
    /// REG-4: the confirmed answers and email become the user's.
    ApplyRegistration {
        user_uuid: UserUuid,
        email: String,
        answers: Vec<HashedAnswer>,
    },
    /// RA-3: a phone code issued, replacing any earlier one.
    NewPhoneCode(PhoneCode),
    /// A phone code tried: its failures, or its use.
    PhoneCode(PhoneCode),
    /// RA-1: a manager changed a role.
    Role {
        user_uuid: UserUuid,
        role: api_types::ra::Role,
    },
    /// RA-4: the RA reviewed a "this wasn't me" report.
    ReportReviewed {
        token_hash: Vec<u8>,
        by: UserUuid,
    },
    /// CERT-1: a certificate our CA issued and the card now holds.
    CardCertificate {
        card: CardGuid,
        slot: KeySlot,
        issued: Issued,
    },
    /// CARD-6: the 9E key the card generated, for checking its signatures.
    CardAuthKey {
        card: CardGuid,
        public_key: Vec<u8>,
    },
    /// RA-6: the incident stop — every unlock, registration and renewal the user has in
    /// progress ends, their live phone code is spent and every session of theirs ends.
    StopFlows {
        user_uuid: UserUuid,
    },
    /// RA-2: the passcode tries a card was seen with.
    PinTriesSeen {
        card: CardGuid,
        tries: i64,
    },
    /// CERT-3: a renewal begun; any other still open for the card ends.
    NewRenewal(Renewal),
    /// A renewal moved one step.
    Renewal(Renewal),
    /// CERT-5: a slot's certificates other than `kept_serial`, revoked for `reason`.
    RevokeReplaced {
        card: CardGuid,
        slot: KeySlot,
        kept_serial: String,
        reason: &'static str,
    },
    /// PASS-2 / PASS-4: an Update's server-side changes set, and the passcodes' date.
    Passcodes {
        user_uuid: UserUuid,
        changes: HashedChanges,
    },
    /// PASS-5: a helpdesk check's result: the caller's wrong checks in a row.
    VerificationChecked {
        user_uuid: UserUuid,
        failures: i64,
    },
    /// PASS-4: the RA unlocked an account its expired passcodes locked.
    PasscodesUnlocked(UserUuid),
    /// PASS-2: an Update kept aside until the card takes its new passcode.
    NewPasscodeUpdate(PasscodeUpdate),
    /// PASS-2: that Update is done (once).
    PasscodeUpdateFinished(PasscodeUpdateId),
    /// CERT-5: certificates a renewal's channel sent to the card, dropped unconfirmed
    /// when the channel was: recorded revoked (superseded), so the CRL names them.
    AbandonedCertificates {
        card: CardGuid,
        issued: Vec<PendingCertificate>,
    },
    /// CERT-5: every certificate of the user's cards in force, revoked for `reason`.
    RevokeUserCertificates {
        user_uuid: UserUuid,
        reason: &'static str,
    },
    /// CERT-4: the card's self-service renewals since the RA last renewed it.
    RenewalsInARow {
        card: CardGuid,
        count: i64,
    },
}

impl Write {
    /// Applies this change; whether it queued mail or a text (whose sender is woken once
    /// the step has committed).
    pub(super) async fn apply(&self, conn: &mut AnyConnection, now: i64) -> Result<bool, AppError> {
        let mut mailed = false;
        match self {
            Write::NewAttempt(attempt) => attempts::insert(&mut *conn, attempt).await?,
            Write::Attempt(attempt) => attempts::save(&mut *conn, attempt).await?,
            Write::UnlockCounters {
                user_uuid,
                before,
                after,
            } => users::swap_unlock_counters(&mut *conn, user_uuid, *before, *after).await?,
            Write::UnlockQuestions {
                user_uuid,
                question_ids,
            } => users::set_unlock_questions(&mut *conn, user_uuid, question_ids).await?,
            Write::PendingPuk { card, sealed } => {
                cards::set_pending_puk(&mut *conn, card, sealed).await?
            }
            Write::AdoptPendingPuk { card, sealed } => {
                cards::adopt_pending_puk(&mut *conn, card, sealed).await?;
            }
            Write::DropPendingPuk(card) => cards::drop_pending_puk(&mut *conn, card).await?,
            Write::UseLoginChallenge(Spent { nonce, expires_at }) => {
                if !spent_logins::spend(&mut *conn, nonce, *expires_at).await? {
                    return Err(AppError::LoginExpired);
                }
            }
            // Written with its audit link, by `AppState::finish_sign_in`.
            Write::SignedIn { .. } => return Err(AppError::Invariant("a sign-in's own finish")),
            Write::TouchSession(hash) => sessions::touch_session(&mut *conn, hash, now).await?,
            Write::CardProven(hash) => sessions::card_proven(&mut *conn, hash, now).await?,
            Write::EndSession(hash) => sessions::end_session(&mut *conn, hash, now).await?,
            Write::NotMeLink(link) => not_me::insert(&mut *conn, link).await?,
            Write::Contact {
                user_uuid,
                email,
                mobile,
            } => {
                let mobile = mobile.as_ref().map(UkMobile::as_str);
                users::set_contact(&mut *conn, user_uuid, email.as_str(), mobile).await?
            }
            Write::NotMeReported(hash) => not_me::mark_reported(&mut *conn, hash, now).await?,
            Write::NewRegistration(r) => registrations::insert(&mut *conn, r).await?,
            Write::Registration(r) => registrations::save(&mut *conn, r).await?,
            Write::ApplyRegistration {
                user_uuid,
                email,
                answers,
            } => registrations::apply(&mut *conn, user_uuid, email, answers).await?,
            Write::NewPhoneCode(code) => phone_codes::replace(&mut *conn, code).await?,
            Write::PhoneCode(code) => phone_codes::save(&mut *conn, code).await?,
            Write::Role { user_uuid, role } => {
                users::set_role(&mut *conn, user_uuid, *role).await?
            }
            Write::ReportReviewed { token_hash, by } => {
                not_me::mark_reviewed(&mut *conn, token_hash, now, by).await?
            }
            Write::CardCertificate { card, slot, issued } => {
                let certificate = NewCardCertificate {
                    serial: &issued.serial,
                    card_guid: card,
                    slot: *slot,
                    certificate: &issued.der,
                    issued_at: now,
                    not_after: issued.not_after,
                };
                certificates::insert_card_certificate(&mut *conn, &certificate).await?
            }
            Write::CardAuthKey { card, public_key } => {
                cards::set_card_auth_key(&mut *conn, card, public_key).await?
            }
            Write::StopFlows { user_uuid } => {
                attempts::fail_open_for_user(&mut *conn, user_uuid).await?;
                registrations::fail_open_for_user(&mut *conn, user_uuid).await?;
                phone_codes::spend(&mut *conn, user_uuid, now).await?;
                sessions::end_all_for_user(&mut *conn, user_uuid, now).await?;
                let dropped = renewals::end_open_for_user(&mut *conn, user_uuid, now).await?;
                record_abandoned(&mut *conn, &dropped, now).await?;
            }
            Write::PinTriesSeen { card, tries } => {
                ra::set_pin_tries(&mut *conn, card, *tries, now).await?
            }
            Write::NewRenewal(renewal) => {
                let (card, id) = (&renewal.card_guid, &renewal.id);
                let dropped = renewals::end_others_for_card(&mut *conn, card, id, now).await?;
                record_abandoned(&mut *conn, &dropped, now).await?;
                renewals::insert(&mut *conn, renewal).await?
            }
            Write::Renewal(renewal) => renewals::save(&mut *conn, renewal).await?,
            Write::RevokeReplaced {
                card,
                slot,
                kept_serial,
                reason,
            } => {
                certificates::revoke_slot(&mut *conn, card, *slot, kept_serial, reason, now).await?
            }
            Write::Passcodes { user_uuid, changes } => {
                for (kind, change) in changes.each() {
                    match change {
                        HashedChange::Keep => {}
                        HashedChange::Blank => {
                            passcodes::remove(&mut *conn, user_uuid, kind).await?
                        }
                        HashedChange::Set(new) => {
                            passcodes::set(&mut *conn, user_uuid, kind, new, now).await?
                        }
                    }
                }
                passcodes::set_last_set(&mut *conn, user_uuid, now).await?
            }
            Write::VerificationChecked {
                user_uuid,
                failures,
            } => passcodes::set_check_failures(&mut *conn, user_uuid, *failures).await?,
            Write::PasscodesUnlocked(user_uuid) => {
                passcodes::set_unlocked(&mut *conn, user_uuid, now).await?
            }
            Write::NewPasscodeUpdate(update) => {
                passcodes::insert_update(&mut *conn, update).await?
            }
            Write::PasscodeUpdateFinished(id) => {
                passcodes::finish_update(&mut *conn, id, now).await?
            }
            Write::AbandonedCertificates { card, issued } => {
                let dropped: Vec<_> = issued.iter().map(|p| (*card, p.clone())).collect();
                record_abandoned(&mut *conn, &dropped, now).await?
            }
            Write::RevokeUserCertificates { user_uuid, reason } => {
                certificates::revoke_all_for_user(&mut *conn, user_uuid, reason, now).await?
            }
            Write::RenewalsInARow { card, count } => {
                renewals::set_renewals_in_a_row(&mut *conn, card, *count).await?
            }
            Write::Mail(mail) => {
                outbox::queue(&mut *conn, now, mail).await?;
                mailed = true;
            }
            Write::Text(text) => {
                outbox::queue_text(&mut *conn, now, text).await?;
                mailed = true;
            }
        }
        Ok(mailed)
    }
}

/// CERT-5: certificates sent to a card by a renewal's channel and dropped unconfirmed,
/// recorded revoked (superseded): whatever the card kept, the CRL names them.
async fn record_abandoned(
    conn: &mut AnyConnection,
    dropped: &[(CardGuid, PendingCertificate)],
    now: i64,
) -> Result<(), AppError> {
    for (card, pending) in dropped {
        let certificate = NewCardCertificate {
            serial: &pending.serial,
            card_guid: card,
            slot: pending.key_slot()?,
            certificate: &pending.der.0,
            issued_at: pending.issued_at,
            not_after: pending.not_after,
        };
        certificates::insert_abandoned(conn, &certificate, SUPERSEDED, now).await?;
    }
    Ok(())
}
