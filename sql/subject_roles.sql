-- Who may do what.  retention_dpo (the data-protection officer) forgets,
-- exports, restricts and decides erasure requests; retention_admin runs the
-- lifecycle, reads the archive, verifies erasures and carries the erasure
-- log across a restore; application roles may do none of it, and cannot
-- read the archive, the erasure log or the requests.
CREATE SCHEMA shop;
CREATE TABLE shop.client (id int PRIMARY KEY, email text);
SECURITY LABEL FOR retention ON TABLE shop.client IS 'subject client(id)';
SECURITY LABEL FOR retention ON COLUMN shop.client.email IS 'personal';
INSERT INTO shop.client VALUES (1, 'one@example.org'), (2, 'two@example.org');

CREATE ROLE regress_rights_webapp;
CREATE ROLE regress_rights_privacy IN ROLE retention_dpo;
CREATE ROLE regress_rights_dba IN ROLE retention_admin;
GRANT USAGE ON SCHEMA shop TO regress_rights_webapp;
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.client TO regress_rights_webapp;

-- the privileges, function by function
SELECT f AS function,
       has_function_privilege('regress_rights_webapp', f, 'EXECUTE') AS application,
       has_function_privilege('regress_rights_privacy', f, 'EXECUTE') AS dpo,
       has_function_privilege('regress_rights_dba', f, 'EXECUTE') AS admin
FROM unnest(ARRAY[
    'retention.subject_map(text)',
    'retention.forget_subject(text,text,text)',
    'retention.verify_forgotten(text,text)',
    'retention.export_subject(text,text)',
    'retention.request_erasure(text,text,text,interval)',
    'retention.approve_erasure(bigint,text)',
    'retention.reject_erasure(bigint,text)',
    'retention.process_erasure_requests()',
    'retention.restrict_subject(text,text,text)',
    'retention.unrestrict_subject(text,text)',
    'retention.export_erasure_log()',
    'retention.import_erasure_log(jsonb)',
    'retention.reapply_erasures()',
    'retention.archived_rows(regclass)',
    'retention._subject_hash(text,text)',
    'retention._canonical_id(text,text)',
    'retention._open(text,bytea,bytea)']) f;
SELECT t AS relation,
       has_table_privilege('regress_rights_webapp', t, 'SELECT') AS application,
       has_table_privilege('regress_rights_privacy', t, 'SELECT') AS dpo,
       has_table_privilege('regress_rights_dba', t, 'SELECT') AS admin
FROM unnest(ARRAY['retention.erasure_log', 'retention.erasure_request',
                  'retention.restricted_subject', 'retention.erasure_requests_at_risk']) t;
-- privileged functions run as the extension's owner, with a fixed search_path
SELECT p.oid::regprocedure AS function, p.prosecdef AS security_definer, p.proconfig
FROM pg_proc p WHERE p.pronamespace = 'retention'::regnamespace
  AND p.proname IN ('forget_subject', 'export_subject', 'restrict_subject', 'reapply_erasures',
                    'approve_erasure', 'request_erasure')
ORDER BY 1::text;

-- the application tries, and fails
SET ROLE regress_rights_webapp;
SELECT retention.forget_subject('client', '1', 'x');
SELECT retention.export_subject('client', '1');
SELECT retention.request_erasure('client', '1', 'x');
SELECT retention.restrict_subject('client', '1', 'x');
SELECT * FROM retention.archived_rows();
SELECT * FROM retention_archive.archived_row;
SELECT * FROM retention.erasure_log;
SELECT * FROM retention.erasure_request;
SELECT * FROM retention.restricted_subject;
SELECT retention._subject_hash('client', '1');
-- it may read where data lives: structure only
SELECT table_name, on_forget FROM retention.subject_map('client');
RESET ROLE;

-- the administrator verifies and carries the log, but neither forgets nor exports
SET ROLE regress_rights_dba;
SELECT retention.forget_subject('client', '1', 'x');
SELECT retention.export_subject('client', '1');
SELECT * FROM retention.verify_forgotten('client', '1');
SELECT jsonb_typeof(retention.export_erasure_log()->'entries') AS log;
RESET ROLE;

-- the data-protection officer does it all
SET ROLE regress_rights_privacy;
SELECT jsonb_array_length(doc->'tables'->'shop.client'->'rows') AS exported
FROM retention.export_subject('client', '1') doc;
SELECT r->'rows_forgotten' AS forgotten FROM retention.forget_subject('client', '1', 'ticket 5') r;
SELECT subject, reason FROM retention.erasure_log WHERE subject = 'client';
SELECT * FROM retention.verify_forgotten('client', '1');
RESET ROLE;

DROP SCHEMA shop CASCADE;
DROP ROLE regress_rights_webapp;
DROP ROLE regress_rights_privacy;
DROP ROLE regress_rights_dba;
