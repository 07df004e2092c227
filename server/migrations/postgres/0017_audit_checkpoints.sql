-- RA-4: how far each audit chain has been verified, so the RA's page and the background
-- check read only the events after it. A checkpoint carries an HMAC under the audit key
-- (written by the server, which holds the key), so whoever can write the database but
-- lacks the key cannot vouch for rows: a checkpoint whose MAC fails is reported as
-- tampering. No row yet for a chain means "from its start". Checkpoints only move
-- forward and are never removed: rewinding one would let rows after it be cut unnoticed.
CREATE TABLE audit_checkpoints (
    chain BIGINT PRIMARY KEY,
    chain_seq BIGINT NOT NULL,
    mac TEXT NOT NULL,
    checked_at BIGINT NOT NULL,
    checkpoint_mac TEXT NOT NULL
);

CREATE FUNCTION audit_checkpoint_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'audit checkpoints are never removed';
    END IF;
    IF NEW.chain <> OLD.chain OR NEW.chain_seq <= OLD.chain_seq THEN
        RAISE EXCEPTION 'audit checkpoints only move forward';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_checkpoints_forward_only BEFORE UPDATE OR DELETE ON audit_checkpoints
FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_forward_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoint_forward_only();
