-- A PostgreSQL role for running Takstkompas that cannot change or delete the audit trail.
--
-- Run as the owner of the database (the role that runs `uv run alembic upgrade head`), after
-- the schema is up to date. Replace takstkompas_app, the password and the database name
-- takstkompas. The app then connects as takstkompas_app (TAKSTKOMPAS_DB_URL); schema upgrades
-- keep running as the owner. tests/test_audit_trail.py runs the app's writes as this role.

CREATE ROLE takstkompas_app LOGIN PASSWORD 'CHANGE-ME';
GRANT CONNECT ON DATABASE takstkompas TO takstkompas_app;
GRANT USAGE ON SCHEMA public TO takstkompas_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO takstkompas_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO takstkompas_app;
-- Tables and sequences a later upgrade creates get the same rights.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO takstkompas_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO takstkompas_app;
-- The audit trail: read and add, never change or remove.
REVOKE UPDATE, DELETE, TRUNCATE ON auditevent FROM takstkompas_app;
