-- Hardening: freshness that counts only what was written, and a database
-- whose PUBLIC privileges no longer let a read-only login write or stop
-- ingestion.

-- +goose Up

-- When a body was last decoded and written with its unit. NULL: it was
-- only kept (Run.KeepRaw) because its unit failed; it never counted.
-- Freshness (ingest status, reports.ingest_health_v1) is max(decoded_at),
-- and reprocess replays decoded bodies. Bodies stored before this
-- migration were counted as written then; they keep that.
ALTER TABLE ingest.raw_payloads ADD COLUMN decoded_at timestamptz;
COMMENT ON COLUMN ingest.raw_payloads.decoded_at IS
    'When the body was last decoded and written with its unit; NULL when it was only kept, its unit having failed.';
UPDATE ingest.raw_payloads SET decoded_at = fetched_at;

-- What PUBLIC may do in this database by default, and a read-only login
-- must not: take advisory locks (a reader holding the run lock's key made
-- every run skip; the migration lock's, `migrate up` wait), store large
-- objects (lo_from_bytea keeps them forever), create temporary tables and
-- pg_temp functions. The warehouse's own roles (the migrating role and the
-- database's owner) keep the advisory locks: the run lock and goose's
-- migration lock are theirs. Function privileges belong to the functions'
-- owner, the bootstrap superuser: without superuser, those are left as
-- they are, said in a NOTICE, and listed in the README for the server's
-- administrator. Privileges on pg_catalog functions are per database, so
-- other databases of the server are untouched.
-- +goose StatementBegin
DO $$
DECLARE
    owner_role text := (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database());
    -- the migrating role and the owner, but not a superuser: it needs no
    -- grant, and the functions' owner would lose its own by a revoke
    grantees text := (SELECT string_agg(quote_ident(rolname), ', ') FROM pg_roles
                      WHERE rolname IN (current_user, owner_role) AND NOT rolsuper);
    f record;
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        FOR f IN
            SELECT p.oid::regprocedure AS fn, p.proname LIKE 'pg\_%advisory\_%' AS advisory FROM pg_proc p
            WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proacl IS NULL
              AND (p.proname LIKE 'pg\_%advisory\_%' OR p.proname LIKE 'lo\_%' OR p.proname IN ('loread', 'lowrite'))
        LOOP
            EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f.fn);
            IF f.advisory AND grantees IS NOT NULL THEN
                EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', f.fn, grantees);
            END IF;
        END LOOP;
    ELSE
        RAISE NOTICE 'not a superuser: PUBLIC keeps EXECUTE on the advisory-lock and large-object functions of this database; see the README''s security section';
    END IF;
    IF pg_has_role(current_user, owner_role, 'USAGE') THEN
        EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
        IF grantees IS NOT NULL THEN
            EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO %s', current_database(), grantees);
        END IF;
    ELSE
        RAISE NOTICE 'not the database''s owner: PUBLIC keeps TEMPORARY on it; see the README''s security section';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $$
DECLARE
    owner_role text := (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database());
    -- the migrating role and the owner, but not a superuser: it needs no
    -- grant, and the functions' owner would lose its own by a revoke
    grantees text := (SELECT string_agg(quote_ident(rolname), ', ') FROM pg_roles
                      WHERE rolname IN (current_user, owner_role) AND NOT rolsuper);
    f record;
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        FOR f IN
            SELECT p.oid::regprocedure AS fn FROM pg_proc p
            WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proname NOT IN ('lo_import', 'lo_export')
              AND (p.proname LIKE 'pg\_%advisory\_%' OR p.proname LIKE 'lo\_%' OR p.proname IN ('loread', 'lowrite'))
        LOOP
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', f.fn);
            IF grantees IS NOT NULL THEN
                EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM %s', f.fn, grantees);
            END IF;
        END LOOP;
    END IF;
    IF pg_has_role(current_user, owner_role, 'USAGE') THEN
        EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
    END IF;
END
$$;
-- +goose StatementEnd

ALTER TABLE ingest.raw_payloads DROP COLUMN decoded_at;
