-- PASS-4: the RA's unlock of an account locked because its passcodes expired gives the
-- user the lock period again from then (none: never unlocked so).
ALTER TABLE users ADD COLUMN passcodes_unlocked_at BIGINT;
-- Users from before passcodes were dated: from when their first card was issued.
UPDATE users SET passcodes_set_at =
    (SELECT MIN(created_at) FROM cards WHERE cards.user_uuid = users.uuid)
    WHERE passcodes_set_at IS NULL;
