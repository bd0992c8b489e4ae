#!/bin/sh
# The app's two database roles and its database. The postgres image runs this once, as the cluster's
# superuser, on the first start of an empty data volume (/docker-entrypoint-initdb.d).
#
# casemgmt_owner owns the database and every table: `migrate` and the maintenance commands connect as
# it. casemgmt_app is what web, worker and beat connect as: it owns nothing, may not create databases
# or roles, is a member of no role, and gets its privileges from the owner after every migrate
# (manage.py grant_app_role): DML on ordinary tables, INSERT and SELECT only on the append-only ones.
set -eu
: "${CASEMGMT_OWNER_DB_PASSWORD:?set CASEMGMT_OWNER_DB_PASSWORD}"
: "${CASEMGMT_APP_DB_PASSWORD:?set CASEMGMT_APP_DB_PASSWORD}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
  --set owner_password="$CASEMGMT_OWNER_DB_PASSWORD" --set app_password="$CASEMGMT_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE casemgmt_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE casemgmt_app LOGIN PASSWORD :'app_password';
CREATE DATABASE casemgmt OWNER casemgmt_owner;
REVOKE ALL ON DATABASE casemgmt FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE casemgmt TO casemgmt_app;
\connect casemgmt
-- PostgreSQL 15+: the public schema belongs to the database owner; nobody else creates in it.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO casemgmt_app;
SQL
