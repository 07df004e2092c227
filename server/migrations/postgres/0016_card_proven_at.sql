-- RA-5: when the session's card last proved itself (passcode and 9A signature): at
-- sign-in, and again on request. Actions that give access need it within 5 minutes.
ALTER TABLE sessions ADD COLUMN card_proven_at BIGINT NOT NULL DEFAULT 0;
