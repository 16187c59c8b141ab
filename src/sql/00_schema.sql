-- pg_retention install script, assembled from src/sql/*.sql in name order.
-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_retention" to load this file. \quit

-- The schema `retention` is created by CREATE EXTENSION (control file).
-- Nothing in it is granted to PUBLIC unless stated: each part grants what
-- application roles may use.
REVOKE ALL ON SCHEMA retention FROM PUBLIC;
GRANT USAGE ON SCHEMA retention TO PUBLIC;

-- Roles (cluster-wide, created once; see docs/privileges.md):
--   retention_admin  runs the lifecycle, reads and restores the archive
--   retention_dpo    the data-protection officer: forgets, exports, restricts, approves requests
-- Application roles get neither.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'retention_admin') THEN
        CREATE ROLE retention_admin NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'retention_dpo') THEN
        CREATE ROLE retention_dpo NOLOGIN;
    END IF;
END
$$;
