-- The erasure log across a restore.  Restoring a backup taken before some
-- erasures brings the forgotten subjects back; the log of the newer database
-- is exported, imported into the restored one, and re-applied.  The log
-- names subjects only by a keyed hash of their id, so re-applying reads the
-- keys of the subject table once and hashes each (same server key needed).
-- test/t/020_rights_reapply.pl does it with a real pg_dump and restore.
CREATE SCHEMA hotel;
CREATE TABLE hotel.guest (id int PRIMARY KEY, name text, stayed_on date);
CREATE TABLE hotel.booking (
    id       int PRIMARY KEY,
    guest_id int NOT NULL REFERENCES hotel.guest (id),
    room     text
);
SECURITY LABEL FOR retention ON TABLE hotel.guest IS
  'subject guest(id); age from stayed_on; archive after 1 year';
SECURITY LABEL FOR retention ON COLUMN hotel.guest.name IS 'personal';
SECURITY LABEL FOR retention ON TABLE hotel.booking IS 'subject guest';
INSERT INTO hotel.guest VALUES (1, 'Nora', current_date), (2, 'Omar', current_date),
                               (3, 'Pia', '2020-01-01');
INSERT INTO hotel.booking VALUES (10, 1, '101'), (11, 2, '102');
-- Pia's stay is old: she is archived
SET client_min_messages = warning;
CALL retention.run();
RESET client_min_messages;

-- what a restore must bring back: keep a copy of the data as it is now
CREATE TABLE hotel.guest_backup AS SELECT * FROM hotel.guest;
CREATE TABLE hotel.booking_backup AS SELECT * FROM hotel.booking;
CREATE TABLE hotel.archive_backup AS
    SELECT * FROM retention_archive.archived_row WHERE subject = 'guest';
CREATE TABLE hotel.key_backup AS
    SELECT * FROM retention_archive.data_key WHERE subject = 'guest';

-- Nora and Pia are forgotten
SELECT r->'rows_forgotten' AS live, r->'archive'->'rows_deleted' AS archived
FROM retention.forget_subject('guest', '1', 'ticket 301') r;
SELECT r->'rows_forgotten' AS live, r->'archive'->'rows_deleted' AS archived
FROM retention.forget_subject('guest', '3', 'ticket 302') r;

-- the log, as a document to carry over
SELECT retention.export_erasure_log() AS log \gset
SELECT jsonb_path_query_array(:'log'::jsonb, '$.entries[*] ? (@.subject == "guest").reason') AS reasons,
       :'log'::jsonb->>'format' AS format;

-- "restore" the old data: everything comes back, and the log loses its entries
DELETE FROM retention.erasure_log WHERE subject = 'guest';
INSERT INTO hotel.guest SELECT * FROM hotel.guest_backup ON CONFLICT DO NOTHING;
INSERT INTO hotel.booking SELECT * FROM hotel.booking_backup ON CONFLICT DO NOTHING;
INSERT INTO retention_archive.archived_row SELECT * FROM hotel.archive_backup ON CONFLICT DO NOTHING;
INSERT INTO retention_archive.data_key SELECT * FROM hotel.key_backup ON CONFLICT DO NOTHING;
SELECT id, name FROM hotel.guest ORDER BY id;
SELECT count(*) AS pia_archived FROM retention_archive.archived_row
WHERE subject = 'guest' AND subject_hash = retention._subject_hash('guest', '3');

-- import the log (entries already present are skipped) and re-apply it
SELECT retention.import_erasure_log(:'log') AS imported;
SELECT retention.import_erasure_log(:'log') AS imported_again;
SELECT subject, reason, imported_at IS NOT NULL AS imported
FROM retention.erasure_log WHERE subject = 'guest' ORDER BY reason;  -- ids follow the import's plan
SELECT e.reason AS original, r.receipt->'rows_forgotten' AS live,
       r.receipt->'archive'->'rows_deleted' AS archived
FROM retention.reapply_erasures() r
JOIN retention.erasure_log e ON e.erasure_id = r.erasure_id
WHERE r.subject = 'guest' ORDER BY e.reason;
SELECT id, name FROM hotel.guest ORDER BY id;
SELECT * FROM retention.verify_forgotten('guest', '1');
SELECT * FROM retention.verify_forgotten('guest', '3');
-- the re-applications are logged too
SELECT l.reason = 're-applied erasure ' || o.erasure_id AS names_original, o.reason AS original
FROM retention.erasure_log l
JOIN retention.erasure_log o ON o.subject = l.subject AND o.subject_hash = l.subject_hash
                            AND o.imported_at IS NOT NULL
WHERE l.subject = 'guest' AND l.imported_at IS NULL ORDER BY o.reason;

-- bad documents
SELECT retention.import_erasure_log('{"entries": []}');
SELECT retention.import_erasure_log(NULL);

DROP SCHEMA hotel CASCADE;
