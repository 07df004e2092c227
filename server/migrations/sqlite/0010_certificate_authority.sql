-- CERT-1: the service's certificate authority (one row: its certificate, and its P-256
-- key sealed with the KEK), and every certificate it issued to a card's own key pair.
CREATE TABLE certificate_authority (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    certificate BLOB NOT NULL,
    key_enc BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE card_certificates (
    serial TEXT PRIMARY KEY,
    card_guid TEXT NOT NULL REFERENCES cards (guid) ON DELETE CASCADE,
    slot TEXT NOT NULL CHECK (slot IN ('9a', '9e')),
    certificate BLOB NOT NULL,
    issued_at INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX card_certificates_by_card ON card_certificates (card_guid, slot);
