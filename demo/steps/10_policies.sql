-- What is declared: one row per rule (retention.policies)
SELECT table_name, column_name, stage, after, method, subject, age_column
FROM retention.policies ORDER BY table_name::text, column_name NULLS FIRST, stage;
