-- Anonymization methods, usable in labels (anonymize after ... using M,
-- minimize to M) and as plain SQL functions.  The same table of methods
-- (src/core/methods.cpp) governs both.  Functions that use the server key
-- are STABLE: the key is fixed for the server's lifetime but not forever.

CREATE FUNCTION retention.hash(value text) RETURNS text
LANGUAGE C STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_hash';
CREATE FUNCTION retention.hash(value text, encoding text, length integer DEFAULT NULL) RETURNS text
LANGUAGE C STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_hash';
COMMENT ON FUNCTION retention.hash(text) IS
'keyed HMAC-SHA-256 pseudonym of value (hex): same input, same output; the key never reaches SQL';
COMMENT ON FUNCTION retention.hash(text, text, integer) IS
'keyed HMAC-SHA-256 pseudonym of value in hex, base64 or base32, optionally truncated to length characters';

CREATE FUNCTION retention.mask_email(value text) RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_mask_email';
COMMENT ON FUNCTION retention.mask_email(text) IS 'j***@example.com: first character and domain kept';

CREATE FUNCTION retention.partial(value text, prefix integer, padding text, suffix integer) RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_partial';
COMMENT ON FUNCTION retention.partial(text, integer, text, integer) IS
'keeps prefix leading and suffix trailing characters, padding between (padding alone when the value is too short)';

CREATE FUNCTION retention.redact(value text) RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_redact';
COMMENT ON FUNCTION retention.redact(text) IS 'letters become x, digits 0; punctuation and spaces stay';

DO $$
DECLARE
    kind text;
BEGIN
    FOREACH kind IN ARRAY ARRAY['first_name', 'last_name', 'email', 'phone', 'city', 'address', 'company'] LOOP
        EXECUTE format($f$
            CREATE FUNCTION retention.%1$I(value text, locale text DEFAULT 'en') RETURNS text
            LANGUAGE C STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_fake';
            COMMENT ON FUNCTION retention.%1$I(text, text) IS
            'a realistic fake %3$s derived from value and the server key: same value, same fake';
            CREATE FUNCTION retention.%2$I(locale text DEFAULT 'en') RETURNS text
            LANGUAGE C VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_random_fake';
            COMMENT ON FUNCTION retention.%2$I(text) IS 'a random realistic fake %3$s';
            -- the lifecycle engine's entry point (rule_methods.cpp, 90_privileges.sql)
            CREATE FUNCTION retention.%4$I(value text, locale text, capability bigint) RETURNS text
            LANGUAGE C STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_rule_fake';
            COMMENT ON FUNCTION retention.%4$I(text, text, bigint) IS
            '%1$s() for the lifecycle engine only: refused without its capability';
        $f$, 'fake_' || kind, 'random_' || kind, replace(kind, '_', ' '), '_rule_fake_' || kind);
    END LOOP;
END
$$;

CREATE FUNCTION retention.noise(value integer, ratio double precision) RETURNS integer
LANGUAGE C VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_noise_int4';
CREATE FUNCTION retention.noise(value bigint, ratio double precision) RETURNS bigint
LANGUAGE C VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_noise_int8';
CREATE FUNCTION retention.noise(value double precision, ratio double precision) RETURNS double precision
LANGUAGE C VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_noise_float8';
CREATE FUNCTION retention.noise(value numeric, ratio double precision) RETURNS numeric
LANGUAGE C VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_noise_numeric';
COMMENT ON FUNCTION retention.noise(numeric, double precision) IS
'adds uniform random noise of at most ratio * |value|, keeping the scale';

CREATE FUNCTION retention.jitter(value date, range interval) RETURNS date
LANGUAGE C VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_jitter_date';
CREATE FUNCTION retention.jitter(value timestamptz, range interval) RETURNS timestamptz
LANGUAGE C VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_jitter_timestamp';
CREATE FUNCTION retention.jitter(value timestamp, range interval) RETURNS timestamp
LANGUAGE C VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_jitter_timestamp';
COMMENT ON FUNCTION retention.jitter(date, interval) IS
'moves the date by a uniform random amount within +/- range (a month counts 30 days)';

CREATE FUNCTION retention.generalize(value date, granularity text) RETURNS date
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_generalize_date';
CREATE FUNCTION retention.generalize(value timestamptz, granularity text) RETURNS timestamptz
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_generalize_timestamp';
CREATE FUNCTION retention.generalize(value timestamp, granularity text) RETURNS timestamp
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_generalize_timestamp';
CREATE FUNCTION retention.generalize(value integer, step integer) RETURNS integer
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_generalize_int4';
CREATE FUNCTION retention.generalize(value bigint, step bigint) RETURNS bigint
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_generalize_int8';
CREATE FUNCTION retention.generalize(value double precision, step double precision) RETURNS double precision
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_generalize_float8';
CREATE FUNCTION retention.generalize(value numeric, step numeric) RETURNS numeric
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_generalize_numeric';
COMMENT ON FUNCTION retention.generalize(date, text) IS
'year, month (first day), decade, or month_day (same day and month in year 4, a leap year)';
COMMENT ON FUNCTION retention.generalize(timestamptz, text) IS
'like generalize(date, text) on the UTC date, time set to midnight UTC';
COMMENT ON FUNCTION retention.generalize(numeric, numeric) IS 'floor(value / step) * step';

CREATE FUNCTION retention.ip_prefix(address inet, bits integer) RETURNS inet
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_ip_prefix';
COMMENT ON FUNCTION retention.ip_prefix(inet, integer) IS
'the network of the first bits bits: 192.0.2.77 -> 192.0.2.0/24 (bits clamped to the family)';

CREATE FUNCTION retention.nullify(value anyelement) RETURNS anyelement
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT CASE WHEN false THEN value END';
COMMENT ON FUNCTION retention.nullify(anyelement) IS 'NULL, whatever the value';

CREATE FUNCTION retention.constant(value anyelement, replacement anyelement) RETURNS anyelement
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT replacement';
COMMENT ON FUNCTION retention.constant(anyelement, anyelement) IS 'replacement, whatever the value';

-- k-anonymity: the size of the smallest group of rows sharing the same
-- quasi-identifiers.  The caller needs SELECT on them; the count runs as the
-- table's owner (k_anonymity.cpp).
CREATE FUNCTION retention._k_anonymity(relation regclass, quasi_identifiers name[])
RETURNS bigint
LANGUAGE C STABLE AS 'MODULE_PATHNAME', 'retention_k_anonymity';

CREATE FUNCTION retention.k_anonymity(relation regclass, quasi_identifiers name[])
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    missing name;
BEGIN
    IF relation IS NULL OR quasi_identifiers IS NULL OR cardinality(quasi_identifiers) = 0 THEN
        RAISE EXCEPTION 'k_anonymity needs a table and at least one quasi-identifier'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'call retention.k_anonymity(''schema.table'', ARRAY[''zip'', ''birth_year''])';
    END IF;
    SELECT q INTO missing FROM unnest(quasi_identifiers) AS q
    WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
                      WHERE a.attrelid = relation AND a.attname = q AND a.attnum > 0 AND NOT a.attisdropped)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', missing, relation
            USING ERRCODE = 'undefined_column';
    END IF;
    -- read as the table's owner, once the caller's right to the columns is checked
    RETURN retention._k_anonymity(relation, quasi_identifiers);
END
$$;
COMMENT ON FUNCTION retention.k_anonymity(regclass, name[]) IS
'the k of a table over the quasi-identifiers: size of the smallest group sharing their values (NULL when empty)';

CREATE FUNCTION retention.key_info(OUT loaded boolean, OUT version integer, OUT fingerprint text)
RETURNS record
LANGUAGE C STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_key_info';
COMMENT ON FUNCTION retention.key_info() IS
'whether a server key is loaded, its version and a fingerprint to tell keys apart (never the key)';

-- The write triggers: retention_minimize (BEFORE INSERT OR UPDATE OF the
-- minimized columns) applies "minimize to"; retention_late_rows (AFTER INSERT
-- OR UPDATE OF the age and watched columns, WHEN the row is near due and
-- retention._late_rows_queued()) queues rows written already due for the next
-- run.  The label provider creates, replaces and drops them with the labels.
CREATE FUNCTION retention.write_trigger() RETURNS trigger
LANGUAGE C AS 'MODULE_PATHNAME', 'retention_write_trigger';
COMMENT ON FUNCTION retention.write_trigger() IS
'row trigger of retention_minimize (BEFORE: applies "minimize to" rules) and retention_late_rows (AFTER: queues rows written already due); created by the label provider';

CREATE FUNCTION retention._late_rows_queued() RETURNS boolean
LANGUAGE C STABLE AS 'MODULE_PATHNAME', 'retention_late_rows_queued';
COMMENT ON FUNCTION retention._late_rows_queued() IS
'false while the lifecycle engine writes: the WHEN of retention_late_rows';

CREATE FUNCTION retention._engine_write(anyelement) RETURNS boolean
LANGUAGE C IMMUTABLE AS 'MODULE_PATHNAME', 'retention_engine_write';
COMMENT ON FUNCTION retention._engine_write(anyelement) IS
'true; marks the rest of the transaction as the lifecycle engine''s on a Citus shard''s node (its writes are not late rows): called in the WHERE of the run''s UPDATEs of Citus tables';

CREATE FUNCTION retention._due_bound(age anyelement, delay interval) RETURNS anyelement
LANGUAGE C STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_due_bound';
COMMENT ON FUNCTION retention._due_bound(anyelement, interval) IS
'now() - delay in the type of age (a day later for date and timestamp), computed once per transaction: the bound in the WHEN of the late-row trigger, evaluated as the writing role';

CREATE FUNCTION retention._untouched_since(version_xmin xid, pass pg_snapshot) RETURNS boolean
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_untouched_since';
COMMENT ON FUNCTION retention._untouched_since(xid, pg_snapshot) IS
'whether a row version was written by a transaction the snapshot sees as committed: the guard of a value stage''s pass in heap order (docs/lifecycle.md), in the WHERE of its UPDATEs, run as the table''s owner';

CREATE FUNCTION retention._key_unkept(row_key text, kept text[]) RETURNS boolean
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_key_unkept';
COMMENT ON FUNCTION retention._key_unkept(text, text[]) IS
'whether a row key is not one of the keys a value stage''s pass in heap order kept (docs/lifecycle.md): in the WHERE of its sweep, run as the table''s owner';
CREATE FUNCTION retention._key_unkept(row_key bigint, kept text[]) RETURNS boolean
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_key_unkept_int';
COMMENT ON FUNCTION retention._key_unkept(bigint, text[]) IS
'whether a key of one integer column is not one of the keys a value stage''s pass in heap order kept, as ''{'' || row_key || ''}'' <> ALL (kept): in the WHERE of its sweep, run as the table''s owner';
CREATE FUNCTION retention._key_unkept(row_key bigint, kept bigint[]) RETURNS boolean
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_key_unkept_ids';
COMMENT ON FUNCTION retention._key_unkept(bigint, bigint[]) IS
'whether a key of one integer column is not one of the keys a value stage''s pass in heap order kept as integers, as row_key <> ALL (kept): in the WHERE of its sweep, run as the table''s owner';

CREATE FUNCTION retention.minimize_existing(relation regclass) RETURNS bigint
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'retention_minimize_existing';
COMMENT ON FUNCTION retention.minimize_existing(regclass) IS
'minimizes the rows written before their "minimize to" rules; returns how many rows changed';

CREATE FUNCTION retention.repair_triggers() RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'retention_repair_triggers';
COMMENT ON FUNCTION retention.repair_triggers() IS
'creates the write triggers declared tables (on Citus: their shards, on every node) lack, e.g. after pg_upgrade, which does not restore internal triggers; returns how many it created';
REVOKE ALL ON FUNCTION retention.repair_triggers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retention.repair_triggers() TO retention_admin;
