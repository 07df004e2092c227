-- REG-1…REG-4: a self-service registration, from the card-verified start to the emailed
-- code, bound to the session that began it. Answers are argon2id hashes until the code
-- confirms them; then they replace the user's.
CREATE TABLE registrations (
    id TEXT PRIMARY KEY,
    user_uuid TEXT NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    session_hash BLOB NOT NULL,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    email TEXT,
    answers TEXT,
    code_hash BLOB,
    code_salt BLOB,
    code_expires_at INTEGER,
    code_failures INTEGER NOT NULL DEFAULT 0,
    completed_at INTEGER
);
CREATE INDEX registrations_by_user ON registrations (user_uuid);
