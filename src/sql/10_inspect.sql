-- Inspection: what is declared, what is wrong with it, and the register
-- of processing built from the declarations.

-- One declared rule, as retention.policies and retention.rules_for() show it.
CREATE TYPE retention.rule AS (
    table_name regclass,
    column_name name,
    stage text,
    after interval,
    method text,
    subject text,
    age_column name,
    purpose text,
    basis text,
    label text);

CREATE FUNCTION retention._policies()
RETURNS SETOF retention.rule
LANGUAGE C STABLE STRICT
AS 'MODULE_PATHNAME', 'retention_policies';

COMMENT ON FUNCTION retention._policies() IS
'the parsed retention declarations, one row per rule (use the view retention.policies)';

CREATE VIEW retention.policies AS
SELECT * FROM retention._policies();

COMMENT ON VIEW retention.policies IS
'one row per declared rule: stage (minimize, anonymize, archive, purge, forget, personal, declare), its delay and method';

CREATE FUNCTION retention.rules_for(relation regclass)
RETURNS SETOF retention.rule
LANGUAGE C STABLE STRICT
AS 'MODULE_PATHNAME', 'retention_rules_for';

COMMENT ON FUNCTION retention.rules_for(regclass) IS
'the rules that govern a table; a partition is governed by its partitioned table''s rules';

CREATE FUNCTION retention.check(
    OUT severity text,
    OUT table_name regclass,
    OUT column_name name,
    OUT problem text,
    OUT hint text)
RETURNS SETOF record
LANGUAGE C STABLE STRICT
AS 'MODULE_PATHNAME', 'retention_check';

COMMENT ON FUNCTION retention.check() IS
'lints of the declarations: missing indexes, unresolved subject paths, labels that no longer fit';

CREATE FUNCTION retention.processing_register(
    OUT table_name regclass,
    OUT column_name name,
    OUT subject text,
    OUT purpose text,
    OUT basis text,
    OUT minimize text,
    OUT anonymize_after interval,
    OUT anonymize_method text,
    OUT archive_after interval,
    OUT purge_after interval,
    OUT on_forget text)
RETURNS SETOF record
LANGUAGE C STABLE STRICT
AS 'MODULE_PATHNAME', 'retention_processing_register';

COMMENT ON FUNCTION retention.processing_register() IS
'register of processing activities (GDPR Art. 30) generated from the declarations';

GRANT SELECT ON retention.policies TO PUBLIC;
