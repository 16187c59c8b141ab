-- Least privilege.  What any role may execute in schema retention is an
-- explicit list (src/sql/90_privileges.sql); the keyed methods are not on
-- it, so no role can compute the server's pseudonyms of guessed values; the
-- engine's own entry points to them refuse any call without its capability;
-- the restriction predicate answers only roles with rights on the table.
CREATE ROLE regress_priv_app;
CREATE ROLE regress_priv_owner;
CREATE ROLE regress_priv_analytics;
CREATE SCHEMA priv;
GRANT USAGE ON SCHEMA priv TO regress_priv_app, regress_priv_owner;
GRANT CREATE ON SCHEMA priv TO regress_priv_owner;

-- everything PUBLIC may execute: methods that need no key, inspection,
-- the owner's own operations and the entry points that check for themselves
SELECT p.oid::regprocedure AS executable_by_any_role
FROM pg_proc p
WHERE p.pronamespace = 'retention'::regnamespace
  AND has_function_privilege('regress_priv_app', p.oid, 'EXECUTE')
  AND p.proname NOT IN ('noise', 'jitter', 'generalize')
  AND p.proname NOT LIKE 'random\_%' AND p.proname NOT LIKE '\_rule\_fake\_%'
ORDER BY 1::text;
SELECT count(*) AS random_fakes_and_rule_fakes
FROM pg_proc p
WHERE p.pronamespace = 'retention'::regnamespace
  AND has_function_privilege('regress_priv_app', p.oid, 'EXECUTE')
  AND (p.proname LIKE 'random\_%' OR p.proname LIKE '\_rule\_fake\_%');

-- keyed methods: a dictionary attack on hashed columns is refused
SET ROLE regress_priv_app;
SELECT retention.hash('alice@example.com');
SELECT retention.hash('alice@example.com', 'base32', 16);
SELECT retention.fake_last_name('alice', 'fr');
-- the engine's entry points want its capability, which no SQL can read
SELECT retention._rule_hash('alice@example.com', 'hex', 0, 42);
SELECT retention._rule_fake_city('alice', 'en', -1);
-- methods without a key stay open
SELECT retention.mask_email('alice@example.com'), retention.redact('Bob 42');
RESET ROLE;

-- a role trusted with pseudonyms gets them by an explicit grant
GRANT EXECUTE ON FUNCTION retention.hash(text) TO regress_priv_analytics;
SELECT retention.hash('alice@example.com') AS as_superuser \gset
SET ROLE regress_priv_analytics;
SELECT retention.hash('alice@example.com') = :'as_superuser' AS same_pseudonym;
RESET ROLE;

-- the restriction predicate tells nothing to a role without rights on the table
CREATE TABLE priv.visit (id int PRIMARY KEY, customer_id int);
SET ROLE regress_priv_app;
SELECT retention._visible('priv.visit', 'customer', '1');
RESET ROLE;
GRANT SELECT ON priv.visit TO regress_priv_app;
SET ROLE regress_priv_app;
SELECT retention._visible('priv.visit', 'customer', '1') AS visible;
SELECT retention._visible(NULL, 'customer', '1');
RESET ROLE;

-- minimize_existing: the table's owner (or retention_admin) only
SET ROLE regress_priv_owner;
CREATE TABLE priv.person (id int PRIMARY KEY, born date);
INSERT INTO priv.person VALUES (1, '1980-05-17');
SECURITY LABEL FOR retention ON COLUMN priv.person.born IS 'minimize to month_day';
GRANT SELECT, UPDATE ON priv.person TO regress_priv_app;
RESET ROLE;
SET ROLE regress_priv_app;
SELECT retention.minimize_existing('priv.person');
RESET ROLE;
SET ROLE regress_priv_owner;
SELECT retention.minimize_existing('priv.person') AS minimized;
RESET ROLE;

-- k_anonymity: the caller needs SELECT on the quasi-identifiers
SET ROLE regress_priv_owner;
CREATE TABLE priv.survey (zip text, age int, answer text);
INSERT INTO priv.survey VALUES ('75001', 30, 'a'), ('75001', 30, 'b'), ('75002', 41, 'c');
GRANT SELECT (zip) ON priv.survey TO regress_priv_app;
RESET ROLE;
SET ROLE regress_priv_app;
SELECT retention.k_anonymity('priv.survey', ARRAY['zip']) AS k_zip;
SELECT retention.k_anonymity('priv.survey', ARRAY['zip', 'age']);
RESET ROLE;

-- the capability is bound where the engine's SQL names it, never inside a
-- label's own literal, even one that spells its placeholder
SET ROLE regress_priv_owner;
CREATE TABLE priv.note (id int PRIMARY KEY, body text);
INSERT INTO priv.note VALUES (1, 'secret');
SECURITY LABEL FOR retention ON COLUMN priv.note.body IS
  'minimize to constant(''$retention_capability it''''s'')';
SELECT retention.minimize_existing('priv.note') AS minimized;
SELECT body FROM priv.note;
RESET ROLE;

-- ... and not on a table whose row-level security limits what the caller sees
SET ROLE regress_priv_owner;
ALTER TABLE priv.survey ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_paris ON priv.survey FOR SELECT USING (zip LIKE '75%');
RESET ROLE;
SET ROLE regress_priv_app;
SELECT retention.k_anonymity('priv.survey', ARRAY['zip']);
RESET ROLE;

-- code run as a table's owner cannot let a second run in: releasing the
-- run's lock rolls the batch back and stops the run
SET ROLE regress_priv_owner;
CREATE TABLE priv.visitor (id int PRIMARY KEY, seen date, email text);
INSERT INTO priv.visitor VALUES (1, '2000-01-01', 'ann@example.com');
CREATE FUNCTION priv.unlock() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN PERFORM pg_advisory_unlock_all(); RETURN NEW; END$$;
CREATE TRIGGER unlock BEFORE UPDATE ON priv.visitor FOR EACH ROW EXECUTE FUNCTION priv.unlock();
SECURITY LABEL FOR retention ON TABLE priv.visitor IS 'age from seen';
SECURITY LABEL FOR retention ON COLUMN priv.visitor.email IS 'anonymize after 1 year using mask_email';
RESET ROLE;
SET client_min_messages = warning;
CALL retention.run();
RESET client_min_messages;
SELECT email FROM priv.visitor;
SELECT status, message FROM retention.run_history ORDER BY run_id DESC LIMIT 1;

DROP SCHEMA priv CASCADE;
REVOKE EXECUTE ON FUNCTION retention.hash(text) FROM regress_priv_analytics;
DROP ROLE regress_priv_app;
DROP ROLE regress_priv_owner;
DROP ROLE regress_priv_analytics;
