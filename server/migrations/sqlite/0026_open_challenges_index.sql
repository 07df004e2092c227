-- ALL-5 counts a client's open login challenges at every login/start. The index on
-- (client_key, expires_at) held the used ones too, so behind one hospital's NAT every
-- count walked all of that morning's sign-ins, slower with each; only open ones now.
DROP INDEX login_challenges_open;
CREATE INDEX login_challenges_open ON login_challenges (client_key, expires_at)
    WHERE used_at IS NULL;
