-- ALL-6: the hash of the flow cookie that binds an attempt to the browser that started it.
ALTER TABLE unlock_attempts ADD COLUMN flow_secret_hash BYTEA;
