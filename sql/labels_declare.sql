-- Declaring retention rules with SECURITY LABEL: every clause, as a user writes it.
CREATE SCHEMA crm;
CREATE TABLE crm.customer (
    id bigint PRIMARY KEY,
    email text,
    phone text,
    first_name text,
    birthday date,
    last_ip inet,
    income numeric,
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON crm.customer (last_seen_at);
CREATE TABLE crm.orders (
    id bigint PRIMARY KEY,
    customer_id bigint REFERENCES crm.customer(id),
    amount numeric,
    shipping_city text,
    ordered_at date
);

-- the subject table: customer rows are identified by id
SECURITY LABEL FOR retention ON TABLE crm.customer IS
  'subject customer(id); age from last_seen_at; archive after 2 years; purge after 6 years;
   purpose ''customer relationship''; basis contract';
-- a child table: the path to the subject is inferred from the foreign key
SECURITY LABEL FOR retention ON TABLE crm.orders IS
  'subject customer; age from ordered_at; purge after 10 years; on forget anonymize; basis legal_obligation';

-- column rules: each method family and each stage
SECURITY LABEL FOR retention ON COLUMN crm.customer.email IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON COLUMN crm.customer.phone IS
  'anonymize after 6 months using partial(2, ''*'', 2); purge after 18 months';
SECURITY LABEL FOR retention ON COLUMN crm.customer.first_name IS
  'anonymize after 1 year using fake_first_name(fr); purpose ''personalised greetings''; basis consent';
SECURITY LABEL FOR retention ON COLUMN crm.customer.birthday IS 'minimize to month_day';
SECURITY LABEL FOR retention ON COLUMN crm.customer.last_ip IS 'minimize to ip_prefix(24)';
SECURITY LABEL FOR retention ON COLUMN crm.customer.income IS 'anonymize after 2 weeks using noise(0.1)';
SECURITY LABEL FOR retention ON COLUMN crm.orders.shipping_city IS 'personal';
SECURITY LABEL FOR retention ON COLUMN crm.orders.amount IS 'anonymize after 5 years using generalize(100)';

-- keywords are case-insensitive, white space is free, a trailing ; is fine
SECURITY LABEL FOR retention ON COLUMN crm.orders.ordered_at IS 'MINIMIZE TO   Month ;';

SELECT table_name, column_name, stage, after, method, subject, age_column, purpose, basis
FROM retention.policies WHERE table_name::text LIKE 'crm.%'
ORDER BY table_name::text, column_name NULLS FIRST, stage;

-- the label as stored is the text as written; the view shows the canonical form
SELECT label FROM retention.policies
WHERE table_name = 'crm.customer'::regclass AND column_name IS NULL AND stage = 'archive';

-- SECURITY LABEL ... IS NULL removes a rule
SECURITY LABEL FOR retention ON COLUMN crm.orders.ordered_at IS NULL;
SELECT count(*) FROM retention.policies WHERE column_name = 'ordered_at';

-- a label can be replaced
SECURITY LABEL FOR retention ON COLUMN crm.customer.income IS 'anonymize after 1 month using generalize(1000)';
SELECT stage, after, method FROM retention.policies WHERE column_name = 'income';

-- explicit path: via a foreign-key column
CREATE TABLE crm.ticket (
    id bigint PRIMARY KEY,
    opened_by bigint REFERENCES crm.customer(id),
    closed_at timestamp,
    body text
);
SECURITY LABEL FOR retention ON TABLE crm.ticket IS
  'subject customer via opened_by; age from closed_at; purge after 3 years; on forget keep';
SECURITY LABEL FOR retention ON COLUMN crm.ticket.body IS 'anonymize after 1 year using redact; purge after 2 years';
SELECT table_name, column_name, stage, after, method FROM retention.policies
WHERE table_name = 'crm.ticket'::regclass ORDER BY column_name NULLS FIRST, stage;

DROP SCHEMA crm CASCADE;
