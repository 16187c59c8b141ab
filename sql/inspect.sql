-- Inspecting declarations: check() lints and the register of processing.
CREATE SCHEMA shop;
CREATE TABLE shop.client (
    id int PRIMARY KEY,
    email text,
    created_at timestamptz
);
CREATE TABLE shop.invoice (
    id int PRIMARY KEY,
    client_id int REFERENCES shop.client(id),
    total numeric,
    issued_on date
);
CREATE TABLE shop.newsletter (email text, subscribed_on date);
SECURITY LABEL FOR retention ON TABLE shop.client IS
  'subject client(id); age from created_at; purge after 5 years; purpose ''sales''; basis contract';
SECURITY LABEL FOR retention ON COLUMN shop.client.email IS 'anonymize after 1 year using hash(base32, 20)';
SECURITY LABEL FOR retention ON TABLE shop.invoice IS
  'subject client via client_id; age from issued_on; purge after 10 years; on forget keep; basis legal_obligation; purpose ''accounting''';
SECURITY LABEL FOR retention ON COLUMN shop.invoice.total IS 'personal';
-- personal data on a table with no subject
SECURITY LABEL FOR retention ON COLUMN shop.newsletter.email IS 'minimize to mask_email';

-- missing indexes on the age columns and the subject column, and the table with no subject
SELECT severity, table_name, column_name, problem FROM retention.check()
WHERE table_name::text LIKE 'shop.%' ORDER BY 2, 3 NULLS FIRST, 4;

-- the hints say what to do
SELECT hint FROM retention.check() WHERE table_name = 'shop.invoice'::regclass ORDER BY 1;

-- adding the indexes clears the warnings
CREATE INDEX ON shop.client (created_at);
CREATE INDEX ON shop.invoice (issued_on);
CREATE INDEX ON shop.invoice (client_id);
SELECT severity, table_name, column_name, problem FROM retention.check()
WHERE table_name::text LIKE 'shop.%' ORDER BY 2, 3 NULLS FIRST, 4;

-- a rule whose method no longer fits after ALTER COLUMN TYPE is reported
ALTER TABLE shop.client ALTER COLUMN email TYPE bytea USING convert_to(email, 'UTF8');
SELECT severity, table_name, problem FROM retention.check() WHERE table_name = 'shop.client'::regclass;
ALTER TABLE shop.client ALTER COLUMN email TYPE text USING convert_from(email, 'UTF8');
SELECT count(*) AS problems FROM retention.check() WHERE table_name = 'shop.client'::regclass;

-- a subject path that no longer resolves is reported
ALTER TABLE shop.invoice DROP CONSTRAINT invoice_client_id_fkey;
SELECT severity, problem FROM retention.check() WHERE table_name = 'shop.invoice'::regclass;
ALTER TABLE shop.invoice ADD FOREIGN KEY (client_id) REFERENCES shop.client(id);

-- the register of processing (GDPR Art. 30), generated from the declarations
SELECT * FROM retention.processing_register()
WHERE table_name::text LIKE 'shop.%' ORDER BY table_name::text, column_name NULLS FIRST;

DROP SCHEMA shop CASCADE;
