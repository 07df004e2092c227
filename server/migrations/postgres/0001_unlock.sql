-- Users, their cards, security questions, unlock attempts, the mail outbox and the audit
-- trail. Integers are 64-bit, times are unix seconds, flags are 0/1.

CREATE TABLE users (
    uuid TEXT PRIMARY KEY,               -- User's Unique Identifier, 12 digits
    title TEXT NOT NULL,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    email TEXT NOT NULL,
    mobile TEXT,
    role TEXT NOT NULL DEFAULT 'staff',  -- staff | ra_agent | ra_manager
    registered BIGINT NOT NULL DEFAULT 0,
    unlock_failures BIGINT NOT NULL DEFAULT 0,
    self_service_closed BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE cards (
    guid TEXT PRIMARY KEY,               -- CHUID GUID, hex
    user_uuid TEXT NOT NULL REFERENCES users(uuid),
    card_auth_public_key BYTEA NOT NULL, -- 9E key, SEC1
    puk_enc BYTEA NOT NULL,              -- the PUK the card is known to have, sealed with the KEK
    puk_next_enc BYTEA,                  -- a PUK sent to the card whose outcome is not yet known
    created_at BIGINT NOT NULL
);
CREATE INDEX cards_user ON cards(user_uuid);

CREATE TABLE security_questions (
    id BIGINT PRIMARY KEY,
    text TEXT NOT NULL
);

CREATE TABLE security_answers (
    user_uuid TEXT NOT NULL REFERENCES users(uuid),
    question_id BIGINT NOT NULL REFERENCES security_questions(id),
    answer_hash TEXT NOT NULL,           -- argon2id PHC string of the normalised answer
    PRIMARY KEY (user_uuid, question_id)
);

CREATE TABLE unlock_attempts (
    id TEXT PRIMARY KEY,
    card_guid TEXT NOT NULL,
    user_uuid TEXT NOT NULL,
    state TEXT NOT NULL,
    challenge BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    question_ids TEXT NOT NULL DEFAULT '',
    code_hash BYTEA,
    code_salt BYTEA,
    code_expires_at BIGINT,
    code_failures BIGINT NOT NULL DEFAULT 0,
    card_updated BIGINT NOT NULL DEFAULT 0,
    completed_at BIGINT
);
CREATE INDEX unlock_attempts_card ON unlock_attempts(card_guid);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    sent_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox(sent_at, next_attempt_at);

-- Append-only, hash-chained: hash = SHA-256(prev_hash || the row's fields).
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    card_guid TEXT,
    user_uuid TEXT,
    client_addr TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

INSERT INTO security_questions (id, text) VALUES
 (1, 'What is your mother''s maiden name?'),
 (2, 'Where were you on the turn of the millennium?'),
 (3, 'What was the make and model of your first car?'),
 (4, 'What was your childhood phone number, including area code?'),
 (5, 'What was the name of your first pet?'),
 (6, 'In which town or city were you born?'),
 (7, 'What was the name of your first school?'),
 (8, 'What is the name of the street you grew up on?'),
 (9, 'What was your first job?'),
 (10, 'What is your favourite book?'),
 (11, 'What was the name of your best friend at school?'),
 (12, 'What is your father''s middle name?'),
 (13, 'In which town or city did your parents meet?'),
 (14, 'What was the first concert you attended?'),
 (15, 'What is the name of your favourite teacher?'),
 (16, 'What was your favourite food as a child?'),
 (17, 'Where did you go on your first holiday abroad?'),
 (18, 'What is your oldest sibling''s middle name?'),
 (19, 'What was the name of the hospital where you were born?'),
 (20, 'What was your childhood nickname?');
