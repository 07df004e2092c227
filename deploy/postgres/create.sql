-- The database and its two roles (OPS-6, RA-4), made once by a superuser with psql:
--   psql -v owner=scss_owner -v app=scss_app -v db=smartcard -f deploy/postgres/create.sql
-- then give each role a password (\password scss_owner, \password scss_app), run
-- `smartcard-server migrate` as the owner, and then deploy/postgres/grants.sql.
--
-- :owner owns the database and its schema and runs the migrations. :app is what every
-- instance connects as (migrate_on_start = false): it reads and writes rows, cannot
-- change the schema, and may only add to the audit trail (grants.sql).

SELECT format('CREATE ROLE %I LOGIN', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN', :'app')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec

\connect :db
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"app";
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
