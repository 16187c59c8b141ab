-- Bad labels are rejected with the position, a hint and a SQLSTATE; nothing is stored.
CREATE SCHEMA bad;
CREATE TABLE bad.person (
    id int PRIMARY KEY,
    email text,
    score int,
    born date,
    note text,
    ip inet,
    seen_at timestamptz,
    seen_text text
);
CREATE TABLE bad.no_age (id int PRIMARY KEY, email text);

-- unknown clause
SECURITY LABEL FOR retention ON TABLE bad.person IS 'subject person(id); keep forever';
-- duplicate clause
SECURITY LABEL FOR retention ON TABLE bad.person IS 'age from seen_at; purge after 1 year; purge after 2 years';
-- unterminated quote
SECURITY LABEL FOR retention ON TABLE bad.person IS 'purpose ''never closed';
-- missing delay, unknown unit, zero and negative delays
SECURITY LABEL FOR retention ON TABLE bad.person IS 'age from seen_at; purge after';
SECURITY LABEL FOR retention ON TABLE bad.person IS 'age from seen_at; purge after 3 fortnights';
SECURITY LABEL FOR retention ON TABLE bad.person IS 'age from seen_at; purge after 0 days';
SECURITY LABEL FOR retention ON TABLE bad.person IS 'age from seen_at; purge after -1 year';
-- unknown age column, age column of the wrong type
SECURITY LABEL FOR retention ON TABLE bad.person IS 'age from last_login; purge after 1 year';
SECURITY LABEL FOR retention ON TABLE bad.person IS 'age from seen_text; purge after 1 year';
-- stages out of order
SECURITY LABEL FOR retention ON TABLE bad.person IS 'age from seen_at; archive after 3 years; purge after 2 years';
-- a month is not always 30 days: the order must hold for every start date
SECURITY LABEL FOR retention ON TABLE bad.person IS 'age from seen_at; archive after 30 days; purge after 1 month';
-- archive or purge without an age column
SECURITY LABEL FOR retention ON TABLE bad.person IS 'subject person(id); purge after 2 years';
-- unknown basis, unknown forget action
SECURITY LABEL FOR retention ON TABLE bad.person IS 'basis because_we_can';
SECURITY LABEL FOR retention ON TABLE bad.person IS 'subject person(id); on forget shred';
-- unknown key column
SECURITY LABEL FOR retention ON TABLE bad.person IS 'subject person(person_id)';

SECURITY LABEL FOR retention ON TABLE bad.person IS 'subject person(id); age from seen_at; archive after 1 year';
-- unknown method, with a suggestion
SECURITY LABEL FOR retention ON COLUMN bad.person.email IS 'anonymize after 1 year using hsh';
-- method that does not fit the column type
SECURITY LABEL FOR retention ON COLUMN bad.person.score IS 'anonymize after 1 year using mask_email';
SECURITY LABEL FOR retention ON COLUMN bad.person.born IS 'anonymize after 1 year using noise(0.1)';
-- missing, extra, wrong and out-of-range arguments
SECURITY LABEL FOR retention ON COLUMN bad.person.email IS 'anonymize after 1 year using partial(2, ''*'')';
SECURITY LABEL FOR retention ON COLUMN bad.person.email IS 'anonymize after 1 year using hash(hex, 16, 3)';
SECURITY LABEL FOR retention ON COLUMN bad.person.email IS 'anonymize after 1 year using partial(''2'', ''*'', 2)';
SECURITY LABEL FOR retention ON COLUMN bad.person.ip IS 'anonymize after 1 year using ip_prefix(200)';
SECURITY LABEL FOR retention ON COLUMN bad.person.email IS 'anonymize after 1 year using fake_email(de)';
SECURITY LABEL FOR retention ON COLUMN bad.person.born IS 'anonymize after 1 year using generalize(week)';
-- anonymize later than the table archives the row
SECURITY LABEL FOR retention ON COLUMN bad.person.email IS 'anonymize after 2 years using hash';
-- anonymize after purge
SECURITY LABEL FOR retention ON COLUMN bad.person.note IS 'anonymize after 9 months using redact; purge after 6 months';
-- anonymize without a method
SECURITY LABEL FOR retention ON COLUMN bad.person.note IS 'anonymize after 6 months';
-- minimize needs an idempotent method
SECURITY LABEL FOR retention ON COLUMN bad.person.email IS 'minimize to hash';
-- column stages on a table with no age column
SECURITY LABEL FOR retention ON COLUMN bad.no_age.email IS 'anonymize after 1 year using hash';
-- the table label cannot be removed while column stages depend on its age column
SECURITY LABEL FOR retention ON COLUMN bad.person.email IS 'anonymize after 6 months using hash';
SECURITY LABEL FOR retention ON TABLE bad.person IS NULL;

-- nothing invalid was stored
SELECT table_name, column_name, stage FROM retention.policies
WHERE table_name::text LIKE 'bad.%' ORDER BY 1, 2 NULLS FIRST, 3;

-- labels only go on tables and columns
CREATE VIEW bad.v AS SELECT id FROM bad.person;
SECURITY LABEL FOR retention ON VIEW bad.v IS 'personal';
SECURITY LABEL FOR retention ON SCHEMA bad IS 'personal';
-- a partition follows its partitioned table
CREATE TABLE bad.part (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE bad.part_2024 PARTITION OF bad.part FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
SECURITY LABEL FOR retention ON TABLE bad.part_2024 IS 'age from at; purge after 1 year';

-- subject paths: ambiguous, missing
CREATE TABLE bad.pair (
    id int PRIMARY KEY,
    a int REFERENCES bad.person(id),
    b int REFERENCES bad.person(id),
    c int REFERENCES bad.no_age(id)
);
SECURITY LABEL FOR retention ON TABLE bad.pair IS 'subject person';
-- via a foreign key to a table that is not declared for the subject (yet): a warning
SECURITY LABEL FOR retention ON TABLE bad.pair IS 'subject person via c';
SECURITY LABEL FOR retention ON TABLE bad.pair IS 'subject person via a';
-- a second subject table for the same subject
SECURITY LABEL FOR retention ON TABLE bad.no_age IS 'subject person(id)';

-- only the owner may label a table
CREATE ROLE retention_app_role;
GRANT USAGE ON SCHEMA bad TO retention_app_role;
SET ROLE retention_app_role;
SECURITY LABEL FOR retention ON TABLE bad.no_age IS 'personal';
RESET ROLE;
REVOKE USAGE ON SCHEMA bad FROM retention_app_role;
DROP ROLE retention_app_role;

-- each class of error has its own SQLSTATE, for applications that catch them
\set VERBOSITY sqlstate
SECURITY LABEL FOR retention ON TABLE bad.person IS 'subject person(id); keep forever';
SECURITY LABEL FOR retention ON COLUMN bad.person.email IS 'anonymize after 1 year using hsh';
SECURITY LABEL FOR retention ON COLUMN bad.person.score IS 'anonymize after 1 year using mask_email';
SECURITY LABEL FOR retention ON TABLE bad.person IS 'age from last_login; purge after 1 year';
SECURITY LABEL FOR retention ON TABLE bad.person IS 'age from seen_at; archive after 3 years; purge after 2 years';
SECURITY LABEL FOR retention ON TABLE bad.person IS 'age from seen_at; purge after 0 days';
\set VERBOSITY default

DROP SCHEMA bad CASCADE;
