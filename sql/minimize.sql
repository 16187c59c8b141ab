-- minimize to: values are reduced on every write, by INSERT, UPDATE and COPY.
CREATE TABLE member (
    id int PRIMARY KEY,
    birthday date,
    last_ip inet,
    salary int,
    email text,
    signed_up timestamptz
);
INSERT INTO member VALUES (1, '1985-07-14', '203.0.113.45', 52345, 'ann@example.com', '2024-03-05 10:00+00');

SECURITY LABEL FOR retention ON COLUMN member.birthday IS 'minimize to month_day';
SECURITY LABEL FOR retention ON COLUMN member.last_ip IS 'minimize to ip_prefix(24)';
SECURITY LABEL FOR retention ON COLUMN member.salary IS 'minimize to 1000';
SECURITY LABEL FOR retention ON COLUMN member.email IS 'minimize to mask_email';
SECURITY LABEL FOR retention ON COLUMN member.signed_up IS 'minimize to generalize(month)';

-- new rows are minimized as they are written
INSERT INTO member VALUES (2, '1992-02-29', '198.51.100.7', 61999, 'bob@example.org', '2024-04-20 08:30+00');
UPDATE member SET salary = 70500, last_ip = '198.51.100.99' WHERE id = 2;
COPY member FROM stdin;
3	2001-12-31	192.0.2.200	30999	carla@example.net	2024-05-31 23:59:59+00
\.
SELECT id, birthday, last_ip, salary, email, signed_up AT TIME ZONE 'UTC' AS signed_up FROM member ORDER BY id;

-- rows written before the rule are minimized on request (and by the lifecycle)
SELECT retention.minimize_existing('member') AS minimized;
SELECT id, birthday, last_ip, salary, email FROM member ORDER BY id;
SELECT retention.minimize_existing('member') AS again_nothing_to_do;

-- the trigger exists while a minimize rule does, and goes with the last one
SELECT tgname FROM pg_trigger WHERE tgrelid = 'member'::regclass;
SECURITY LABEL FOR retention ON COLUMN member.birthday IS NULL;
SECURITY LABEL FOR retention ON COLUMN member.last_ip IS NULL;
SECURITY LABEL FOR retention ON COLUMN member.salary IS 'personal';
SECURITY LABEL FOR retention ON COLUMN member.email IS NULL;
SELECT count(*) AS triggers_while_one_rule_left FROM pg_trigger WHERE tgrelid = 'member'::regclass;
SECURITY LABEL FOR retention ON COLUMN member.signed_up IS NULL;
SELECT count(*) AS triggers_after_last_rule FROM pg_trigger WHERE tgrelid = 'member'::regclass;

-- partitioned tables: every partition, present and future, minimizes
CREATE TABLE visit (who text, ip inet, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE visit_2024 PARTITION OF visit FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
SECURITY LABEL FOR retention ON COLUMN visit.ip IS 'minimize to ip_prefix(16)';
CREATE TABLE visit_2025 (at date NOT NULL, ip inet, who text);
ALTER TABLE visit ATTACH PARTITION visit_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO visit VALUES ('a', '10.20.30.40', '2024-06-01'), ('b', '10.20.30.40', '2025-06-01');
SELECT tableoid::regclass, who, ip FROM visit ORDER BY who;

-- a constant of the column's type, and nullify
CREATE TABLE note (id int, secret text, code int);
SECURITY LABEL FOR retention ON COLUMN note.secret IS 'minimize to nullify';
SECURITY LABEL FOR retention ON COLUMN note.code IS 'minimize to constant(0)';
INSERT INTO note VALUES (1, 'do not keep', 1234);
SELECT * FROM note;

-- the trigger is created with the rule: a replayed CREATE TRIGGER (pg_restore) is skipped,
-- and so is 0.1.0's retention_write (a dump of 0.1.0)
CREATE TRIGGER retention_minimize BEFORE INSERT OR UPDATE OF secret, code ON note
    FOR EACH ROW EXECUTE FUNCTION retention.write_trigger();
CREATE TRIGGER retention_write BEFORE INSERT OR UPDATE ON note
    FOR EACH ROW EXECUTE FUNCTION retention.write_trigger();
SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'note'::regclass;
SELECT retention.write_trigger();
-- only as a row trigger of INSERT or UPDATE
CREATE TABLE note_log (id int);
CREATE TRIGGER misused AFTER INSERT ON note_log EXECUTE FUNCTION retention.write_trigger();
INSERT INTO note_log VALUES (1);
DROP TABLE note_log;

-- an UPDATE that sets no minimized column does not call the trigger (nor lock the row first)
UPDATE note SET id = 2;
SELECT * FROM note;

-- a write trigger lost (dropped by hand, or internal ones after pg_upgrade): check() reports it,
-- repair_triggers() recreates it
DROP TRIGGER retention_minimize ON note;
SELECT severity, table_name, problem FROM retention.check() WHERE problem LIKE 'write trigger%';
SELECT retention.repair_triggers();
SELECT count(*) FROM retention.check() WHERE problem LIKE 'write trigger%';
SELECT retention.repair_triggers();
INSERT INTO note VALUES (3, 'still secret', 99);
SELECT * FROM note WHERE id = 3;

DROP TABLE member, visit, note;
