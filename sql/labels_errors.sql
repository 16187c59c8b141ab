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

-- rules that could never run are refused when declared
CREATE DOMAIN bad.short_code AS varchar(8) CHECK (VALUE ~ '^[A-Z]{2}-[0-9]+$');
CREATE DOMAIN bad.required_text AS text NOT NULL;
CREATE DOMAIN bad.positive AS int CHECK (VALUE > 0);
CREATE DOMAIN bad.corp_email AS text CHECK (VALUE ~ '^[a-z]+@corp\.example$');
CREATE TABLE bad.shop (
    id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number int GENERATED BY DEFAULT AS IDENTITY,
    bought_on date NOT NULL,
    price numeric(8, 2),
    total numeric GENERATED ALWAYS AS (price * 1.2) STORED,
    due_on date GENERATED ALWAYS AS (bought_on + 30) STORED,
    email text NOT NULL,
    nickname bad.required_text,
    code varchar(12),
    ref bad.short_code,
    qty bad.positive,
    corp bad.corp_email,
    note text
);
-- reading a generated column is fine: it is the age column here
SECURITY LABEL FOR retention ON TABLE bad.shop IS 'age from due_on; purge after 10 years';
-- a generated column is never written: not minimized, anonymized nor purged
SECURITY LABEL FOR retention ON COLUMN bad.shop.total IS 'minimize to generalize(10)';
SECURITY LABEL FOR retention ON COLUMN bad.shop.total IS 'anonymize after 1 year using noise(0.1)';
SECURITY LABEL FOR retention ON COLUMN bad.shop.total IS 'purge after 1 year';
-- nor an identity column GENERATED ALWAYS (PostgreSQL refuses to update it); BY DEFAULT is fine
SECURITY LABEL FOR retention ON COLUMN bad.shop.id IS 'anonymize after 1 year using noise(0.1)';
-- NULL into a NOT NULL column or a NOT NULL domain
SECURITY LABEL FOR retention ON COLUMN bad.shop.email IS 'anonymize after 1 year using nullify';
SECURITY LABEL FOR retention ON COLUMN bad.shop.nickname IS 'minimize to nullify';
SECURITY LABEL FOR retention ON COLUMN bad.shop.nickname IS 'purge after 1 year';
-- a constant that is not a value of the column: type, modifier, domain
SECURITY LABEL FOR retention ON COLUMN bad.shop.bought_on IS 'minimize to constant(''not a date'')';
SECURITY LABEL FOR retention ON COLUMN bad.shop.code IS 'anonymize after 1 year using constant(''0123456789ABC'')';
SECURITY LABEL FOR retention ON COLUMN bad.shop.price IS 'anonymize after 1 year using constant(1234567.5)';
SECURITY LABEL FOR retention ON COLUMN bad.shop.ref IS 'anonymize after 1 year using constant(''unknown'')';
SECURITY LABEL FOR retention ON COLUMN bad.shop.qty IS 'minimize to constant(0)';
-- values longer than a varchar(n) holds
SECURITY LABEL FOR retention ON COLUMN bad.shop.code IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON COLUMN bad.shop.code IS 'anonymize after 1 year using partial(2, ''*********'', 2)';
SECURITY LABEL FOR retention ON COLUMN bad.shop.code IS 'anonymize after 1 year using fake_company';
-- a method whose values the domain refuses, tried on sample values ...
SECURITY LABEL FOR retention ON COLUMN bad.shop.ref IS 'minimize to redact';
SECURITY LABEL FOR retention ON COLUMN bad.shop.qty IS 'anonymize after 1 year using generalize(10)';
-- ... and on the table's own values, which the error never shows
INSERT INTO bad.shop (bought_on, email, nickname, corp) VALUES (current_date, 'x@example.com', 'x', 'bob@corp.example');
SECURITY LABEL FOR retention ON COLUMN bad.shop.corp IS 'anonymize after 1 year using mask_email';
-- hostile names in the new errors
CREATE TABLE bad."Tab ""le"" ü" (at date, "Gen ""c"" é" int GENERATED ALWAYS AS (1) STORED,
                                 "d ""x"" ü" bad.short_code, "v ""3""" varchar(3));
SECURITY LABEL FOR retention ON TABLE bad."Tab ""le"" ü" IS 'age from at; purge after 2 years';
SECURITY LABEL FOR retention ON COLUMN bad."Tab ""le"" ü"."Gen ""c"" é" IS 'anonymize after 1 year using nullify';
SECURITY LABEL FOR retention ON COLUMN bad."Tab ""le"" ü"."d ""x"" ü" IS 'anonymize after 1 year using redact';
SECURITY LABEL FOR retention ON COLUMN bad."Tab ""le"" ü"."v ""3""" IS 'minimize to constant(''it''''s too long'')';
SECURITY LABEL FOR retention ON COLUMN bad."Tab ""le"" ü"."v ""3""" IS 'anonymize after 1 year using hash(hex, 8)';
-- what fits is accepted
SECURITY LABEL FOR retention ON COLUMN bad.shop.number IS 'anonymize after 1 year using noise(0.1)';
SECURITY LABEL FOR retention ON COLUMN bad.shop.code IS 'anonymize after 1 year using hash(base32, 12)';
SECURITY LABEL FOR retention ON COLUMN bad.shop.ref IS 'anonymize after 1 year using constant(''XX-0'')';
SECURITY LABEL FOR retention ON COLUMN bad.shop.qty IS 'anonymize after 1 year using constant(1)';
SECURITY LABEL FOR retention ON COLUMN bad.shop.price IS 'minimize to constant(9.99)';
SECURITY LABEL FOR retention ON COLUMN bad.shop.note IS 'anonymize after 1 year using nullify';
SECURITY LABEL FOR retention ON COLUMN bad."Tab ""le"" ü"."v ""3""" IS 'minimize to constant(''n/a'')';
SELECT table_name, column_name, stage, method FROM retention.policies
WHERE table_name IN ('bad.shop'::regclass, 'bad."Tab ""le"" ü"'::regclass) ORDER BY 1, 2 NULLS FIRST, 3;
-- the table's writes work with these rules
INSERT INTO bad.shop (bought_on, email, nickname, price, ref, qty) VALUES (current_date, 'y@example.com', 'y', 150, 'AB-1', 3);
SELECT price, ref, qty FROM bad.shop WHERE email = 'y@example.com';
-- a column that changes afterwards: check() reports the rules that no longer fit
ALTER TABLE bad.shop ALTER COLUMN code TYPE varchar(10);
SELECT severity, problem FROM retention.check() WHERE table_name = 'bad.shop'::regclass;
ALTER TABLE bad.shop ALTER COLUMN code TYPE varchar(12);
UPDATE bad.shop SET note = 'n';
ALTER TABLE bad.shop ALTER COLUMN note SET NOT NULL;
SELECT severity, problem FROM retention.check() WHERE table_name = 'bad.shop'::regclass;
ALTER TABLE bad.shop ALTER COLUMN note DROP NOT NULL;
UPDATE bad.shop SET ref = NULL;
ALTER TABLE bad.shop ALTER COLUMN ref TYPE varchar(2);
SELECT severity, problem FROM retention.check() WHERE table_name = 'bad.shop'::regclass;
ALTER TABLE bad.shop ALTER COLUMN ref TYPE bad.short_code;
ALTER DOMAIN bad.positive ADD CONSTRAINT above_five CHECK (VALUE > 5) NOT VALID;
SELECT severity, problem FROM retention.check() WHERE table_name = 'bad.shop'::regclass;
ALTER DOMAIN bad.positive DROP CONSTRAINT above_five;
SELECT severity, problem FROM retention.check() WHERE table_name = 'bad.shop'::regclass;
-- a domain that gains its first CHECK
CREATE DOMAIN bad.plain AS text;
ALTER TABLE bad.shop ADD COLUMN label bad.plain;
SECURITY LABEL FOR retention ON COLUMN bad.shop.label IS 'minimize to redact';
ALTER DOMAIN bad.plain ADD CONSTRAINT capitalized CHECK (VALUE ~ '^[A-Z]') NOT VALID;
SELECT severity, problem FROM retention.check() WHERE table_name = 'bad.shop'::regclass;
SECURITY LABEL FOR retention ON COLUMN bad.shop.label IS NULL;
SELECT count(*) AS nothing_queued FROM retention.late_row WHERE relid = 'bad.shop'::regclass;
-- a domain's constraints and the table's values are tried as the table's owner, restricted:
-- a superuser labelling another role's table never runs that role's code with its own rights
CREATE ROLE retention_mallory;
GRANT USAGE ON SCHEMA bad TO retention_mallory;
CREATE FUNCTION bad.escalate(text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'the trap runs as %', current_user;
    ALTER ROLE retention_mallory SUPERUSER;
    RETURN true;
END
$$;
ALTER FUNCTION bad.escalate(text) OWNER TO retention_mallory;
CREATE DOMAIN bad.trap AS text CHECK (bad.escalate(VALUE));
CREATE TABLE bad.mallory (at date, secret bad.trap, code bad.trap);
ALTER TABLE bad.mallory OWNER TO retention_mallory;
SECURITY LABEL FOR retention ON TABLE bad.mallory IS 'age from at; purge after 2 years';
SECURITY LABEL FOR retention ON COLUMN bad.mallory.secret IS 'anonymize after 1 year using redact';
SECURITY LABEL FOR retention ON COLUMN bad.mallory.code IS 'minimize to constant(''x'')';
SELECT rolsuper AS mallory_is_superuser FROM pg_roles WHERE rolname = 'retention_mallory';
-- check() tries them the same way; a method it could try on no sample is a warning
SELECT severity, column_name, problem FROM retention.check() WHERE table_name = 'bad.mallory'::regclass;
\set VERBOSITY sqlstate
SECURITY LABEL FOR retention ON COLUMN bad.shop.total IS 'purge after 1 year';
SECURITY LABEL FOR retention ON COLUMN bad.shop.email IS 'anonymize after 1 year using nullify';
SECURITY LABEL FOR retention ON COLUMN bad.shop.price IS 'anonymize after 1 year using constant(1234567.5)';
SECURITY LABEL FOR retention ON COLUMN bad.shop.code IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON COLUMN bad.shop.ref IS 'minimize to redact';
\set VERBOSITY default

DROP SCHEMA bad CASCADE;
DROP ROLE retention_mallory;
