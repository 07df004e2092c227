-- The RA console (RA-1…RA-4). Names get search keys (lowercase, accents folded, written by
-- the server, which fills them for older rows at start); cards keep the passcode tries
-- last seen; the RA's phone codes (one live per user, kept only as a keyed hash); who
-- reviewed a "this wasn't me" report; and indexes for the audit search.
ALTER TABLE users ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN family_key TEXT NOT NULL DEFAULT '';
CREATE INDEX users_name_key ON users (name_key text_pattern_ops);
CREATE INDEX users_family_key ON users (family_key text_pattern_ops);

ALTER TABLE cards ADD COLUMN pin_tries_left BIGINT;
ALTER TABLE cards ADD COLUMN pin_tries_seen_at BIGINT;

CREATE TABLE ra_phone_codes (
    user_uuid TEXT PRIMARY KEY REFERENCES users (uuid) ON DELETE CASCADE,
    code_hash BYTEA NOT NULL,
    code_salt BYTEA NOT NULL,
    issued_by TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    failures BIGINT NOT NULL DEFAULT 0,
    used_at BIGINT
);

ALTER TABLE not_me_links ADD COLUMN reviewed_by TEXT;

CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_card ON audit_log (card_guid);
