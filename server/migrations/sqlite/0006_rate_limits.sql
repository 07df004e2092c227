-- ALL-5: fixed-window request counters shared by every instance, one row per key
-- (step, scope and client address, card or user); expired rows are swept.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    window_started_at INTEGER NOT NULL,
    hits INTEGER NOT NULL
);
CREATE INDEX rate_limits_window ON rate_limits(window_started_at);
