-- ALL-5: a flood leaves a bounded record. Refusals tied to no user are counted here per
-- window, step and reason (one row each, however many arrive) and rolled into one audit
-- event per row once the window closes.
CREATE TABLE refusal_tally (
    window_started_at INTEGER NOT NULL,
    action TEXT NOT NULL,
    code TEXT NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (window_started_at, action, code)
);
-- ALL-5: challenges still open per client address (IPv6 per /64) are what login/start
-- counts, so signing in costs a hospital's shared address nothing once it is done.
ALTER TABLE login_challenges ADD COLUMN client_key TEXT NOT NULL DEFAULT '';
CREATE INDEX login_challenges_open ON login_challenges (client_key, expires_at);
CREATE INDEX login_challenges_expiry ON login_challenges (expires_at);
