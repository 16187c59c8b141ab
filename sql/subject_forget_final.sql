-- Forget is final: after retention.forget_subject no later run, archive,
-- restore or re-application brings any of the subject's data back, in clear
-- or under a new archive key; a row kept in place because other rows hold it
-- is deleted by the first run after the hold ends; nothing forget anonymized
-- is anonymized again; the receipt says per table what was deleted, what was
-- anonymized and what is kept, and what holds it.
CREATE SCHEMA crm;
CREATE TABLE crm.customer (
    id      int PRIMARY KEY,
    name    text,
    email   text,
    seen_at timestamptz NOT NULL
);
CREATE TABLE crm.invoice (            -- legal hold: holds its customer
    id          int PRIMARY KEY,
    customer_id int NOT NULL REFERENCES crm.customer (id),
    billed_to   text,
    issued_on   date NOT NULL
);
CREATE TABLE crm.survey (             -- anonymized by forget, archived by the lifecycle
    id          int PRIMARY KEY,
    customer_id int NOT NULL REFERENCES crm.customer (id) ON DELETE CASCADE,
    comment     text,
    answered_on date NOT NULL
);
CREATE TABLE crm.contract (           -- nothing declared personal, referenced by an undeclared table
    id          int PRIMARY KEY,
    customer_id int NOT NULL REFERENCES crm.customer (id),
    signed_on   date NOT NULL
);
CREATE TABLE crm.contract_audit (contract_id int NOT NULL REFERENCES crm.contract (id));
CREATE TABLE crm.ticket (             -- legal hold, archived before the forget
    id          int PRIMARY KEY,
    customer_id int REFERENCES crm.customer (id) ON DELETE SET NULL,
    body        text,
    opened_on   date NOT NULL
);
CREATE INDEX ON crm.invoice (customer_id);
CREATE INDEX ON crm.survey (customer_id);
CREATE INDEX ON crm.contract (customer_id);
CREATE INDEX ON crm.ticket (customer_id);
SECURITY LABEL FOR retention ON TABLE crm.customer IS
  'subject customer(id); age from seen_at; archive after 2 years; purge after 10 years';
SECURITY LABEL FOR retention ON COLUMN crm.customer.name IS 'personal';
SECURITY LABEL FOR retention ON COLUMN crm.customer.email IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON TABLE crm.invoice IS
  'subject customer; age from issued_on; purge after 2 years; on forget keep; basis legal_obligation';
SECURITY LABEL FOR retention ON COLUMN crm.invoice.billed_to IS 'personal';
SECURITY LABEL FOR retention ON TABLE crm.survey IS
  'subject customer; age from answered_on; archive after 1 year; purge after 5 years; on forget anonymize';
SECURITY LABEL FOR retention ON COLUMN crm.survey.comment IS 'personal';
SECURITY LABEL FOR retention ON TABLE crm.contract IS
  'subject customer; age from signed_on; purge after 10 years';
SECURITY LABEL FOR retention ON TABLE crm.ticket IS
  'subject customer; age from opened_on; archive after 1 year; purge after 10 years; on forget keep';
SECURITY LABEL FOR retention ON COLUMN crm.ticket.body IS 'personal';

INSERT INTO crm.customer VALUES (1, 'Ann', 'ann@example.com', '2030-05-01'),
                                (2, 'Bob', 'bob@example.com', '2030-05-01'),
                                (3, 'Cid', 'cid@example.com', '2030-05-01');
INSERT INTO crm.invoice VALUES (100, 1, 'Ann, 1 Main St', '2030-05-01');
INSERT INTO crm.survey VALUES (200, 1, 'Ann says hi', '2030-05-01'), (201, 2, 'Bob says hi', '2030-05-01');
INSERT INTO crm.contract VALUES (300, 1, '2030-05-01');
INSERT INTO crm.contract_audit VALUES (300);
INSERT INTO crm.ticket VALUES (400, 3, 'Cid complains', '2029-01-01');

-- the lifecycle at 2030-07-01: Cid's ticket is archived
SET retention.test_clock = '2030-07-01 03:00:00+00';
SET client_min_messages = warning;
CALL retention.run();
RESET client_min_messages;
SELECT table_name, count(*) FROM retention.archived_rows() GROUP BY 1 ORDER BY 1;

-- Ann is forgotten: her invoice holds her customer row, the audit her contract
SELECT jsonb_pretty(r->'tables') AS tables, r->'legal_hold' AS legal_hold
FROM retention.forget_subject('customer', '1', 'ticket 1') r;
SELECT retention.forget_subject('customer', '3', 'ticket 3')->'legal_hold' AS legal_hold;
CREATE TEMP TABLE after_forget AS SELECT id, name, email FROM crm.customer;
SELECT relation, row_key, held FROM retention.forgotten_row
WHERE relation::text LIKE 'crm.%' ORDER BY 1, 2;
SELECT * FROM retention.verify_forgotten('customer', '1') ORDER BY 1, 2;
-- a second forget changes nothing and says so
SELECT jsonb_pretty(r->'tables'->'crm.customer') AS customer, r->'rows_forgotten' AS forgotten
FROM retention.forget_subject('customer', '1', 'ticket 1 again') r;
SELECT c.email = a.email AS email_unchanged FROM crm.customer c JOIN after_forget a USING (id) WHERE id = 1;

-- a year later: e-mail addresses are anonymized (Ann's was, by the forget:
-- it is not hashed again) and surveys archived (Ann's anonymized survey is
-- not sealed again under a new key: it stays in place)
SET retention.test_clock = '2031-07-01 03:00:00+00';
SET client_min_messages = warning;
CALL retention.run();
RESET client_min_messages;
SELECT c.id, c.email = a.email AS email_unchanged FROM crm.customer c JOIN after_forget a USING (id)
ORDER BY 1;
SELECT id, customer_id, comment FROM crm.survey ORDER BY id;
SELECT table_name, count(*) FROM retention.archived_rows() GROUP BY 1 ORDER BY 1;
SELECT * FROM retention.verify_forgotten('customer', '1') ORDER BY 1, 2;

-- Eve arrives already due (her row is queued for the next run, behind its
-- watermark) and is forgotten at once; her contract's audit holds her row
INSERT INTO crm.customer VALUES (5, 'Eve', 'eve@example.com', '2020-01-01');
INSERT INTO crm.contract VALUES (500, 5, '2020-01-01');
INSERT INTO crm.contract_audit VALUES (500);
SELECT count(*) AS queued FROM retention.late_row WHERE relid = 'crm.customer'::regclass;
SELECT r->'tables'->'crm.customer'->'held_by' AS held_by
FROM retention.forget_subject('customer', '5', 'ticket 5') r;
SELECT count(*) AS queued FROM retention.late_row WHERE relid = 'crm.customer'::regclass;
INSERT INTO after_forget SELECT id, name, email FROM crm.customer WHERE id = 5;

-- the hold ends: the audit row goes, the invoice is purged by its own rule;
-- the run completes Ann's "on forget delete" and logs it
DELETE FROM crm.contract_audit WHERE contract_id = 300;
SET retention.test_clock = '2032-07-01 03:00:00+00';
SET client_min_messages = warning;
CALL retention.run();
RESET client_min_messages;
SELECT c.id, c.email = a.email AS email_unchanged FROM crm.customer c JOIN after_forget a USING (id)
ORDER BY 1;
SELECT id FROM crm.contract ORDER BY id;
SELECT reason = 'completes erasure ' || (SELECT erasure_id FROM retention.erasure_log
                                          WHERE reason = 'ticket 1') AS completes_ann,
       jsonb_pretty(receipt->'tables') AS tables, receipt ? 'subject_hash' AS hashed
FROM retention.erasure_log WHERE reason LIKE 'completes erasure%' ORDER BY erasure_id;
SELECT relation, row_key, held FROM retention.forgotten_row
WHERE relation::text LIKE 'crm.%' ORDER BY 1, 2;
SELECT * FROM retention.verify_forgotten('customer', '1') ORDER BY 1, 2;
SELECT table_name, count(*) FROM retention.archived_rows() GROUP BY 1 ORDER BY 1;

-- restore: Bob comes back; Cid's ticket, archived under legal hold, does not
SELECT retention.restore_archived('crm.customer');
SELECT retention.restore_archived('crm.ticket');
SELECT id FROM crm.customer ORDER BY id;
SELECT * FROM retention.verify_forgotten('customer', '3') ORDER BY 1, 2;
-- re-applying the erasures finds nothing left to do on Ann
SELECT subject, receipt->'rows_forgotten' AS forgotten FROM retention.reapply_erasures() ORDER BY 1;
RESET retention.test_clock;
DROP SCHEMA crm CASCADE;
