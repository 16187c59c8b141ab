-- pg_retention 0.1.0 -> 0.2.0, run by ALTER EXTENSION pg_retention UPDATE.
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_retention UPDATE TO '0.2.0'" to load this file. \quit

-- It turns a 0.1.0 schema into exactly what a fresh 0.2.0 install has
-- (src/sql/*.sql): test/t/060_upgrade.pl compares the two, object by object.
-- Each change to src/sql/ after 0.1.0 adds its DDL to the section of its part
-- below, in the same words as the part where it can (CREATE OR REPLACE
-- FUNCTION, ALTER TABLE ... ADD COLUMN, a new table with its grants and
-- comment).  Rules (docs/versions.md):
--   - the script runs once, as the superuser who runs ALTER EXTENSION, with
--     search_path = retention; qualify every name anyway;
--   - existing rows must stay valid: archived rows must still open, erasure
--     log entries still re-apply; backfill new columns here;
--   - an object created here is a member of the extension, as in an install;
--     grants follow 90_privileges.sql (new functions get no PUBLIC EXECUTE
--     unless that file's list names them: repeat the GRANT here);
--   - never drop and re-create a table that holds data.

-- 00_schema.sql: schema, roles ------------------------------------------

-- 10_inspect.sql: policies, check(), register of processing -------------

-- 20_methods.sql: anonymization methods ----------------------------------

-- 30_lifecycle.sql: run history, archive, paused tables ------------------

-- 40_worker.sql: worker state --------------------------------------------

-- 50_subject_rights.sql: forget, export, requests, restriction -----------

-- 90_privileges.sql: EXECUTE for PUBLIC ----------------------------------

-- Last: the launcher looks at this database again (the background worker
-- skips a database whose schema is not the library's version).
SELECT retention._notify_launcher();
