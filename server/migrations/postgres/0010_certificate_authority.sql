-- CERT-1: the service's certificate authority (one row: its certificate, and its P-256
-- key sealed with the KEK), and every certificate it issued to a card's own key pair.
CREATE TABLE certificate_authority (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    certificate BYTEA NOT NULL,
    key_enc BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE card_certificates (
    serial TEXT PRIMARY KEY,
    card_guid TEXT NOT NULL REFERENCES cards (guid) ON DELETE CASCADE,
    slot TEXT NOT NULL CHECK (slot IN ('9a', '9e')),
    certificate BYTEA NOT NULL,
    issued_at BIGINT NOT NULL,
    not_after BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX card_certificates_by_card ON card_certificates (card_guid, slot);
