//! The self-service unlock (UNL-1…UNL-8) as a persisted state machine: each call moves one
//! `unlock_attempts` row one step inside one transaction, so any instance can serve any
//! step and a crash loses nothing. Rules live in [`crate::domain`].

use api_types::bridge::AdminScript;
use api_types::unlock::{
    AnswersRequest, AnswersResponse, CardProofRequest, CardProofResponse, CodeResponse,
    CompleteRequest, CompleteResponse, Question, StartRequest, StartResponse,
};
use card_protocol::pin::{generate_one_time_pin, Pin, Puk};
use card_protocol::piv;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use rand::rngs::OsRng;
use rand::seq::SliceRandom;
use sqlx::AnyConnection;
use sqlx::Row;

use crate::domain::{self, AttemptState, ScriptOutcome, StepError};
use crate::secrets::{code_hash, code_matches, new_unlock_code, random_bytes};
use crate::store::{audit, queue_mail, AuditEntry};
use crate::{AppError, AppState};

impl From<StepError> for AppError {
    fn from(e: StepError) -> Self {
        match e {
            StepError::Expired => AppError::AttemptExpired,
            StepError::WrongStep(why) => AppError::WrongStep(why),
        }
    }
}

fn decode_hex(field: &str, value: &str, max_bytes: usize) -> Result<Vec<u8>, AppError> {
    if value.len() > max_bytes * 2 {
        return Err(AppError::BadRequest(format!("{field} is too long")));
    }
    hex::decode(value).map_err(|_| AppError::BadRequest(format!("{field} must be hex")))
}

fn attempt_id(id: &str) -> Result<&str, AppError> {
    // Unknown shapes are simply not found; never echo them into SQL or logs.
    if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(id)
    } else {
        Err(AppError::NotFound)
    }
}

struct Attempt {
    id: String,
    card_guid: String,
    user_uuid: String,
    state: AttemptState,
    challenge: Vec<u8>,
    created_at: i64,
    expires_at: i64,
    question_ids: Vec<i64>,
    code_hash: Option<Vec<u8>>,
    code_salt: Option<Vec<u8>>,
    code_expires_at: Option<i64>,
    code_failures: i64,
    card_updated: bool,
}

struct User {
    display_name: String,
    email: String,
    registered: bool,
    unlock_failures: i64,
    closed: bool,
}

/// Request context for the audit trail.
pub struct Client {
    pub addr: String,
}

impl AppState {
    /// One step's transaction. SQLite takes the write lock up front (BEGIN IMMEDIATE):
    /// a deferred transaction that reads and then writes can deadlock with another
    /// server process on the same file.
    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            crate::store::Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            crate::store::Backend::Postgres => self.pool.begin().await,
        }
    }

    fn entry<'a>(
        &self,
        action: &'a str,
        outcome: &'a str,
        attempt: Option<&'a Attempt>,
        client: &'a Client,
        detail: &'a str,
    ) -> AuditEntry<'a> {
        AuditEntry {
            actor: attempt.map_or("anonymous", |a| a.card_guid.as_str()),
            action,
            outcome,
            card_guid: attempt.map(|a| a.card_guid.as_str()),
            user_uuid: attempt.map(|a| a.user_uuid.as_str()),
            client_addr: Some(&client.addr),
            detail,
        }
    }

    /// Appends this step's event to the audit chain, inside the step's transaction.
    /// (One argument per audit field: grouping them would only move the list.)
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        conn: &mut AnyConnection,
        now: i64,
        action: &str,
        outcome: &str,
        attempt: Option<&Attempt>,
        client: &Client,
        detail: &str,
    ) -> Result<(), sqlx::Error> {
        audit(
            conn,
            self.backend,
            now,
            &self.entry(action, outcome, attempt, client, detail),
        )
        .await
    }

    async fn load_attempt(&self, conn: &mut AnyConnection, id: &str) -> Result<Attempt, AppError> {
        let row = sqlx::query(&format!(
            "SELECT id, card_guid, user_uuid, state, challenge, created_at, expires_at, \
             question_ids, code_hash, code_salt, code_expires_at, code_failures, card_updated \
             FROM unlock_attempts WHERE id = $1{}",
            self.backend.for_update()
        ))
        .bind(attempt_id(id)?)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound)?;
        let state: String = row.try_get(3)?;
        let question_ids: String = row.try_get(7)?;
        Ok(Attempt {
            id: row.try_get(0)?,
            card_guid: row.try_get(1)?,
            user_uuid: row.try_get(2)?,
            state: AttemptState::parse(&state)
                .ok_or_else(|| AppError::Internal(format!("unknown attempt state {state}")))?,
            challenge: row.try_get(4)?,
            created_at: row.try_get(5)?,
            expires_at: row.try_get(6)?,
            question_ids: question_ids
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map_err(|_| AppError::Internal("bad question ids".into()))?,
            code_hash: row.try_get(8)?,
            code_salt: row.try_get(9)?,
            code_expires_at: row.try_get(10)?,
            code_failures: row.try_get(11)?,
            card_updated: row.try_get::<i64, _>(12)? != 0,
        })
    }

    async fn load_user(&self, conn: &mut AnyConnection, uuid: &str) -> Result<User, AppError> {
        let row = sqlx::query(
            "SELECT title, given_name, family_name, email, registered, unlock_failures, \
             self_service_closed FROM users WHERE uuid = $1",
        )
        .bind(uuid)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::Internal("card without user".into()))?;
        let title: String = row.try_get(0)?;
        let given: String = row.try_get(1)?;
        let family: String = row.try_get(2)?;
        Ok(User {
            display_name: format!("{title} {given} {family}").trim().to_owned(),
            email: row.try_get(3)?,
            registered: row.try_get::<i64, _>(4)? != 0,
            unlock_failures: row.try_get(5)?,
            closed: row.try_get::<i64, _>(6)? != 0,
        })
    }

    async fn set_state(
        &self,
        conn: &mut AnyConnection,
        attempt: &Attempt,
        state: AttemptState,
    ) -> Result<(), AppError> {
        sqlx::query("UPDATE unlock_attempts SET state = $1 WHERE id = $2")
            .bind(state.as_str())
            .bind(&attempt.id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    fn closed(&self) -> AppError {
        AppError::SelfServiceClosed {
            help: self.settings.ra_help.clone(),
        }
    }

    /// UNL-1: the card names itself by its CHUID GUID; the server answers with a challenge.
    pub async fn start(
        &self,
        request: StartRequest,
        client: &Client,
    ) -> Result<StartResponse, AppError> {
        let guid = decode_hex("card_guid", &request.card_guid, 16)?;
        if guid.len() != 16 {
            return Err(AppError::BadRequest("card_guid must be 16 bytes".into()));
        }
        let guid = hex::encode(guid);
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let card = sqlx::query("SELECT user_uuid FROM cards WHERE guid = $1")
            .bind(&guid)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(card) = card else {
            let detail = format!("card {guid}");
            self.record(
                &mut tx,
                now,
                "unlock.start",
                "unknown_card",
                None,
                client,
                &detail,
            )
            .await?;
            tx.commit().await?;
            return Err(AppError::UnknownCard);
        };
        let user_uuid: String = card.try_get(0)?;
        let attempt = Attempt {
            id: hex::encode(random_bytes::<16>()),
            card_guid: guid,
            user_uuid,
            state: AttemptState::Started,
            challenge: random_bytes::<32>().to_vec(),
            created_at: now,
            expires_at: now + domain::ATTEMPT_TTL,
            question_ids: Vec::new(),
            code_hash: None,
            code_salt: None,
            code_expires_at: None,
            code_failures: 0,
            card_updated: false,
        };
        sqlx::query(
            "INSERT INTO unlock_attempts (id, card_guid, user_uuid, state, challenge, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&attempt.id)
        .bind(&attempt.card_guid)
        .bind(&attempt.user_uuid)
        .bind(attempt.state.as_str())
        .bind(&attempt.challenge)
        .bind(attempt.created_at)
        .bind(attempt.expires_at)
        .execute(&mut *tx)
        .await?;
        self.record(
            &mut tx,
            now,
            "unlock.start",
            "ok",
            Some(&attempt),
            client,
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(StartResponse {
            attempt_id: attempt.id,
            challenge: hex::encode(&attempt.challenge),
            expires_at: now + domain::CHALLENGE_TTL,
        })
    }

    /// CARD-6 / UNL-2 / UNL-3: the card proves itself; then whose card, and the questions.
    pub async fn card_proof(
        &self,
        id: &str,
        request: CardProofRequest,
        client: &Client,
    ) -> Result<CardProofResponse, AppError> {
        let signature = decode_hex("signature", &request.signature, 128)?;
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let attempt = self.load_attempt(&mut tx, id).await?;
        domain::check_step(
            attempt.state,
            AttemptState::Started,
            attempt
                .expires_at
                .min(attempt.created_at + domain::CHALLENGE_TTL),
            now,
        )?;
        let card = sqlx::query("SELECT card_auth_public_key FROM cards WHERE guid = $1")
            .bind(&attempt.card_guid)
            .fetch_one(&mut *tx)
            .await?;
        let public_key: Vec<u8> = card.try_get(0)?;
        let genuine = VerifyingKey::from_sec1_bytes(&public_key)
            .ok()
            .zip(Signature::from_der(&signature).ok())
            .is_some_and(|(key, signature)| {
                key.verify_prehash(&attempt.challenge, &signature).is_ok()
            });
        let user = self.load_user(&mut tx, &attempt.user_uuid).await?;
        let refusal = if !genuine {
            Some(("card_not_genuine", AppError::CardNotGenuine))
        } else if !user.registered {
            Some((
                "not_registered",
                AppError::NotRegistered {
                    help: self.settings.ra_help.clone(),
                },
            ))
        } else if user.closed {
            Some(("self_service_closed", self.closed()))
        } else {
            None
        };
        if let Some((outcome, error)) = refusal {
            self.set_state(&mut tx, &attempt, AttemptState::Failed)
                .await?;
            self.record(
                &mut tx,
                now,
                "unlock.card_proof",
                outcome,
                Some(&attempt),
                client,
                "",
            )
            .await?;
            tx.commit().await?;
            return Err(error);
        }
        let rows = sqlx::query(
            "SELECT a.question_id, q.text FROM security_answers a \
             JOIN security_questions q ON q.id = a.question_id WHERE a.user_uuid = $1",
        )
        .bind(&attempt.user_uuid)
        .fetch_all(&mut *tx)
        .await?;
        let mut questions = rows
            .iter()
            .map(|row| Ok((row.try_get::<i64, _>(0)?, row.try_get::<String, _>(1)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let wanted = self.settings.questions_per_unlock as usize;
        if questions.len() < wanted {
            return Err(AppError::NotRegistered {
                help: self.settings.ra_help.clone(),
            });
        }
        questions.shuffle(&mut OsRng);
        questions.truncate(wanted);
        let ids: Vec<String> = questions.iter().map(|(id, _)| id.to_string()).collect();
        sqlx::query("UPDATE unlock_attempts SET state = $1, question_ids = $2 WHERE id = $3")
            .bind(AttemptState::CardProven.as_str())
            .bind(ids.join(","))
            .bind(&attempt.id)
            .execute(&mut *tx)
            .await?;
        self.record(
            &mut tx,
            now,
            "unlock.card_proof",
            "ok",
            Some(&attempt),
            client,
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(CardProofResponse {
            holder_name: user.display_name,
            questions: questions
                .into_iter()
                .map(|(id, text)| Question {
                    id: u32::try_from(id).unwrap_or(0),
                    text,
                })
                .collect(),
            attempts_left: u32::try_from(domain::MAX_ANSWER_FAILURES - user.unlock_failures)
                .unwrap_or(0),
        })
    }

    /// UNL-3 / UNL-4 / UNL-5: check the answers; three failures close self-service.
    pub async fn answers(
        &self,
        id: &str,
        request: AnswersRequest,
        client: &Client,
    ) -> Result<AnswersResponse, AppError> {
        if request
            .answers
            .iter()
            .any(|a| a.answer.chars().count() > 200)
        {
            return Err(AppError::BadRequest(
                "answers are at most 200 characters".into(),
            ));
        }
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let attempt = self.load_attempt(&mut tx, id).await?;
        // A closed account hears that first, whatever state this attempt is in (UNL-4).
        let user = self.load_user(&mut tx, &attempt.user_uuid).await?;
        if user.closed {
            if attempt.state == AttemptState::CardProven {
                self.set_state(&mut tx, &attempt, AttemptState::Failed)
                    .await?;
                tx.commit().await?;
            }
            return Err(self.closed());
        }
        domain::check_step(
            attempt.state,
            AttemptState::CardProven,
            attempt.expires_at,
            now,
        )?;
        let mut asked = attempt.question_ids.clone();
        let mut given: Vec<i64> = request
            .answers
            .iter()
            .map(|a| i64::from(a.question_id))
            .collect();
        asked.sort_unstable();
        given.sort_unstable();
        if asked != given {
            return Err(AppError::BadRequest(
                "answer exactly the questions asked, once each".into(),
            ));
        }
        let mut stored = Vec::new();
        for answer in &request.answers {
            let row = sqlx::query(
                "SELECT answer_hash FROM security_answers WHERE user_uuid = $1 AND question_id = $2",
            )
            .bind(&attempt.user_uuid)
            .bind(i64::from(answer.question_id))
            .fetch_one(&mut *tx)
            .await?;
            stored.push((answer.answer.clone(), row.try_get::<String, _>(0)?));
        }
        let hasher = self.hasher.clone();
        // Every answer is checked, right or wrong, so timing says nothing about which failed.
        let all_right = tokio::task::spawn_blocking(move || {
            stored
                .iter()
                .map(|(answer, hash)| hasher.verify(answer, hash))
                .fold(true, |all, ok| all & ok)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;

        if !all_right {
            let counted = sqlx::query(
                "UPDATE users SET unlock_failures = unlock_failures + 1, \
                 self_service_closed = CASE WHEN unlock_failures + 1 >= $1 THEN 1 ELSE 0 END \
                 WHERE uuid = $2 AND self_service_closed = 0 RETURNING unlock_failures",
            )
            .bind(domain::MAX_ANSWER_FAILURES)
            .bind(&attempt.user_uuid)
            .fetch_optional(&mut *tx)
            .await?;
            let failures = match counted {
                Some(row) => row.try_get::<i64, _>(0)?,
                None => domain::MAX_ANSWER_FAILURES,
            };
            let tries_left = domain::MAX_ANSWER_FAILURES - failures;
            let detail = format!("failure {failures} of {}", domain::MAX_ANSWER_FAILURES);
            if tries_left <= 0 {
                self.set_state(&mut tx, &attempt, AttemptState::Failed)
                    .await?;
                self.record(
                    &mut tx,
                    now,
                    "unlock.answers",
                    "self_service_closed",
                    Some(&attempt),
                    client,
                    &detail,
                )
                .await?;
                tx.commit().await?;
                return Err(self.closed());
            }
            self.record(
                &mut tx,
                now,
                "unlock.answers",
                "wrong_answers",
                Some(&attempt),
                client,
                &detail,
            )
            .await?;
            tx.commit().await?;
            return Err(AppError::WrongAnswers {
                tries_left: u32::try_from(tries_left).unwrap_or(0),
            });
        }

        let code = new_unlock_code();
        let salt = random_bytes::<16>();
        let code_expires_at = now + domain::CODE_TTL;
        // UNL-4: re-checked under the row lock, as a wrong answer in another attempt may
        // have closed self-service since this user was read.
        let still_open = sqlx::query(
            "UPDATE users SET unlock_failures = 0 WHERE uuid = $1 AND self_service_closed = 0",
        )
        .bind(&attempt.user_uuid)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if !still_open {
            self.set_state(&mut tx, &attempt, AttemptState::Failed)
                .await?;
            tx.commit().await?;
            return Err(self.closed());
        }
        sqlx::query(
            "UPDATE unlock_attempts SET state = $1, code_hash = $2, code_salt = $3, \
             code_expires_at = $4, code_failures = 0 WHERE id = $5",
        )
        .bind(AttemptState::CodeSent.as_str())
        .bind(code_hash(&salt, &code))
        .bind(salt.to_vec())
        .bind(code_expires_at)
        .bind(&attempt.id)
        .execute(&mut *tx)
        .await?;
        let body = format!(
            "Hello {name}\n\n\
             We have received a request for a Smartcard Unlock Code. Please enter the code \
             below to unlock your Smartcard and set a new passcode.\n\n\
             {code}\n\n\
             This code is valid for 15 minutes.\n\n\
             If you did not request a Smartcard Unlock Code please inform your organisation's \
             Registration Authority so that this can be investigated: {help}\n\n\
             Please do not reply to this email as this email account is not monitored.\n\n\
             Regards,\n{org}\n",
            name = user.display_name,
            help = self.settings.ra_help,
            org = self.settings.organisation_name,
        );
        queue_mail(&mut tx, now, &user.email, "Smartcard Unlock Code", &body).await?;
        self.record(
            &mut tx,
            now,
            "unlock.answers",
            "code_sent",
            Some(&attempt),
            client,
            "",
        )
        .await?;
        tx.commit().await?;
        self.mail_waker.notify_one();
        Ok(AnswersResponse {
            email_hint: domain::mask_email(&user.email),
            code_expires_at,
        })
    }

    /// UNL-5: the emailed code — 15 minutes, single use, limited tries.
    pub async fn code(
        &self,
        id: &str,
        code: &str,
        client: &Client,
    ) -> Result<CodeResponse, AppError> {
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::BadRequest("The unlock code is 6 digits.".into()));
        }
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let attempt = self.load_attempt(&mut tx, id).await?;
        domain::check_step(
            attempt.state,
            AttemptState::CodeSent,
            attempt.expires_at,
            now,
        )?;
        let (Some(hash), Some(salt), Some(code_expires_at)) = (
            &attempt.code_hash,
            &attempt.code_salt,
            attempt.code_expires_at,
        ) else {
            return Err(AppError::Internal("code sent without a code".into()));
        };
        if now >= code_expires_at {
            self.set_state(&mut tx, &attempt, AttemptState::Failed)
                .await?;
            self.record(
                &mut tx,
                now,
                "unlock.code",
                "code_expired",
                Some(&attempt),
                client,
                "",
            )
            .await?;
            tx.commit().await?;
            return Err(AppError::CodeExpired);
        }
        if !code_matches(salt, code, hash) {
            let failures = attempt.code_failures + 1;
            let exhausted = failures >= domain::MAX_CODE_FAILURES;
            sqlx::query("UPDATE unlock_attempts SET code_failures = $1, state = $2 WHERE id = $3")
                .bind(failures)
                .bind(
                    if exhausted {
                        AttemptState::Failed
                    } else {
                        AttemptState::CodeSent
                    }
                    .as_str(),
                )
                .bind(&attempt.id)
                .execute(&mut *tx)
                .await?;
            let outcome = if exhausted {
                "code_tries_exhausted"
            } else {
                "code_invalid"
            };
            self.record(
                &mut tx,
                now,
                "unlock.code",
                outcome,
                Some(&attempt),
                client,
                "",
            )
            .await?;
            tx.commit().await?;
            return Err(if exhausted {
                AppError::CodeTriesExhausted
            } else {
                AppError::CodeInvalid {
                    tries_left: u32::try_from(domain::MAX_CODE_FAILURES - failures).unwrap_or(0),
                }
            });
        }
        sqlx::query(
            "UPDATE unlock_attempts SET state = $1, code_hash = NULL, expires_at = $2 WHERE id = $3",
        )
        .bind(AttemptState::CodeVerified.as_str())
        .bind(now + domain::CODE_TTL)
        .bind(&attempt.id)
        .execute(&mut *tx)
        .await?;
        let response = self.card_script(&mut tx, &attempt).await?;
        self.record(
            &mut tx,
            now,
            "unlock.code",
            "ok",
            Some(&attempt),
            client,
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(response)
    }

    /// A fresh card script for an attempt whose code was verified (after a failed try).
    pub async fn script(&self, id: &str, client: &Client) -> Result<CodeResponse, AppError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let attempt = self.load_attempt(&mut tx, id).await?;
        domain::check_step(
            attempt.state,
            AttemptState::CodeVerified,
            attempt.expires_at,
            now,
        )?;
        let response = self.card_script(&mut tx, &attempt).await?;
        self.record(
            &mut tx,
            now,
            "unlock.script",
            "ok",
            Some(&attempt),
            client,
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(response)
    }

    /// CARD-3: RESET RETRY COUNTER with the card's PUK to a one-time PIN, then a new PUK.
    /// The new PUK is kept as `puk_next` until the card confirms it, and re-used until
    /// then, so an interrupted unlock never leaves a PUK the server doesn't know.
    async fn card_script(
        &self,
        conn: &mut AnyConnection,
        attempt: &Attempt,
    ) -> Result<CodeResponse, AppError> {
        let guid = &attempt.card_guid;
        let row = sqlx::query(&format!(
            "SELECT puk_enc, puk_next_enc FROM cards WHERE guid = $1{}",
            self.backend.for_update()
        ))
        .bind(guid)
        .fetch_one(&mut *conn)
        .await?;
        let puk_bytes = self.kek.open(&row.try_get::<Vec<u8>, _>(0)?, guid)?;
        let puk = Puk::from_bytes(&puk_bytes).map_err(|e| AppError::Internal(e.to_string()))?;
        let next = match row.try_get::<Option<Vec<u8>>, _>(1)? {
            Some(sealed) => {
                let bytes = self.kek.open(&sealed, guid)?;
                Puk::from_bytes(&bytes).map_err(|e| AppError::Internal(e.to_string()))?
            }
            None => {
                let next = Puk::generate(&mut OsRng);
                sqlx::query("UPDATE cards SET puk_next_enc = $1 WHERE guid = $2")
                    .bind(self.kek.seal(next.as_bytes(), guid)?)
                    .bind(guid)
                    .execute(&mut *conn)
                    .await?;
                next
            }
        };
        let one_time_pin = generate_one_time_pin(&mut OsRng);
        let apdus = [
            piv::select(),
            piv::reset_retry_counter(&puk, &one_time_pin),
            piv::change_puk(&puk, &next),
        ]
        .iter()
        .map(|c| hex::encode(c.to_bytes()))
        .collect();
        Ok(CodeResponse {
            card_guid: guid.clone(),
            script: AdminScript { apdus },
            one_time_pin: pin_text(&one_time_pin),
        })
    }

    /// UNL-7: the card reports; success is recorded only from the card's own answers.
    pub async fn complete(
        &self,
        id: &str,
        request: CompleteRequest,
        client: &Client,
    ) -> Result<CompleteResponse, AppError> {
        if request.script_responses.len() > 8 {
            return Err(AppError::BadRequest("too many script responses".into()));
        }
        let responses = request
            .script_responses
            .iter()
            .map(|r| decode_hex("script_responses", r, 512))
            .collect::<Result<Vec<_>, _>>()?;
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let attempt = self.load_attempt(&mut tx, id).await?;
        domain::check_step(
            attempt.state,
            AttemptState::CodeVerified,
            attempt.expires_at,
            now,
        )?;
        let guid = attempt.card_guid.as_str();
        let outcome = domain::script_outcome(&responses);
        if !attempt.card_updated {
            match outcome {
                ScriptOutcome::Done => {
                    sqlx::query("UPDATE cards SET puk_enc = puk_next_enc, puk_next_enc = NULL WHERE guid = $1 AND puk_next_enc IS NOT NULL")
                        .bind(guid)
                        .execute(&mut *tx)
                        .await?;
                }
                ScriptOutcome::ResetOnlyPukKept => {
                    sqlx::query("UPDATE cards SET puk_next_enc = NULL WHERE guid = $1")
                        .bind(guid)
                        .execute(&mut *tx)
                        .await?;
                }
                ScriptOutcome::WrongPuk => {
                    // An earlier unlock changed the PUK but never reported back: adopt it.
                    let adopted = sqlx::query("UPDATE cards SET puk_enc = puk_next_enc, puk_next_enc = NULL WHERE guid = $1 AND puk_next_enc IS NOT NULL")
                        .bind(guid)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    let detail = if adopted > 0 {
                        "adopted pending PUK"
                    } else {
                        "card refused its PUK"
                    };
                    if adopted == 0 {
                        self.set_state(&mut tx, &attempt, AttemptState::Failed)
                            .await?;
                    }
                    self.record(
                        &mut tx,
                        now,
                        "unlock.complete",
                        "wrong_puk",
                        Some(&attempt),
                        client,
                        detail,
                    )
                    .await?;
                    tx.commit().await?;
                    return Err(AppError::CardUpdateFailed(if adopted > 0 {
                        "the card needs one more try. Keep it inserted and press Confirm again."
                            .into()
                    } else {
                        "the card refused the update. Please contact your Registration Authority."
                            .into()
                    }));
                }
                ScriptOutcome::Unknown => {
                    self.record(
                        &mut tx,
                        now,
                        "unlock.complete",
                        "card_update_failed",
                        Some(&attempt),
                        client,
                        "",
                    )
                    .await?;
                    tx.commit().await?;
                    return Err(AppError::CardUpdateFailed(
                        "the card did not finish. Reinsert it and press Confirm again.".into(),
                    ));
                }
            }
            sqlx::query("UPDATE unlock_attempts SET card_updated = 1 WHERE id = $1")
                .bind(&attempt.id)
                .execute(&mut *tx)
                .await?;
        }
        if !request.pin_changed {
            self.record(
                &mut tx,
                now,
                "unlock.complete",
                "pin_not_changed",
                Some(&attempt),
                client,
                "",
            )
            .await?;
            tx.commit().await?;
            return Err(AppError::CardUpdateFailed(
                "the new passcode was not set on the card. Keep it inserted and press Confirm again.".into(),
            ));
        }
        sqlx::query("UPDATE unlock_attempts SET state = $1, completed_at = $2 WHERE id = $3")
            .bind(AttemptState::Completed.as_str())
            .bind(now)
            .bind(&attempt.id)
            .execute(&mut *tx)
            .await?;
        let user = self.load_user(&mut tx, &attempt.user_uuid).await?;
        let body = format!(
            "Hello {name}\n\n\
             Your Smartcard has been unlocked using the self-service unlock, and a new passcode \
             was set on it.\n\n\
             If you did not do this, please inform your organisation's Registration Authority \
             straight away: {help}\n\n\
             Please do not reply to this email as this email account is not monitored.\n\n\
             Regards,\n{org}\n",
            name = user.display_name,
            help = self.settings.ra_help,
            org = self.settings.organisation_name,
        );
        queue_mail(
            &mut tx,
            now,
            &user.email,
            "Your smartcard has been unlocked",
            &body,
        )
        .await?;
        self.record(
            &mut tx,
            now,
            "unlock.complete",
            "unlocked",
            Some(&attempt),
            client,
            "",
        )
        .await?;
        tx.commit().await?;
        self.mail_waker.notify_one();
        Ok(CompleteResponse { unlocked: true })
    }
}

/// The one-time PIN as the text the bridge sends back to the card.
fn pin_text(pin: &Pin) -> String {
    pin.padded()
        .iter()
        .take_while(|b| **b != 0xFF)
        .map(|b| char::from(*b))
        .collect()
}
