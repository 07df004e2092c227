//! The shape every flow copies (ENGINEERING.md, "Our house style"): a step loads what it
//! needs, a pure `decide` with `now` returns an [`Outcome`] — its [`Write`]s, its mail, its
//! audit event and its reply — and [`AppState::finish`] applies all of it in one
//! transaction. So every exit, refusals included, leaves its audit row (RA-4), and no
//! step writes anything any other way.

use api_types::auth::LoginId;
use api_types::CardGuid;

use crate::mail::templates::{Mail, Sender};
use crate::store::attempts::{self, Attempt};
use crate::store::audit::{self, AuditEntry};
use crate::store::not_me::{self, NotMeLink};
use crate::store::phone_codes::{self, PhoneCode};
use crate::store::registrations::{self, HashedAnswer, Registration};
use crate::store::sessions::{self, LoginChallenge, Session};
use crate::store::users::{self, UnlockCounters};
use crate::store::{cards, outbox, ra, Tx};
use crate::unlock::Client;
use crate::{AppError, AppState};

/// What an event is about. Unknown until the attempt is found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Subject {
    pub(crate) card_guid: Option<CardGuid>,
    pub(crate) user_uuid: Option<String>,
}

impl Subject {
    pub(crate) fn of(attempt: &Attempt) -> Self {
        Self {
            card_guid: Some(attempt.card_guid),
            user_uuid: Some(attempt.user_uuid.clone()),
        }
    }
}

/// One state change a step decided on, applied by [`AppState::finish`].
#[derive(Debug)]
pub(crate) enum Write {
    NewAttempt(Attempt),
    Attempt(Attempt),
    /// UNL-4 counters, compare-and-set from `before`.
    UnlockCounters {
        user_uuid: String,
        before: UnlockCounters,
        after: UnlockCounters,
    },
    /// UNL-3: the questions this user's attempts ask until an unlock succeeds (none:
    /// choose afresh next time).
    UnlockQuestions {
        user_uuid: String,
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
    /// AUTH-1: a fresh login challenge.
    NewLoginChallenge(LoginChallenge),
    /// AUTH-1: a login challenge is used up, whatever the signature said.
    UseLoginChallenge(LoginId),
    /// AUTH-2: a new session.
    NewSession(Session),
    /// AUTH-2: a request was served: the idle clock starts again.
    TouchSession(Vec<u8>),
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
        user_uuid: String,
        email: String,
        mobile: Option<String>,
    },
    /// REG-4: the confirmed answers and email become the user's.
    ApplyRegistration {
        user_uuid: String,
        email: String,
        answers: Vec<HashedAnswer>,
    },
    /// RA-3: a phone code issued, replacing any earlier one.
    NewPhoneCode(PhoneCode),
    /// A phone code tried: its failures, or its use.
    PhoneCode(PhoneCode),
    /// RA-1: a manager changed a role.
    Role {
        user_uuid: String,
        role: api_types::ra::Role,
    },
    /// RA-4: the RA reviewed a "this wasn't me" report.
    ReportReviewed {
        token_hash: Vec<u8>,
        by: String,
    },
    /// RA-2: the passcode tries a card was seen with.
    PinTriesSeen {
        card: CardGuid,
        tries: i64,
    },
}

/// Everything one step decided: the writes, the audit event and the reply.
#[derive(Debug)]
pub(crate) struct Outcome<T> {
    action: &'static str,
    subject: Subject,
    /// Who acted, when not the card the event is about (an RA: `ra:<uuid>`).
    actor: Option<String>,
    /// The audit outcome on success; a refusal is recorded under its error code.
    ok_outcome: &'static str,
    detail: String,
    writes: Vec<Write>,
    /// False only for routine successes that are not security events (a session serving
    /// a request); every refusal is audited.
    audited: bool,
    pub(crate) reply: Result<T, AppError>,
}

impl<T> Outcome<T> {
    pub(crate) fn new(action: &'static str, subject: Subject) -> Self {
        Self {
            action,
            subject,
            actor: None,
            ok_outcome: "ok",
            detail: String::new(),
            writes: Vec::new(),
            audited: true,
            reply: Err(AppError::Invariant("outcome without a reply")),
        }
    }

    /// The event is recorded as done by `actor` (RA-3, RA-4).
    pub(crate) fn by(mut self, actor: String) -> Self {
        self.actor = Some(actor);
        self
    }

    pub(crate) fn write(mut self, write: Write) -> Self {
        self.writes.push(write);
        self
    }

    pub(crate) fn detail(mut self, detail: String) -> Self {
        self.detail = detail;
        self
    }

    pub(crate) fn ok(mut self, outcome: &'static str, reply: T) -> Self {
        self.ok_outcome = outcome;
        self.reply = Ok(reply);
        self
    }

    pub(crate) fn refuse(mut self, error: AppError) -> Self {
        self.reply = Err(error);
        self
    }

    /// Not a security event when it succeeds (refusals are still audited).
    pub(crate) fn unaudited_if_ok(mut self) -> Self {
        self.audited = false;
        self
    }

    fn audit_entry(&self, client: &Client) -> AuditEntry {
        let card_guid = self.subject.card_guid.map(|g| g.to_hex());
        AuditEntry {
            actor: self
                .actor
                .clone()
                .or_else(|| card_guid.clone())
                .unwrap_or_else(|| "anonymous".into()),
            action: self.action.into(),
            outcome: match &self.reply {
                Ok(_) => self.ok_outcome.into(),
                Err(error) => error.code().as_str().into(),
            },
            card_guid,
            user_uuid: self.subject.user_uuid.clone(),
            client_addr: Some(client.addr.to_string()),
            detail: self.detail.clone(),
        }
    }

    #[cfg(test)]
    pub(crate) fn writes(&self) -> &[Write] {
        &self.writes
    }
}

impl AppState {
    pub(crate) fn sender(&self) -> Sender<'_> {
        Sender {
            organisation: &self.settings.organisation_name,
            ra_help: &self.settings.ra_help,
        }
    }

    /// Applies a step's outcome — writes, mail, audit event — and commits; then the
    /// reply. The one way a step ends.
    pub(crate) async fn finish<T>(
        &self,
        mut tx: Tx,
        now: i64,
        client: &Client,
        outcome: Outcome<T>,
    ) -> Result<T, AppError> {
        let mut mailed = false;
        for write in &outcome.writes {
            match write {
                Write::NewAttempt(attempt) => attempts::insert(&mut tx, attempt).await?,
                Write::Attempt(attempt) => attempts::save(&mut tx, attempt).await?,
                Write::UnlockCounters {
                    user_uuid,
                    before,
                    after,
                } => users::swap_unlock_counters(&mut tx, user_uuid, *before, *after).await?,
                Write::UnlockQuestions {
                    user_uuid,
                    question_ids,
                } => users::set_unlock_questions(&mut tx, user_uuid, question_ids).await?,
                Write::PendingPuk { card, sealed } => {
                    cards::set_pending_puk(&mut tx, card, sealed).await?
                }
                Write::AdoptPendingPuk { card, sealed } => {
                    cards::adopt_pending_puk(&mut tx, card, sealed).await?;
                }
                Write::DropPendingPuk(card) => cards::drop_pending_puk(&mut tx, card).await?,
                Write::NewLoginChallenge(challenge) => {
                    sessions::insert_challenge(&mut tx, challenge).await?
                }
                Write::UseLoginChallenge(id) => sessions::use_challenge(&mut tx, id, now).await?,
                Write::NewSession(session) => sessions::insert_session(&mut tx, session).await?,
                Write::TouchSession(hash) => sessions::touch_session(&mut tx, hash, now).await?,
                Write::EndSession(hash) => sessions::end_session(&mut tx, hash, now).await?,
                Write::NotMeLink(link) => not_me::insert(&mut tx, link).await?,
                Write::Contact {
                    user_uuid,
                    email,
                    mobile,
                } => users::set_contact(&mut tx, user_uuid, email, mobile.as_deref()).await?,
                Write::NotMeReported(hash) => not_me::mark_reported(&mut tx, hash, now).await?,
                Write::NewRegistration(r) => registrations::insert(&mut tx, r).await?,
                Write::Registration(r) => registrations::save(&mut tx, r).await?,
                Write::ApplyRegistration {
                    user_uuid,
                    email,
                    answers,
                } => registrations::apply(&mut tx, user_uuid, email, answers).await?,
                Write::NewPhoneCode(code) => phone_codes::replace(&mut tx, code).await?,
                Write::PhoneCode(code) => phone_codes::save(&mut tx, code).await?,
                Write::Role { user_uuid, role } => {
                    users::set_role(&mut tx, user_uuid, *role).await?
                }
                Write::ReportReviewed { token_hash, by } => {
                    not_me::mark_reviewed(&mut tx, token_hash, now, by).await?
                }
                Write::PinTriesSeen { card, tries } => {
                    ra::set_pin_tries(&mut tx, card, *tries, now).await?
                }
                Write::Mail(mail) => {
                    outbox::queue(&mut tx, now, mail).await?;
                    mailed = true;
                }
            }
        }
        if outcome.audited || outcome.reply.is_err() {
            audit::append(
                &mut tx,
                self.store.backend,
                &self.audit_key,
                now,
                &outcome.audit_entry(client),
            )
            .await?;
        }
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        if mailed {
            self.mail_waker.notify_one();
        }
        outcome.reply
    }
}
