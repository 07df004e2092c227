-- PASS-5: wrong Verification Passcodes said to the helpdesk in a row; the check locks at
-- the limit until the user sets a new one (a new passcode is a new row, counting from 0).
ALTER TABLE account_passcodes ADD COLUMN check_failures BIGINT NOT NULL DEFAULT 0;
