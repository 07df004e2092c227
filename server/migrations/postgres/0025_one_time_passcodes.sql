-- SCSC-1…SCSC-4 / POL-3: which way an unlock goes (the questions, the Smartcard Service
-- Centre's Account Recovery Passcode, or the NHS's 2023 route), and how its code was sent.
ALTER TABLE unlock_attempts ADD COLUMN route TEXT NOT NULL DEFAULT 'questions';
ALTER TABLE unlock_attempts ADD COLUMN delivery TEXT;
-- SCSC-4: wrong Account Recovery details, counted per user until an unlock succeeds or
-- the RA reopens self-service; RA-6: an incident stop closes every route, not only the
-- questions (their three strikes close the questions alone).
ALTER TABLE users ADD COLUMN recovery_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN incident_stopped BIGINT NOT NULL DEFAULT 0;
-- SMS-1: a text message waits in the same outbox as mail: `sms`, its recipient a mobile
-- in E.164 form, its body the template's personalisation (wiped once sent, ALL-7).
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';
-- Accounts closed before now may have been closed by an incident stop: treat them all as
-- stopped, so no route opens for them until the RA reopens self-service.
UPDATE users SET incident_stopped = self_service_closed;
