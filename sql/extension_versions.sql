-- The versions pg_retention installs and the updates between them: released
-- versions are frozen install scripts, each reachable from the previous one
-- by ALTER EXTENSION pg_retention UPDATE (docs/versions.md).
SELECT version, installed FROM pg_available_extension_versions
WHERE name = 'pg_retention' ORDER BY version;

-- 0.1.0 updates to the current version.
SELECT source, target, path FROM pg_extension_update_paths('pg_retention')
WHERE path IS NOT NULL ORDER BY source, target;

-- This database runs the default version, the one the library reads and writes.
SELECT e.extversion = a.default_version AS current
FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname
WHERE e.extname = 'pg_retention';

-- The roles outlive the extension: their comments say where they come from.
SELECT rolname, rolcanlogin, shobj_description(oid, 'pg_authid') LIKE 'pg_retention: %' AS described
FROM pg_roles WHERE rolname IN ('retention_admin', 'retention_dpo') ORDER BY rolname;
