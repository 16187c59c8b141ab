-- Before: the oldest contacts as the application sees them
SELECT id, first_name, email, phone, birthday, last_ip, last_seen_at::date
FROM crm.contact ORDER BY last_seen_at LIMIT 3;
SELECT id, first_name, email, phone, last_seen_at::date
FROM crm.contact WHERE last_seen_at < now() - interval '2 years' AND last_seen_at > now() - interval '3 years'
ORDER BY id LIMIT 3;

-- The lifecycle run: anonymize, purge values, drop expired partitions, purge and archive rows
CALL retention.run();
SELECT run_id, status, rows_minimized, rows_anonymized, values_purged, rows_archived, rows_purged,
       archive_purged, rows_blocked, finished_at - started_at AS took
FROM retention.run_history ORDER BY run_id DESC LIMIT 1;

-- After: the same contacts
SELECT id, first_name, email, phone, birthday, last_ip, last_seen_at::date
FROM crm.contact WHERE last_seen_at < now() - interval '2 years' AND last_seen_at > now() - interval '3 years'
ORDER BY id LIMIT 3;
-- the oldest ones left the live table for the encrypted archive (shown decrypted to retention_admin)
SELECT id, table_name, subject, archived_at::date, row_data ->> 'email' AS email_in_archive
FROM retention.archived_rows('crm.contact') LIMIT 3;
SELECT encode(substr(payload, 1, 24), 'hex') || '...' AS what_is_stored FROM retention_archive.archived_row LIMIT 1;

-- A second run has nothing left to do: nothing is processed twice
CALL retention.run();
SELECT run_id, status, rows_anonymized, values_purged, rows_archived, rows_purged
FROM retention.run_history ORDER BY run_id DESC LIMIT 1;
