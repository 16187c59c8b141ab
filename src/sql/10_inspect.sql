-- Inspection: what is declared, what is wrong with it, and the register
-- of processing built from the declarations.

CREATE FUNCTION retention._policies(
    OUT table_name regclass,
    OUT column_name name,
    OUT stage text,
    OUT after interval,
    OUT method text,
    OUT subject text,
    OUT age_column name,
    OUT purpose text,
    OUT basis text,
    OUT label text)
RETURNS SETOF record
LANGUAGE C STABLE STRICT
AS 'MODULE_PATHNAME', 'retention_policies';

COMMENT ON FUNCTION retention._policies() IS
'the parsed retention declarations, one row per rule (use the view retention.policies)';

CREATE VIEW retention.policies AS
SELECT * FROM retention._policies();

COMMENT ON VIEW retention.policies IS
'one row per declared rule: stage (minimize, anonymize, archive, purge, forget, personal, declare), its delay and method';

CREATE FUNCTION retention.rules_for(
    relation regclass,
    OUT table_name regclass,
    OUT column_name name,
    OUT stage text,
    OUT after interval,
    OUT method text,
    OUT subject text,
    OUT age_column name,
    OUT purpose text,
    OUT basis text,
    OUT label text)
RETURNS SETOF record
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
