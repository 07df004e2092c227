-- CERT-3 / CERT-4: certificate renewals on the card. One row per renewal: its secure
-- channel's state (host challenge, what was sealed and sent, the card's answers, and the
-- certificates issued for the card's new keys) as JSON, kept until the card confirms
-- them; only then are they the card's and the old ones revoked.
CREATE TABLE renewals (
    id TEXT PRIMARY KEY,
    card_guid TEXT NOT NULL REFERENCES cards(guid),
    user_uuid TEXT NOT NULL REFERENCES users(uuid),
    state TEXT NOT NULL,
    channel TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX renewals_card ON renewals(card_guid);

-- CERT-4: self-service renewals since the RA last renewed (or issued) the card.
ALTER TABLE cards ADD COLUMN renewals_in_a_row INTEGER NOT NULL DEFAULT 0;

-- CERT-5: why a certificate was revoked (superseded by a renewal, or by the RA).
ALTER TABLE card_certificates ADD COLUMN revoked_reason TEXT;
