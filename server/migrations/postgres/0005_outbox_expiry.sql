-- ALL-7: a queued message that carries a code is wiped once sent and dropped, unsent,
-- once the code has expired (or after too many failed tries); dropped_at says when.
ALTER TABLE outbox ADD COLUMN expires_at BIGINT;
ALTER TABLE outbox ADD COLUMN dropped_at BIGINT;
