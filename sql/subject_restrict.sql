-- Restriction of processing (GDPR Art. 18): retention.restrict_subject(subject, id, reason)
-- hides the subject's rows from application roles on the tables that opt in
-- with retention.enable_restriction(table); the data-protection and admin
-- roles, the table owner and superusers still see them.
CREATE SCHEMA housing;
CREATE TABLE housing.tenant (id int PRIMARY KEY, name text);
CREATE TABLE housing.lease (
    id        int PRIMARY KEY,
    tenant_id int NOT NULL REFERENCES housing.tenant (id),
    flat      text
);
CREATE TABLE housing.payment (                       -- two hops from the tenant
    id        int PRIMARY KEY,
    lease_id  int REFERENCES housing.lease (id),
    amount    numeric
);
CREATE TABLE housing.reading (                       -- partitioned
    tenant_id int NOT NULL REFERENCES housing.tenant (id),
    taken_on  date NOT NULL,
    kwh       int
) PARTITION BY RANGE (taken_on);
CREATE TABLE housing.reading_2024 PARTITION OF housing.reading
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
SECURITY LABEL FOR retention ON TABLE housing.tenant IS 'subject tenant(id)';
SECURITY LABEL FOR retention ON COLUMN housing.tenant.name IS 'personal';
SECURITY LABEL FOR retention ON TABLE housing.lease IS 'subject tenant';
SECURITY LABEL FOR retention ON TABLE housing.payment IS 'subject tenant';
SECURITY LABEL FOR retention ON TABLE housing.reading IS 'subject tenant';
INSERT INTO housing.tenant VALUES (1, 'Lina'), (2, 'Marc');
INSERT INTO housing.lease VALUES (10, 1, 'A1'), (11, 2, 'B2');
INSERT INTO housing.payment VALUES (100, 10, 700), (101, 11, 650), (102, NULL, 5);
INSERT INTO housing.reading VALUES (1, '2024-03-01', 120), (2, '2024-03-01', 90);

CREATE ROLE regress_rights_app;
CREATE ROLE regress_rights_officer IN ROLE retention_dpo;
GRANT USAGE ON SCHEMA housing TO regress_rights_app, regress_rights_officer;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA housing
    TO regress_rights_app, regress_rights_officer;

-- the tables opt in: a restrictive policy on each (and on each partition)
SELECT retention.enable_restriction('housing.tenant');
SELECT retention.enable_restriction('housing.lease');
SELECT retention.enable_restriction('housing.payment');
SELECT retention.enable_restriction('housing.reading');
SELECT polrelid::regclass AS table_name, polname, polpermissive,
       pg_get_expr(polqual, polrelid) AS predicate
FROM pg_policy WHERE polrelid::regclass::text LIKE 'housing.%' ORDER BY 1, 2;

-- Marc contests the accuracy of his data: his processing is restricted
SELECT retention.restrict_subject('tenant', '2', 'accuracy contested, ticket 88') AS restricted;
SELECT retention.restrict_subject('tenant', '2', 'again') AS restricted;
SELECT subject, reason FROM retention.restricted_subject WHERE subject = 'tenant';

-- the application no longer sees him, through every table and partition
SET ROLE regress_rights_app;
SELECT id, name FROM housing.tenant ORDER BY id;
SELECT id, tenant_id FROM housing.lease ORDER BY id;
SELECT id, lease_id FROM housing.payment ORDER BY id;
SELECT tenant_id, kwh FROM housing.reading ORDER BY 1;
SELECT tenant_id, kwh FROM housing.reading_2024 ORDER BY 1;
-- nor changes or adds to his data
UPDATE housing.lease SET flat = 'B3' WHERE tenant_id = 2;
INSERT INTO housing.lease VALUES (12, 2, 'C1');
-- Lina is untouched
INSERT INTO housing.lease VALUES (13, 1, 'A2');
RESET ROLE;

-- the data-protection officer, the owner and superusers see everything
SET ROLE regress_rights_officer;
SELECT id, tenant_id, flat FROM housing.lease ORDER BY id;
SELECT id, lease_id FROM housing.payment ORDER BY id;
RESET ROLE;
SELECT id, name FROM housing.tenant ORDER BY id;

-- lifting the restriction
SELECT retention.unrestrict_subject('tenant', '02') AS lifted;
SELECT retention.unrestrict_subject('tenant', '2') AS lifted;
SET ROLE regress_rights_app;
SELECT id, name FROM housing.tenant ORDER BY id;
SELECT id, lease_id FROM housing.payment ORDER BY id;
RESET ROLE;

-- enabling twice is harmless; disabling restores the table as it was
SELECT retention.enable_restriction('housing.lease');
SELECT retention.disable_restriction('housing.lease');
SELECT relrowsecurity, (SELECT count(*) FROM pg_policy WHERE polrelid = c.oid) AS policies
FROM pg_class c WHERE oid = 'housing.lease'::regclass;
-- a table that already had row-level security keeps its own policies
ALTER TABLE housing.lease ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_flats ON housing.lease USING (flat LIKE 'A%');
SELECT retention.enable_restriction('housing.lease');
SELECT polname, polpermissive FROM pg_policy WHERE polrelid = 'housing.lease'::regclass ORDER BY 1;
SELECT retention.disable_restriction('housing.lease');
SELECT relrowsecurity, (SELECT string_agg(polname, ', ') FROM pg_policy WHERE polrelid = c.oid) AS policies
FROM pg_class c WHERE oid = 'housing.lease'::regclass;

-- restricting a subject no table enforces it for is allowed, with a warning
SELECT retention.disable_restriction('housing.tenant');
SELECT retention.disable_restriction('housing.payment');
SELECT retention.disable_restriction('housing.reading');
SELECT retention.restrict_subject('tenant', '1', 'objection, ticket 90') AS restricted;
SELECT retention.unrestrict_subject('tenant', '1') AS lifted;

-- bad input
SELECT retention.enable_restriction('housing.reading_2024');
CREATE TABLE housing.note (id int);
SELECT retention.enable_restriction('housing.note');
SELECT retention.enable_restriction(NULL);
SELECT retention.restrict_subject('tenant', 'two', 'x');
SELECT retention.restrict_subject(NULL, '2', 'x');
-- only the owner may change a table's row-level security
SET ROLE regress_rights_app;
SELECT retention.enable_restriction('housing.tenant');
-- and only the data-protection officer restricts subjects
SELECT retention.restrict_subject('tenant', '1', 'x');
RESET ROLE;

DROP SCHEMA housing CASCADE;
DROP ROLE regress_rights_app;
DROP ROLE regress_rights_officer;
