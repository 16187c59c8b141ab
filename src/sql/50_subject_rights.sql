-- The rights of data subjects: where a subject's data lives (subject_map),
-- erasure (forget_subject, verify_forgotten, erasure requests with due
-- dates, the erasure log and its re-application after a restore), access
-- and portability (export_subject), restriction of processing
-- (restrict_subject, enable_restriction).  docs/rights.md walks through it.
--
-- Roles: retention_dpo may do all of it; retention_admin may verify,
-- process approved requests and carry the erasure log across a restore;
-- application roles may do none of it, nor read the tables below.  The
-- functions that need privileges are SECURITY DEFINER with a fixed
-- search_path.  No table here holds personal data: subjects are named by
-- a keyed hash of their id (retention._subject_hash), except a pending
-- erasure request, which keeps the id until it is carried out or rejected.

-- One row per forget: the receipt, the keyed hash of the subject id, and
-- the reason the data-protection officer gave.  The reason is free text
-- stored as given: it must not contain personal data (no names, e-mail
-- addresses or ids of the subject; a ticket number is fine).
CREATE TABLE retention.erasure_log (
    erasure_id    bigserial PRIMARY KEY,
    subject       text NOT NULL,
    subject_hash  bytea NOT NULL,
    erased_at     timestamptz NOT NULL DEFAULT now(),
    reason        text,
    receipt       jsonb NOT NULL,
    request_id    bigint,
    imported_at   timestamptz
);
CREATE INDEX ON retention.erasure_log (subject, subject_hash);
COMMENT ON TABLE retention.erasure_log IS
'one row per forgotten subject: receipt and keyed hash of the id, no personal data; re-applied after a restore';
COMMENT ON COLUMN retention.erasure_log.reason IS
'free text from the data-protection officer: must not contain personal data';
COMMENT ON COLUMN retention.erasure_log.imported_at IS
'set when the entry came from another database through retention.import_erasure_log()';

-- The rows a forget left in place, by table and primary key (as text[]):
-- anonymized by it, so that no run anonymizes them again nor archives them
-- under a new key; or kept because other rows still reference them (held),
-- which the run deletes once nothing holds them, completing the forget.  An
-- entry goes with its row.  docs/rights.md, "After the forget".
CREATE TABLE retention.forgotten_row (
    relation    regclass NOT NULL,
    row_key     text[] NOT NULL,
    subject     text NOT NULL,
    erasure_id  bigint NOT NULL,
    held        boolean NOT NULL,
    PRIMARY KEY (relation, row_key)
);
COMMENT ON TABLE retention.forgotten_row IS
'rows a forget anonymized or kept in place (held): never anonymized twice nor re-archived; held rows are deleted once nothing holds them';

-- Internal: the run logs the completion of a deferred "on forget delete" (the
-- rows a hold kept are gone); retention_admin runs the lifecycle, so this
-- writes the log for it.
CREATE FUNCTION retention._log_completed_erasure(erasure bigint, completed jsonb) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    WITH e AS (SELECT nextval('retention.erasure_log_erasure_id_seq') AS id, now() AS at)
    INSERT INTO retention.erasure_log (erasure_id, subject, subject_hash, erased_at, reason, receipt)
    SELECT e.id, l.subject, l.subject_hash, e.at, 'completes erasure ' || l.erasure_id,
           jsonb_build_object('erasure_id', e.id, 'erased_at', e.at, 'subject', l.subject,
                              'subject_hash', encode(l.subject_hash, 'hex'),
                              'completes_erasure', l.erasure_id, 'tables', completed)
    FROM e, retention.erasure_log l WHERE l.erasure_id = erasure
$$;
REVOKE ALL ON FUNCTION retention._log_completed_erasure(bigint, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retention._log_completed_erasure(bigint, jsonb) TO retention_admin;

CREATE TABLE retention.erasure_request (
    id              bigserial PRIMARY KEY,
    subject         text NOT NULL,
    subject_hash    bytea NOT NULL,
    subject_id      text,
    reason          text,
    received_at     timestamptz NOT NULL DEFAULT now(),
    due_at          timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'received'
                    CHECK (status IN ('received', 'approved', 'rejected', 'done', 'overdue')),
    decided_at      timestamptz,
    decided_by      text,
    decision_reason text,
    done_at         timestamptz,
    receipt         jsonb,
    last_error      text,
    -- the id is kept only while the request is pending
    CHECK ((subject_id IS NULL) = (status IN ('rejected', 'done')))
);
CREATE INDEX ON retention.erasure_request (status, due_at);
CREATE INDEX ON retention.erasure_request (subject, subject_hash);
COMMENT ON TABLE retention.erasure_request IS
'erasure requests: received, approved or rejected, done (with the receipt) or overdue; the id is dropped once decided';

CREATE TABLE retention.restricted_subject (
    subject        text NOT NULL,
    subject_hash   bytea NOT NULL,
    restricted_at  timestamptz NOT NULL DEFAULT now(),
    reason         text,
    PRIMARY KEY (subject, subject_hash)
);
COMMENT ON TABLE retention.restricted_subject IS
'subjects whose processing is restricted (GDPR Art. 18): hidden from application roles on tables with enable_restriction';

REVOKE ALL ON retention.erasure_log, retention.erasure_request, retention.restricted_subject,
    retention.forgotten_row FROM PUBLIC;
GRANT SELECT ON retention.erasure_log, retention.erasure_request, retention.restricted_subject,
    retention.forgotten_row
    TO retention_dpo, retention_admin;

-- the lifecycle (run by retention_admin) skips, deletes and forgets recorded rows
GRANT DELETE ON retention.forgotten_row TO retention_admin;

SELECT pg_catalog.pg_extension_config_dump('retention.erasure_log', '');
SELECT pg_catalog.pg_extension_config_dump('retention.erasure_log_erasure_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('retention.erasure_request', '');
SELECT pg_catalog.pg_extension_config_dump('retention.forgotten_row', '');
SELECT pg_catalog.pg_extension_config_dump('retention.erasure_request_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('retention.restricted_subject', '');

-- Where a subject's data lives: no data, only declarations and foreign keys.
CREATE FUNCTION retention.subject_map(
    subject text,
    OUT table_name regclass,
    OUT depth integer,
    OUT path text,
    OUT on_forget text,
    OUT personal_columns name[],
    OUT problem text)
RETURNS SETOF record
LANGUAGE C STABLE AS 'MODULE_PATHNAME', 'retention_subject_map';
COMMENT ON FUNCTION retention.subject_map(text) IS
'every declared table holding data of the subject: the foreign-key path to it, what forget does, the personal columns';

-- Internal: the canonical text of an id ('042' -> '42'), with clear errors.
CREATE FUNCTION retention._canonical_id(subject text, id text) RETURNS text
LANGUAGE C STABLE AS 'MODULE_PATHNAME', 'retention_canonical_id';
REVOKE ALL ON FUNCTION retention._canonical_id(text, text) FROM PUBLIC;

CREATE FUNCTION retention.forget_subject(subject text, id text, reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'retention_forget_subject';
COMMENT ON FUNCTION retention.forget_subject(text, text, text) IS
'forgets a subject now, in this transaction: live rows per "on forget", archived rows, data key; returns the receipt';

CREATE FUNCTION retention.verify_forgotten(
    subject text,
    id text,
    OUT table_name text,
    OUT column_name name,
    OUT rows bigint,
    OUT status text)
RETURNS SETOF record
LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'retention_verify_forgotten';
COMMENT ON FUNCTION retention.verify_forgotten(text, text) IS
'what is still held on a subject: leftover, legal hold or anonymized, per table (and column), archive included';

CREATE FUNCTION retention.export_subject(subject text, id text) RETURNS jsonb
LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET IntervalStyle = postgres
AS 'MODULE_PATHNAME', 'retention_export_subject';
COMMENT ON FUNCTION retention.export_subject(text, text) IS
'every row held on the subject, archive included (decrypted), with each table''s and column''s purpose, basis and retention';

-- Erasure requests.
CREATE FUNCTION retention.request_erasure(subject text, id text, reason text DEFAULT NULL,
                                          due_in interval DEFAULT '30 days')
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    canonical text;
    hash bytea;
    request bigint;
    auto boolean := coalesce(current_setting('retention.auto_approve_erasure', true), 'off')::boolean;
BEGIN
    IF due_in IS NULL OR due_in <= interval '0' THEN
        RAISE EXCEPTION 'due_in must be a positive interval'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'the law gives one month: the default is ''30 days''';
    END IF;
    canonical := retention._canonical_id(request_erasure.subject, request_erasure.id);
    hash := retention._subject_hash(request_erasure.subject, canonical);
    SELECT r.id INTO request FROM retention.erasure_request r
    WHERE r.subject = request_erasure.subject AND r.subject_hash = hash
      AND r.status IN ('received', 'approved', 'overdue');
    IF FOUND THEN
        RAISE NOTICE 'erasure request % for this subject is already pending', request;
        RETURN request;
    END IF;
    INSERT INTO retention.erasure_request (subject, subject_hash, subject_id, reason, due_at,
                                           status, decided_at, decided_by)
    VALUES (request_erasure.subject, hash, canonical, request_erasure.reason,
            now() + request_erasure.due_in,
            CASE WHEN auto THEN 'approved' ELSE 'received' END,
            CASE WHEN auto THEN now() END,
            CASE WHEN auto THEN 'retention.auto_approve_erasure' END)
    RETURNING erasure_request.id INTO request;
    RETURN request;
END
$$;
COMMENT ON FUNCTION retention.request_erasure(text, text, text, interval) IS
'records an erasure request due in due_in (30 days); approved at once when retention.auto_approve_erasure is on';

-- Internal: approving and rejecting share the checks.
CREATE FUNCTION retention._decide_erasure(request_id bigint, approve boolean, reason text)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current text;
BEGIN
    IF request_id IS NULL THEN
        RAISE EXCEPTION 'request id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE retention.erasure_request r
    SET status = CASE WHEN approve THEN 'approved' ELSE 'rejected' END,
        subject_id = CASE WHEN approve THEN r.subject_id END,
        decided_at = now(),
        decided_by = CASE current_setting('role') WHEN 'none' THEN session_user::text
                     ELSE current_setting('role') END,
        decision_reason = _decide_erasure.reason
    WHERE r.id = request_id AND r.status IN ('received', 'overdue');
    IF FOUND THEN
        RETURN;
    END IF;
    SELECT r.status INTO current FROM retention.erasure_request r WHERE r.id = request_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'erasure request % does not exist', request_id
            USING ERRCODE = 'undefined_object', HINT = 'retention.erasure_request lists the requests';
    END IF;
    RAISE EXCEPTION 'erasure request % is %, not pending', request_id, current
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'only received or overdue requests can be approved or rejected';
END
$$;
REVOKE ALL ON FUNCTION retention._decide_erasure(bigint, boolean, text) FROM PUBLIC;

CREATE FUNCTION retention.approve_erasure(request_id bigint, reason text DEFAULT NULL)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT retention._decide_erasure(request_id, true, reason) $$;
COMMENT ON FUNCTION retention.approve_erasure(bigint, text) IS
'approves a pending erasure request: the next retention.process_erasure_requests() (or the worker) carries it out';

CREATE FUNCTION retention.reject_erasure(request_id bigint, reason text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF reason IS NULL OR btrim(reason) = '' THEN
        RAISE EXCEPTION 'a rejection needs a reason' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'the subject must be told why (GDPR Art. 12(4)); the reason must not contain personal data';
    END IF;
    PERFORM retention._decide_erasure(request_id, false, reason);
END
$$;
COMMENT ON FUNCTION retention.reject_erasure(bigint, text) IS
'rejects a pending erasure request with a reason; the subject id is dropped from the request';

CREATE FUNCTION retention.process_erasure_requests() RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'retention_process_erasure_requests';
COMMENT ON FUNCTION retention.process_erasure_requests() IS
'carries out every approved erasure request (the background worker calls it too); returns how many were done';

CREATE VIEW retention.erasure_requests_at_risk AS
SELECT r.id, r.subject,
       CASE WHEN r.status = 'received' AND r.due_at < now() THEN 'overdue' ELSE r.status END AS status,
       r.received_at, r.due_at, r.due_at - now() AS time_left, r.last_error
FROM retention.erasure_request r
WHERE r.status IN ('received', 'approved', 'overdue') AND r.due_at < now() + interval '7 days'
ORDER BY r.due_at, r.id;
COMMENT ON VIEW retention.erasure_requests_at_risk IS
'pending erasure requests due within 7 days or overdue';
REVOKE ALL ON retention.erasure_requests_at_risk FROM PUBLIC;
GRANT SELECT ON retention.erasure_requests_at_risk TO retention_dpo, retention_admin;

-- Restriction of processing.
CREATE FUNCTION retention._visible(relation regclass, subject text, subject_id text) RETURNS boolean
LANGUAGE C STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'retention_visible';
COMMENT ON FUNCTION retention._visible(regclass, text, text) IS
'the predicate of restriction policies: false for a restricted subject, unless the user is a member of retention_dpo or retention_admin; answers only roles with a privilege on the relation';

CREATE FUNCTION retention.enable_restriction(relation regclass) RETURNS void
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'retention_enable_restriction';
COMMENT ON FUNCTION retention.enable_restriction(regclass) IS
'the table (and its partitions) hides restricted subjects'' rows from application roles, by a restrictive RLS policy; owner only';

CREATE FUNCTION retention.disable_restriction(relation regclass) RETURNS void
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'retention_disable_restriction';
COMMENT ON FUNCTION retention.disable_restriction(regclass) IS
'removes what enable_restriction added to the table; owner only';

CREATE FUNCTION retention.restrict_subject(subject text, id text, reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    canonical text := retention._canonical_id(restrict_subject.subject, restrict_subject.id);
    hash bytea := retention._subject_hash(restrict_subject.subject, canonical);
    added boolean;
BEGIN
    -- one change of the list at a time (also sync_restrictions)
    LOCK TABLE retention.restricted_subject IN SHARE ROW EXCLUSIVE MODE;
    INSERT INTO retention.restricted_subject (subject, subject_hash, reason)
    VALUES (restrict_subject.subject, hash, restrict_subject.reason)
    ON CONFLICT DO NOTHING;
    added := FOUND;
    -- on a Citus coordinator, every worker's list too (they commit first)
    PERFORM retention._restriction_to_workers(restrict_subject.subject, hash, true);
    IF NOT EXISTS (SELECT 1 FROM retention.subject_map(restrict_subject.subject) m
                   JOIN pg_catalog.pg_policy p ON p.polrelid = m.table_name
                   WHERE p.polname = 'retention_restriction') THEN
        RAISE WARNING 'no table of subject "%" enforces restriction', restrict_subject.subject
            USING HINT = 'call retention.enable_restriction(''table'') on the tables whose rows must be hidden';
    END IF;
    RETURN added;
END
$$;
COMMENT ON FUNCTION retention.restrict_subject(text, text, text) IS
'restricts processing of a subject: its rows are hidden from application roles; true when newly restricted';

CREATE FUNCTION retention.unrestrict_subject(subject text, id text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hash bytea := retention._subject_hash(unrestrict_subject.subject,
                      retention._canonical_id(unrestrict_subject.subject, unrestrict_subject.id));
BEGIN
    LOCK TABLE retention.restricted_subject IN SHARE ROW EXCLUSIVE MODE;
    -- on a Citus coordinator, the workers first: a failure leaves the subject restricted
    PERFORM retention._restriction_to_workers(unrestrict_subject.subject, hash, false);
    DELETE FROM retention.restricted_subject r
    WHERE r.subject = unrestrict_subject.subject AND r.subject_hash = hash;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION retention.unrestrict_subject(text, text) IS
'lifts the restriction of a subject; true when it was restricted';

CREATE FUNCTION retention._restriction_to_workers(subject text, subject_hash bytea, restricted boolean)
RETURNS void
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'retention_restriction_to_workers';
COMMENT ON FUNCTION retention._restriction_to_workers(text, bytea, boolean) IS
'on a Citus coordinator, restricts (or unrestricts) a subject on every worker; called by restrict_subject and unrestrict_subject';

CREATE FUNCTION retention.sync_restrictions() RETURNS integer
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'retention_sync_restrictions';
COMMENT ON FUNCTION retention.sync_restrictions() IS
'on a Citus coordinator, makes every worker''s list of restricted subjects equal to the coordinator''s (a worker added later); returns the number of workers';

-- The erasure log across a restore: export it from the newer database,
-- import it into the restored one, re-apply it.
CREATE FUNCTION retention.export_erasure_log() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'format', 'pg_retention erasure log', 'version', 1,
        'entries', coalesce(jsonb_agg(jsonb_build_object(
            'erasure_id', l.erasure_id, 'subject', l.subject,
            'subject_hash', encode(l.subject_hash, 'hex'), 'erased_at', l.erased_at,
            'reason', l.reason, 'request_id', l.request_id, 'receipt', l.receipt)
            ORDER BY l.erasure_id), '[]'::jsonb))
    FROM retention.erasure_log l
$$;
COMMENT ON FUNCTION retention.export_erasure_log() IS
'the erasure log as a document for retention.import_erasure_log() in a restored database';

CREATE FUNCTION retention.import_erasure_log(log jsonb) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    added bigint;
BEGIN
    IF log IS NULL OR log->>'format' IS DISTINCT FROM 'pg_retention erasure log'
       OR jsonb_typeof(log->'entries') IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'not an erasure log' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'pass the document retention.export_erasure_log() returned in the other database';
    END IF;
    INSERT INTO retention.erasure_log (subject, subject_hash, erased_at, reason, receipt,
                                       request_id, imported_at)
    SELECT e->>'subject', decode(e->>'subject_hash', 'hex'), (e->>'erased_at')::timestamptz,
           e->>'reason', e->'receipt', (e->>'request_id')::bigint, now()
    FROM jsonb_array_elements(log->'entries') e
    WHERE NOT EXISTS (SELECT 1 FROM retention.erasure_log l
                      WHERE l.subject = e->>'subject'
                        AND l.subject_hash = decode(e->>'subject_hash', 'hex')
                        AND l.erased_at = (e->>'erased_at')::timestamptz);
    GET DIAGNOSTICS added = ROW_COUNT;
    RETURN added;
END
$$;
COMMENT ON FUNCTION retention.import_erasure_log(jsonb) IS
'adds the entries of an exported erasure log that this database lacks; returns how many';

CREATE FUNCTION retention.reapply_erasures(
    OUT erasure_id bigint,
    OUT subject text,
    OUT receipt jsonb)
RETURNS SETOF record
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'retention_reapply_erasures';
COMMENT ON FUNCTION retention.reapply_erasures() IS
'forgets again every subject of the erasure log still present (after restoring an older backup); scans the subject tables';

REVOKE ALL ON FUNCTION retention.forget_subject(text, text, text),
    retention.verify_forgotten(text, text), retention.export_subject(text, text),
    retention.request_erasure(text, text, text, interval), retention.approve_erasure(bigint, text),
    retention.reject_erasure(bigint, text), retention.process_erasure_requests(),
    retention.restrict_subject(text, text, text), retention.unrestrict_subject(text, text),
    retention.sync_restrictions(),
    retention.export_erasure_log(), retention.import_erasure_log(jsonb),
    retention.reapply_erasures() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retention.forget_subject(text, text, text),
    retention.verify_forgotten(text, text), retention.export_subject(text, text),
    retention.request_erasure(text, text, text, interval), retention.approve_erasure(bigint, text),
    retention.reject_erasure(bigint, text), retention.process_erasure_requests(),
    retention.restrict_subject(text, text, text), retention.unrestrict_subject(text, text),
    retention.sync_restrictions(),
    retention.export_erasure_log(), retention.import_erasure_log(jsonb),
    retention.reapply_erasures() TO retention_dpo;
GRANT EXECUTE ON FUNCTION retention.verify_forgotten(text, text),
    retention.process_erasure_requests(), retention.export_erasure_log(), retention.sync_restrictions(),
    retention.import_erasure_log(jsonb), retention.reapply_erasures() TO retention_admin;
