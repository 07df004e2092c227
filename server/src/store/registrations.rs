//! `registrations` (REG-1…REG-4), and the writes a confirmed registration makes to the
//! user: their answers replaced, their email set, registered.

use api_types::ra::UserUuid;
use api_types::register::RegistrationId;
use sqlx::AnyConnection;

use super::{answers, corrupt, user_uuid, Backend, StoreError};

/// Where a registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationState {
    /// The card proved the holder: questions and email next.
    Started,
    /// A code went to the email.
    CodeSent,
    Completed,
    Failed,
}

impl RegistrationState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::CodeSent => "code_sent",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Started, Self::CodeSent, Self::Completed, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A hashed answer, as kept until the code confirms it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HashedAnswer {
    pub question_id: i64,
    /// argon2id PHC string.
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub id: RegistrationId,
    pub user_uuid: UserUuid,
    /// SHA-256 of the session cookie's secret that began it (ALL-6).
    pub session_hash: Vec<u8>,
    pub state: RegistrationState,
    pub created_at: i64,
    pub expires_at: i64,
    pub email: Option<String>,
    pub answers: Vec<HashedAnswer>,
    pub code: Option<crate::store::attempts::StoredCode>,
    pub code_failures: i64,
    pub completed_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    user_uuid: String,
    session_hash: Vec<u8>,
    state: String,
    created_at: i64,
    expires_at: i64,
    email: Option<String>,
    answers: Option<String>,
    code_hash: Option<Vec<u8>>,
    code_salt: Option<Vec<u8>>,
    code_expires_at: Option<i64>,
    code_failures: i64,
    completed_at: Option<i64>,
}

const TABLE: &str = "registrations";

impl TryFrom<Row> for Registration {
    type Error = StoreError;

    fn try_from(row: Row) -> Result<Self, StoreError> {
        let code = match (row.code_hash, row.code_salt, row.code_expires_at) {
            (Some(hash), Some(salt), Some(expires_at)) => {
                Some(crate::store::attempts::StoredCode {
                    hash,
                    salt,
                    expires_at,
                })
            }
            _ => None,
        };
        Ok(Self {
            id: RegistrationId::parse(&row.id).map_err(|_| corrupt(TABLE, "id"))?,
            user_uuid: user_uuid(TABLE, "user_uuid", &row.user_uuid)?,
            session_hash: row.session_hash,
            state: RegistrationState::parse(&row.state).ok_or_else(|| corrupt(TABLE, "state"))?,
            created_at: row.created_at,
            expires_at: row.expires_at,
            email: row.email,
            answers: match row.answers {
                Some(json) => serde_json::from_str(&json).map_err(|_| corrupt(TABLE, "answers"))?,
                None => Vec::new(),
            },
            code,
            code_failures: row.code_failures,
            completed_at: row.completed_at,
        })
    }
}

pub async fn insert(conn: &mut AnyConnection, r: &Registration) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO registrations (id, user_uuid, session_hash, state, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(r.id.as_str())
    .bind(r.user_uuid.as_str())
    .bind(r.session_hash.clone())
    .bind(r.state.as_str())
    .bind(r.created_at)
    .bind(r.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    id: &RegistrationId,
) -> Result<Option<Registration>, StoreError> {
    let sql = format!(
        "SELECT id, user_uuid, session_hash, state, created_at, expires_at, email, answers, \
         code_hash, code_salt, code_expires_at, code_failures, completed_at \
         FROM registrations WHERE id = $1{}",
        backend.for_update()
    );
    sqlx::query_as::<_, Row>(&sql)
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?
        .map(Registration::try_from)
        .transpose()
}

/// Writes every column a step may change.
pub async fn save(conn: &mut AnyConnection, r: &Registration) -> Result<(), StoreError> {
    let answers = serde_json::to_string(&r.answers).map_err(|_| corrupt(TABLE, "answers"))?;
    let code = r.code.as_ref();
    sqlx::query(
        "UPDATE registrations SET state = $1, email = $2, answers = $3, code_hash = $4, \
         code_salt = $5, code_expires_at = $6, code_failures = $7, completed_at = $8 \
         WHERE id = $9",
    )
    .bind(r.state.as_str())
    .bind(r.email.clone())
    .bind(answers)
    .bind(code.map(|c| c.hash.clone()))
    .bind(code.map(|c| c.salt.clone()))
    .bind(code.map(|c| c.expires_at))
    .bind(r.code_failures)
    .bind(r.completed_at)
    .bind(r.id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// REG-4: the confirmed registration replaces the user's answers, sets their email and
/// marks them registered.
pub async fn apply(
    conn: &mut AnyConnection,
    user_uuid: &UserUuid,
    email: &str,
    hashed: &[HashedAnswer],
) -> Result<(), StoreError> {
    answers::delete_for_user(&mut *conn, user_uuid).await?;
    for answer in hashed {
        answers::insert(&mut *conn, user_uuid, answer.question_id, &answer.hash).await?;
    }
    sqlx::query("UPDATE users SET email = $1, registered = $2 WHERE uuid = $3")
        .bind(email)
        .bind(1_i64)
        .bind(user_uuid.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Every question offered, for the registration page (the list operators edit).
pub async fn all_questions(conn: &mut AnyConnection) -> Result<Vec<(i64, String)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Q {
        id: i64,
        text: String,
    }
    Ok(
        sqlx::query_as::<_, Q>("SELECT id, text FROM security_questions ORDER BY id")
            .fetch_all(conn)
            .await?
            .into_iter()
            .map(|q| (q.id, q.text))
            .collect(),
    )
}

/// RA-6: every registration of a user still in progress fails now, its code gone.
pub async fn fail_open_for_user(
    conn: &mut AnyConnection,
    user_uuid: &UserUuid,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE registrations SET state = 'failed', code_hash = NULL, code_salt = NULL, \
         code_expires_at = NULL WHERE user_uuid = $1 AND state NOT IN ('completed', 'failed')",
    )
    .bind(user_uuid.as_str())
    .execute(conn)
    .await?
    .rows_affected())
}
