-- RA-4: run the service as a role that can add to the audit trail but never change or
-- remove it. Run once as the database owner, e.g.
--   psql -v app_password="'…'" -d smartcard -f server/deploy/postgres-app-role.sql
-- then point SCSS_DATABASE_URL at scss_app (migrations stay with the owner:
-- `smartcard-server migrate` as the owner before each upgrade).
CREATE ROLE scss_app LOGIN PASSWORD :app_password;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, cards, security_questions,
    security_answers, unlock_attempts, outbox, rate_limits, card_certificates,
    login_challenges, sessions, registrations, not_me_links, ra_phone_codes, renewals,
    reminders, job_runs, account_passcodes, passcode_history, passcode_updates
    TO scss_app;
-- CERT-1: the CA is made at first start and its key re-sealed by rotate-kek; never removed.
GRANT SELECT, INSERT, UPDATE ON certificate_authority TO scss_app;
GRANT SELECT, INSERT ON audit_log TO scss_app;
GRANT SELECT, UPDATE ON audit_chain_heads TO scss_app;
-- RA-4: verification checkpoints move forward (a trigger refuses the rest).
GRANT SELECT, INSERT, UPDATE ON audit_checkpoints TO scss_app;
GRANT SELECT ON audit_log_legacy, _sqlx_migrations TO scss_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO scss_app;
