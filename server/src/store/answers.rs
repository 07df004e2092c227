//! `security_questions` and `security_answers` (REG-2, UNL-3): the list of 20 questions,
//! and each user's 4 answers as argon2id hashes.

use api_types::ra::UserUuid;
use sqlx::AnyConnection;

use super::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserQuestion {
    pub question_id: i64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredAnswer {
    pub question_id: i64,
    /// argon2id PHC string of the normalised answer.
    pub answer_hash: String,
}

/// The questions a user answered at registration.
pub async fn questions_of(
    conn: &mut AnyConnection,
    user_uuid: &UserUuid,
) -> Result<Vec<UserQuestion>, StoreError> {
    Ok(sqlx::query_as::<_, UserQuestion>(
        "SELECT a.question_id AS question_id, q.text AS text FROM security_answers a \
         JOIN security_questions q ON q.id = a.question_id WHERE a.user_uuid = $1 \
         ORDER BY a.question_id",
    )
    .bind(user_uuid.as_str())
    .fetch_all(conn)
    .await?)
}

/// A user's stored answer hashes.
pub async fn answers_of(
    conn: &mut AnyConnection,
    user_uuid: &UserUuid,
) -> Result<Vec<StoredAnswer>, StoreError> {
    Ok(sqlx::query_as::<_, StoredAnswer>(
        "SELECT question_id, answer_hash FROM security_answers WHERE user_uuid = $1",
    )
    .bind(user_uuid.as_str())
    .fetch_all(conn)
    .await?)
}

pub async fn question_text(conn: &mut AnyConnection, id: i64) -> Result<String, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Text {
        text: String,
    }
    Ok(
        sqlx::query_as::<_, Text>("SELECT text FROM security_questions WHERE id = $1")
            .bind(id)
            .fetch_one(conn)
            .await?
            .text,
    )
}

pub async fn insert(
    conn: &mut AnyConnection,
    user_uuid: &UserUuid,
    question_id: i64,
    answer_hash: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO security_answers (user_uuid, question_id, answer_hash) VALUES ($1, $2, $3)",
    )
    .bind(user_uuid.as_str())
    .bind(question_id)
    .bind(answer_hash)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_for_user(
    conn: &mut AnyConnection,
    user_uuid: &UserUuid,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM security_answers WHERE user_uuid = $1")
        .bind(user_uuid.as_str())
        .execute(conn)
        .await?;
    Ok(())
}
