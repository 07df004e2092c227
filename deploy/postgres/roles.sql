-- The database's two roles (OPS-6), run once by a superuser with psql:
--   psql -v owner=scss_owner -v app=scss_app -v db=smartcard -f roles.sql
-- then set each role's password (\password scss_owner, \password scss_app).
--
-- :owner owns the schema and runs `smartcard-server migrate`. :app is what every
-- instance connects as: it reads and writes rows, never changes the schema, and may only
-- add to the audit trail — not edit or delete it (RA-4), whoever holds its password.

SELECT format('CREATE ROLE %I LOGIN', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN', :'app')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec

\connect :db
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO :"owner";
GRANT USAGE ON SCHEMA public TO :"app";

-- What the owner's migrations create from now on…
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app";
-- …and what they already made (running this again after a release is harmless).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";

-- The audit trail is append-only for the service. (Run this file again after a release
-- that adds tables, so the REVOKEs cover them; `migrate` as the owner never edits it.)
SELECT format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %I', t, :'app')
  FROM unnest(ARRAY['audit_log', '_sqlx_migrations']) AS t
 WHERE EXISTS (SELECT FROM pg_tables WHERE schemaname = 'public' AND tablename = t) \gexec
