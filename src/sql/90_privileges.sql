-- Who may execute what, in one place.  CREATE FUNCTION grants EXECUTE to
-- PUBLIC; here the extension takes that back from every function of the
-- schema and gives PUBLIC only what any role may use.  The grants to
-- retention_admin and retention_dpo stand beside each function.
-- regression test: sql/privileges.sql lists what PUBLIC can execute.

-- The keyed methods as the lifecycle engine applies them (rule_methods.cpp;
-- the fakes' entry points are made with the fakes, 20_methods.sql):
-- executable by PUBLIC, since the engine's statements run as the table's
-- owner, but refused without the backend's engine capability.
CREATE FUNCTION retention._rule_hash(value text, encoding text, length integer, capability bigint)
RETURNS text
LANGUAGE C STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'retention_rule_hash';
COMMENT ON FUNCTION retention._rule_hash(text, text, integer, bigint) IS
'hash() for the lifecycle engine only: refused without its capability';

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA retention FROM PUBLIC;

DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
        WHERE p.pronamespace = 'retention'::regnamespace AND p.prokind = 'f' AND (
            -- the methods that need no key: anyone may mask their own data
            p.proname IN ('mask_email', 'partial', 'redact', 'noise', 'jitter', 'generalize',
                          'ip_prefix', 'nullify', 'constant', 'k_anonymity', '_k_anonymity')
            OR p.proname LIKE 'random\_%'
            -- inspection of the declarations (the policies view calls _policies)
            OR p.proname IN ('_policies', 'check', 'processing_register', 'rules_for',
                             'subject_map', 'key_info')
            -- a table owner's own operations: each checks ownership itself
            OR p.proname IN ('minimize_existing', 'enable_restriction', 'disable_restriction')
            -- CREATE TRIGGER needs EXECUTE on the write trigger, by the labelling owner
            OR p.proname = 'write_trigger'
            -- the WHEN of the late-row trigger, evaluated as the writing role
            OR p.proname = '_late_rows_queued'
            -- the bound in that WHEN
            OR p.proname = '_due_bound'
            -- in the WHERE of the run's UPDATEs of Citus tables, run as the table's owner
            OR p.proname = '_engine_write'
            -- in the WHERE of a value stage's UPDATEs in heap order, run as the table's owner
            OR p.proname = '_untouched_since'
            -- in the WHERE of that pass's sweep, run as the table's owner
            OR p.proname = '_key_unkept'
            -- called by restriction policies as the querying role; answers only
            -- for tables that role may read
            OR p.proname = '_visible'
            -- refused without the engine's capability
            OR p.proname = '_rule_hash' OR p.proname LIKE '\_rule\_fake\_%')
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', f);
    END LOOP;
END
$$;

-- Pseudonyms for whoever is trusted with them: the administrators, and roles
-- a DBA grants explicitly (an analytics role joining on hashed columns):
--   GRANT EXECUTE ON FUNCTION retention.hash(text) TO analytics;
GRANT EXECUTE ON FUNCTION retention.hash(text), retention.hash(text, text, integer),
    retention.fake_first_name(text, text), retention.fake_last_name(text, text),
    retention.fake_email(text, text), retention.fake_phone(text, text),
    retention.fake_city(text, text), retention.fake_address(text, text),
    retention.fake_company(text, text) TO retention_admin;
