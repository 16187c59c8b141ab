-- The register of processing (GDPR Art. 30) built from the declarations
SELECT table_name, column_name, subject, purpose, basis, anonymize_after, archive_after, purge_after, on_forget
FROM retention.processing_register() ORDER BY table_name::text, column_name NULLS FIRST;
