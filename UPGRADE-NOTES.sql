-- h-archive (issue 11): upgrade DDL for pg_retention--0.1.0--0.2.0.sql (the lead folds it in).
-- The archive keeps only the indexes its own queries need (src/sql/30_lifecycle.sql):
-- no index on relid; the purge_after index holds only rows that expire.
DROP INDEX retention_archive.archived_row_relid_idx;
DROP INDEX retention_archive.archived_row_purge_after_idx;
CREATE INDEX archived_row_purge_after_idx ON retention_archive.archived_row (purge_after)
    WHERE purge_after IS NOT NULL;
