#!/bin/sh
# Creates (or updates the password of) grafana_reader, a login in the
# billing_reader group role, for the Grafana datasource. Run by the
# compose service grafana-reader after migrate; PG* variables say where.
set -eu
PGPASSWORD=$(cat /run/secrets/db_password)
export PGPASSWORD
password=$(cat /run/secrets/grafana_db_password)
psql -v ON_ERROR_STOP=1 -v pw="$password" <<'SQL'
SELECT 'CREATE ROLE grafana_reader LOGIN IN ROLE billing_reader'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grafana_reader') \gexec
ALTER ROLE grafana_reader PASSWORD :'pw';
SQL
