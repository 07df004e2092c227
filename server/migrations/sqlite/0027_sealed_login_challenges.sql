-- AUTH-1 / issue 22: login challenges are sealed by the server (nonce, card, end, MAC)
-- instead of stored, so login/start writes nothing. Single use is a row per answered
-- challenge, under its nonce, kept until the challenge's end (then swept). Challenges
-- handed out before this migration no longer open: those sign-ins start again.
DROP TABLE login_challenges;
CREATE TABLE spent_logins (
    id TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
-- No index on expires_at: the once-a-minute sweep reads a few minutes of sign-ins,
-- cheaper than one more index entry written by every one of them.
