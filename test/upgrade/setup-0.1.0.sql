-- The application schema and declarations of test/t/060_upgrade.pl: run on a
-- database where pg_retention 0.1.0 is installed, before state-0.1.0.sql
-- loads what 0.1.0's lifecycle and forget wrote.  Dates are fixed: the
-- customers seen in 2010 were archived; those seen in 2100 are never due.
CREATE SCHEMA crm;
CREATE TABLE crm.customer (id int PRIMARY KEY, email text, phone text, city text,
                           seen_at timestamptz NOT NULL);
CREATE TABLE crm.orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES crm.customer,
                         amount numeric, city text, ordered_at date NOT NULL);
CREATE TABLE crm.visit (id int PRIMARY KEY, customer_id int, page text, at timestamptz NOT NULL);
SECURITY LABEL FOR retention ON TABLE crm.customer IS
  'subject customer(id); age from seen_at; archive after 10 years; purge after 30 years';
SECURITY LABEL FOR retention ON COLUMN crm.customer.email IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON COLUMN crm.customer.phone IS
  'anonymize after 6 months using partial(2, ''*'', 2)';
SECURITY LABEL FOR retention ON TABLE crm.orders IS
  'subject customer via customer_id; age from ordered_at; purge after 10 years; on forget anonymize';
SECURITY LABEL FOR retention ON COLUMN crm.orders.city IS 'anonymize after 5 years using redact';
SECURITY LABEL FOR retention ON TABLE crm.visit IS 'age from at; purge after 1 year';
-- paused since 0.1.0: runs skip the table, before the upgrade and after
SELECT retention.pause_table('crm.visit', 'upgrade test');
