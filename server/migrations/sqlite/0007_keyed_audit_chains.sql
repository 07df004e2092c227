-- RA-4: the audit trail becomes 16 HMAC-keyed chains, each append locking only its own
-- chain's head, and append-only enforced by triggers. The unkeyed single chain written
-- before this is kept, untouched, as audit_log_legacy.
ALTER TABLE audit_log RENAME TO audit_log_legacy;

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,             -- global order of insertion
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    card_guid TEXT,
    user_uuid TEXT,
    client_addr TEXT,
    detail TEXT NOT NULL,
    chain INTEGER NOT NULL,              -- which of the chains (by actor)
    chain_seq INTEGER NOT NULL,          -- 1, 2, 3… within the chain
    prev_mac TEXT NOT NULL,
    mac TEXT NOT NULL,                   -- HMAC-SHA256(audit key, prev_mac || fields)
    UNIQUE (chain, chain_seq)
);
CREATE INDEX audit_log_user ON audit_log(user_uuid);

CREATE TABLE audit_chain_heads (
    chain INTEGER PRIMARY KEY,
    chain_seq INTEGER NOT NULL,
    mac TEXT NOT NULL
);
WITH RECURSIVE n(chain) AS (SELECT 0 UNION ALL SELECT chain + 1 FROM n WHERE chain < 15)
INSERT INTO audit_chain_heads (chain, chain_seq, mac)
SELECT chain, 0, '0000000000000000000000000000000000000000000000000000000000000000' FROM n;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_chain_heads_no_delete BEFORE DELETE ON audit_chain_heads
BEGIN SELECT RAISE(ABORT, 'audit chain heads are never removed'); END;
CREATE TRIGGER audit_chain_heads_forward_only BEFORE UPDATE ON audit_chain_heads
WHEN NEW.chain_seq <> OLD.chain_seq + 1 OR NEW.chain <> OLD.chain
BEGIN SELECT RAISE(ABORT, 'audit chain heads only move forward by one'); END;
