-- The application load of the lifecycle suite (pgbench -f, -D rows=N):
-- each transaction updates one random customer and reads another, as a
-- web application would, while retention.run() works on the same table.
\set a random(1, :rows)
\set b random(1, :rows)
BEGIN;
UPDATE customer SET phone = phone WHERE id = :a;
SELECT email, phone, seen_at FROM customer WHERE id = :b;
END;
