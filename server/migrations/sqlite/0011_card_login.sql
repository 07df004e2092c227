-- AUTH-1: single-use login challenges for a card's 9A key, and AUTH-2: server-side
-- sessions (any instance serves them), keyed by the SHA-256 of the cookie's secret.
CREATE TABLE login_challenges (
    id TEXT PRIMARY KEY,
    card_guid TEXT NOT NULL,
    challenge BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE TABLE sessions (
    secret_hash BLOB PRIMARY KEY,
    user_uuid TEXT NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    card_guid TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER
);
CREATE INDEX sessions_by_user ON sessions (user_uuid);
