-- Partitioned tables as PostgreSQL sees them: a subject path resolves through a
-- foreign key declared on the partitioned table or on every one of its
-- partitions; check() counts an index as present when every partition has one.
CREATE SCHEMA shop;
CREATE TABLE shop.customer (
    id      int PRIMARY KEY,
    email   text,
    seen_at timestamptz NOT NULL
);
-- payments partitioned by month, the foreign key declared on each partition
CREATE TABLE shop.payment (
    id          int NOT NULL,
    customer_id int NOT NULL,
    paid_on     date NOT NULL,
    card        text,
    PRIMARY KEY (id, paid_on)
) PARTITION BY RANGE (paid_on);
CREATE TABLE shop.payment_2024_01 PARTITION OF shop.payment
    FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE TABLE shop.payment_2024_02 PARTITION OF shop.payment
    FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
ALTER TABLE shop.payment_2024_01 ADD FOREIGN KEY (customer_id) REFERENCES shop.customer (id);
CREATE INDEX ON shop.payment_2024_01 (customer_id);
CREATE INDEX ON shop.payment_2024_01 (paid_on);
SECURITY LABEL FOR retention ON TABLE shop.customer IS
  'subject customer(id); age from seen_at; purge after 5 years';
SECURITY LABEL FOR retention ON COLUMN shop.customer.email IS 'personal';

-- one partition lacks the key: the warning and check() name it
SECURITY LABEL FOR retention ON TABLE shop.payment IS
  'subject customer; age from paid_on; purge after 10 years';
SELECT severity, table_name, column_name, problem FROM retention.check()
WHERE table_name = 'shop.payment'::regclass ORDER BY problem;
SELECT retention.forget_subject('customer', '1');

-- every partition has it: the path resolves, the indexes count
ALTER TABLE shop.payment_2024_02 ADD FOREIGN KEY (customer_id) REFERENCES shop.customer (id);
CREATE INDEX ON shop.payment_2024_02 (customer_id);
CREATE INDEX ON shop.payment_2024_02 (paid_on);
SECURITY LABEL FOR retention ON TABLE shop.payment IS
  'subject customer; age from paid_on; purge after 10 years';
SECURITY LABEL FOR retention ON COLUMN shop.payment.card IS 'personal';
SELECT table_name, depth, path, on_forget, problem FROM retention.subject_map('customer');
SELECT severity, table_name, column_name, problem FROM retention.check()
WHERE table_name IN ('shop.payment'::regclass, 'shop.customer'::regclass) ORDER BY 1, 2, 3;

INSERT INTO shop.customer VALUES (1, 'ann@example.com', now()), (2, 'bob@example.com', now());
INSERT INTO shop.payment VALUES (10, 1, '2024-01-05', '4111'), (11, 1, '2024-02-07', '4222'),
                                (12, 2, '2024-02-09', '5333');
SELECT jsonb_pretty(retention.export_subject('customer', '1') #> '{tables,shop.payment,rows}') AS payments;
SELECT * FROM retention.verify_forgotten('customer', '1');
-- forget: the partitions' keys are the payment table's, so its rows go first
SELECT jsonb_pretty(retention.forget_subject('customer', '1', 'ticket 1')->'tables') AS tables;
SELECT * FROM retention.verify_forgotten('customer', '1');
SELECT id, customer_id FROM shop.payment ORDER BY id;
SELECT id FROM shop.customer ORDER BY id;

-- a partitioned table whose partitions were all dropped (expired) holds nothing:
-- rights functions leave it out, check() says why it has no path
DROP TABLE shop.payment_2024_01, shop.payment_2024_02;
SELECT table_name, problem FROM retention.subject_map('customer');
SELECT * FROM retention.verify_forgotten('customer', '2') WHERE table_name LIKE 'shop.%';
SELECT problem FROM retention.check() WHERE table_name = 'shop.payment'::regclass;

-- only a superuser or a member of retention_admin declares a subject table:
-- an ordinary table owner cannot take the subject name for everyone
CREATE ROLE regress_rights_squatter;
GRANT USAGE, CREATE ON SCHEMA shop TO regress_rights_squatter;
GRANT REFERENCES ON shop.customer TO regress_rights_squatter;
SET ROLE regress_rights_squatter;
CREATE TABLE shop.lead (id int PRIMARY KEY, seen_at timestamptz NOT NULL);
SECURITY LABEL FOR retention ON TABLE shop.lead IS 'subject prospect(id); age from seen_at; purge after 1 year';
-- attaching its own table to an existing subject stays possible
CREATE TABLE shop.note (id int PRIMARY KEY, customer_id int REFERENCES shop.customer (id),
                        written_at timestamptz NOT NULL);
SECURITY LABEL FOR retention ON TABLE shop.note IS 'subject customer; age from written_at; purge after 1 year';
RESET ROLE;
SECURITY LABEL FOR retention ON TABLE shop.note IS NULL;
-- declared by a superuser, the owner may then relabel it (change its delays)
SECURITY LABEL FOR retention ON TABLE shop.lead IS 'subject prospect(id); age from seen_at; purge after 1 year';
SET ROLE regress_rights_squatter;
SECURITY LABEL FOR retention ON TABLE shop.lead IS 'subject prospect(id); age from seen_at; purge after 2 years';
RESET ROLE;
DROP TABLE shop.note, shop.lead;
REVOKE ALL ON SCHEMA shop FROM regress_rights_squatter;
REVOKE ALL ON shop.customer FROM regress_rights_squatter;
DROP ROLE regress_rights_squatter;
DROP SCHEMA shop CASCADE;
