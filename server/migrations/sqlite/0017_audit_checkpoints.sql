-- RA-4: how far each audit chain has been verified, so the RA's page and the background
-- check read only the events after it. A checkpoint carries an HMAC under the audit key
-- (written by the server, which holds the key), so whoever can write the database but
-- lacks the key cannot vouch for rows: a checkpoint whose MAC fails is reported as
-- tampering. No row yet for a chain means "from its start". Checkpoints only move
-- forward and are never removed: rewinding one would let rows after it be cut unnoticed.
CREATE TABLE audit_checkpoints (
    chain INTEGER PRIMARY KEY,
    chain_seq INTEGER NOT NULL,          -- every link from 1 up to here held
    mac TEXT NOT NULL,                   -- the MAC of the row at chain_seq
    checked_at INTEGER NOT NULL,
    checkpoint_mac TEXT NOT NULL         -- HMAC(audit key, chain, chain_seq, mac, checked_at)
);

CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are never removed'); END;
CREATE TRIGGER audit_checkpoints_forward_only BEFORE UPDATE ON audit_checkpoints
WHEN NEW.chain_seq <= OLD.chain_seq OR NEW.chain <> OLD.chain
BEGIN SELECT RAISE(ABORT, 'audit checkpoints only move forward'); END;
