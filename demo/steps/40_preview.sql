-- What the first lifecycle run will do (retention.preview(): done and rolled back, so exact)
SELECT table_name, column_name, action, rows, blocked, blocked_by
FROM retention.preview() ORDER BY table_name::text, column_name NULLS FIRST, action;
