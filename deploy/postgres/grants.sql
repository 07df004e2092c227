-- RA-4: what the service role (:app) may do, table by table: add to the audit trail but
-- never change or remove it, and no schema changes at all. Run by the owner after every
-- `smartcard-server migrate` (a release's new tables need their grants here):
--   psql -v app=scss_app -d smartcard -f deploy/postgres/grants.sql
-- The role and database come from deploy/postgres/create.sql.
GRANT SELECT, INSERT, UPDATE, DELETE ON users, cards, security_questions,
    security_answers, unlock_attempts, outbox, rate_limits, card_certificates,
    spent_logins, sessions, registrations, not_me_links, ra_phone_codes, renewals,
    reminders, job_runs, account_passcodes, passcode_history, passcode_updates,
    refusal_tally
    TO :"app";
-- CERT-1: the CA is made at first start and its key re-sealed by rotate-kek; never removed.
GRANT SELECT, INSERT, UPDATE ON certificate_authority TO :"app";
GRANT SELECT, INSERT ON audit_log TO :"app";
GRANT SELECT, UPDATE ON audit_chain_heads TO :"app";
-- RA-4: verification checkpoints move forward (a trigger refuses the rest).
GRANT SELECT, INSERT, UPDATE ON audit_checkpoints TO :"app";
GRANT SELECT ON audit_log_legacy, _sqlx_migrations TO :"app";
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO :"app";
