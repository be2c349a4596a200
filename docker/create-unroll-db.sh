#!/bin/sh
# Creates Unroll's own role and database on the compose PostgreSQL when they are missing
# (Temporal's databases live on the same server). Idempotent: run on every `compose up`
# by the one-shot unroll-db service, so it also works on a data volume created before
# Unroll had a database there. Unroll creates its schema itself on first use.
set -eu
: "${PGHOST:?}" "${PGUSER:?}" "${UNROLL_DB_NAME:?}" "${UNROLL_DB_USER:?}" "${UNROLL_DB_PASSWORD:?}"

until pg_isready -q; do sleep 1; done

role_exists=$(psql -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = '${UNROLL_DB_USER}'")
if [ "$role_exists" != "1" ]; then
  psql -d postgres -v ON_ERROR_STOP=1 -c "CREATE ROLE \"${UNROLL_DB_USER}\" LOGIN PASSWORD '${UNROLL_DB_PASSWORD}'"
fi
db_exists=$(psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '${UNROLL_DB_NAME}'")
if [ "$db_exists" != "1" ]; then
  createdb --owner="${UNROLL_DB_USER}" "${UNROLL_DB_NAME}"
fi
echo "database ${UNROLL_DB_NAME} (owner ${UNROLL_DB_USER}) is ready"
