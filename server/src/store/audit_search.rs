//! RA-4: the audit trail searched — by user, card, action (exact, or a prefix ending in
//! `.`), outcome, client address and time — newest first, a page at a time by sequence
//! number, so neither a page nor the CSV export holds more than one page in memory.
//! "My card" reads a user's recent events through the same [`page`].

use api_types::audit::{AuditAction, AuditRecord};
use api_types::ra::UserUuid;
use sqlx::AnyConnection;

use super::{corrupt, StoreError};

/// The filters; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub user: Option<UserUuid>,
    pub card: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub client: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Only events with a smaller sequence number (the next page).
    pub before: Option<i64>,
}

/// An event as read back: the one row type of the trail's read side (the write side's is
/// [`super::audit::AuditEntry`]), for the RA console, its CSV export and "My card".
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Event {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub outcome: String,
    pub card_guid: Option<String>,
    pub user_uuid: Option<String>,
    pub client_addr: Option<String>,
    pub detail: String,
}

impl Event {
    /// What happened; a name no [`AuditAction`] has is a corrupt row.
    pub fn action(&self) -> Result<AuditAction, StoreError> {
        AuditAction::parse(&self.action).ok_or_else(|| corrupt("audit_log", "action"))
    }

    /// The wire record (RA-4).
    pub fn into_record(self) -> Result<AuditRecord, StoreError> {
        Ok(AuditRecord {
            action: self.action()?,
            seq: self.seq,
            at: self.at,
            actor: self.actor,
            outcome: self.outcome,
            card_guid: self.card_guid,
            user_uuid: self.user_uuid,
            client_addr: self.client_addr,
            detail: self.detail,
        })
    }
}

enum Value {
    Text(String),
    Number(i64),
}

/// The WHERE clause and its values, numbered from `$1`.
fn conditions(filter: &Filter) -> (String, Vec<Value>) {
    let mut clauses: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut add = |clause: &str, value: Value| {
        values.push(value);
        clauses.push(clause.replace('?', &format!("${}", values.len())));
    };
    if let Some(user) = &filter.user {
        add("user_uuid = ?", Value::Text(user.as_str().to_owned()));
    }
    if let Some(card) = &filter.card {
        add("card_guid = ?", Value::Text(card.to_ascii_lowercase()));
    }
    if let Some(action) = &filter.action {
        match action.strip_suffix('.') {
            // A family of actions: `unlock.` is every `unlock.*` (no wildcard in the
            // value itself: actions are lowercase letters, `_` and `.`, checked upstream).
            Some(family) => add(
                "SUBSTR(action, 1, LENGTH(?)) = ?",
                Value::Text(format!("{family}.")),
            ),
            None => add("action = ?", Value::Text(action.clone())),
        }
    }
    if let Some(outcome) = &filter.outcome {
        add("outcome = ?", Value::Text(outcome.clone()));
    }
    if let Some(client) = &filter.client {
        add("client_addr = ?", Value::Text(client.clone()));
    }
    if let Some(from) = filter.from {
        add("at >= ?", Value::Number(from));
    }
    if let Some(to) = filter.to {
        add("at < ?", Value::Number(to));
    }
    if let Some(before) = filter.before {
        add("seq < ?", Value::Number(before));
    }
    let clause = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (clause, values)
}

/// Up to `limit` events matching `filter`, newest first.
pub async fn page(
    conn: &mut AnyConnection,
    filter: &Filter,
    limit: i64,
) -> Result<Vec<Event>, StoreError> {
    let (clause, values) = conditions(filter);
    let sql = format!(
        "SELECT seq, at, actor, action, outcome, card_guid, user_uuid, client_addr, detail \
         FROM audit_log{clause} ORDER BY seq DESC LIMIT ${}",
        values.len() + 1
    );
    let mut query = sqlx::query_as::<_, Event>(&sql);
    for value in values {
        query = match value {
            Value::Text(text) => query.bind(text),
            Value::Number(number) => query.bind(number),
        };
    }
    Ok(query.bind(limit).fetch_all(conn).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_4_filters_number_their_values_in_order() {
        let filter = Filter {
            user: UserUuid::parse("123456789012").ok(),
            action: Some("unlock.".into()),
            from: Some(10),
            before: Some(99),
            ..Filter::default()
        };
        let (clause, values) = conditions(&filter);
        assert_eq!(
            clause,
            " WHERE user_uuid = $1 AND SUBSTR(action, 1, LENGTH($2)) = $2 AND at >= $3 \
             AND seq < $4"
        );
        assert_eq!(values.len(), 4);
        assert_eq!(conditions(&Filter::default()).0, "");
    }
}
