-- PASS-1 / PASS-2: the Account Recovery and Verification Passcodes, as argon2id hashes
-- under a pepper; a user has each or not.
CREATE TABLE account_passcodes (
    user_uuid TEXT NOT NULL,
    kind TEXT NOT NULL,           -- 'account_recovery' | 'verification'
    hash TEXT NOT NULL,           -- peppered argon2id (PHC string after its mark)
    set_at BIGINT NOT NULL,
    PRIMARY KEY (user_uuid, kind)
);

-- PASS-3: the last five values of each, as keyed hashes (HMAC under a key from the
-- configuration, over the user and the kind too): enough to refuse a reuse, useless to
-- a reader of the database alone.
CREATE TABLE passcode_history (
    user_uuid TEXT NOT NULL,
    kind TEXT NOT NULL,
    keyed_hash BLOB NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX passcode_history_user ON passcode_history (user_uuid, kind, changed_at);

-- PASS-2: an Update waiting for the card to take its new passcode; the server-side
-- changes it carries (hashed) are applied only when the card did.
CREATE TABLE passcode_updates (
    id TEXT PRIMARY KEY,
    user_uuid TEXT NOT NULL,
    card_guid TEXT NOT NULL,
    changes TEXT NOT NULL,        -- JSON
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    finished_at BIGINT
);

-- PASS-4: when the passcodes were last set (none: not since this table existed).
ALTER TABLE users ADD COLUMN passcodes_set_at BIGINT;
