#!/bin/sh
# Runs once, when the PostgreSQL volume is created (as the image's superuser, which the portal
# itself never uses): the owner role runs migrations, the application role serves and works.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE portal_owner LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD '${PORTAL_OWNER_PASSWORD}';
CREATE ROLE portal_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD '${PORTAL_APP_PASSWORD}';
CREATE DATABASE portal OWNER portal_owner;
REVOKE ALL ON DATABASE portal FROM PUBLIC;
GRANT CONNECT ON DATABASE portal TO portal_app;
SQL
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname portal <<SQL
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO portal_owner;
SQL
