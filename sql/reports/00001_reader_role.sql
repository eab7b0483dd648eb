-- The read-only role for BI tools: USAGE on reports and SELECT on its views,
-- nothing else. Roles belong to the server, so it is created only if absent
-- and kept on the way down (other databases may use it).

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    CREATE ROLE billing_reader NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- already there, or created by a migrator of another database meanwhile
END
$$;
-- +goose StatementEnd
GRANT USAGE ON SCHEMA reports TO billing_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA reports GRANT SELECT ON TABLES TO billing_reader;
-- Nobody creates objects in public (the default since PostgreSQL 15).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- +goose Down
ALTER DEFAULT PRIVILEGES IN SCHEMA reports REVOKE SELECT ON TABLES FROM billing_reader;
REVOKE USAGE ON SCHEMA reports FROM billing_reader;
