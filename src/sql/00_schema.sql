-- pg_retention install script, assembled from src/sql/*.sql in name order.
-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_retention" to load this file. \quit

-- The schema `retention` is created by CREATE EXTENSION (control file).
-- Nothing in it is granted to PUBLIC unless stated: each part grants what
-- application roles may use.
REVOKE ALL ON SCHEMA retention FROM PUBLIC;
GRANT USAGE ON SCHEMA retention TO PUBLIC;
