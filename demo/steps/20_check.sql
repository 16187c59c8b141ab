-- What retention.check() finds wrong with the declarations
SELECT severity, table_name, column_name, problem, hint FROM retention.check() ORDER BY 2, 3;
