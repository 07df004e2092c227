-- "This wasn't me": every notice email carries a single-use link (its token kept only as
-- a SHA-256); using it records a report for the RA and closes self-service for the user
-- until the RA has reviewed it.
CREATE TABLE not_me_links (
    token_hash BLOB PRIMARY KEY,
    user_uuid TEXT NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    notice TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    reported_at INTEGER,
    reviewed_at INTEGER
);
CREATE INDEX not_me_links_reported ON not_me_links (reported_at);
