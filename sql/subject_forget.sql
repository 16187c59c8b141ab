-- Forgetting a subject (GDPR Art. 17): retention.forget_subject(subject, id, reason)
-- handles every row of the subject in every declared table as its "on forget"
-- says, children before parents, deletes its archived rows and destroys its
-- archive key, and returns a receipt recorded in retention.erasure_log.
CREATE SCHEMA clinic;
CREATE TABLE clinic.patient (
    id          int PRIMARY KEY,
    name        text,
    email       text,
    birthday    date,
    seen_at     timestamptz NOT NULL,
    referred_by int REFERENCES clinic.patient (id)        -- a self-reference
);
CREATE TABLE clinic.visit (                                -- child
    id          int PRIMARY KEY,
    patient_id  int NOT NULL REFERENCES clinic.patient (id),
    visited_on  date NOT NULL,
    notes       text
);
CREATE TABLE clinic.prescription (                         -- grandchild
    id          int PRIMARY KEY,
    visit_id    int NOT NULL REFERENCES clinic.visit (id),
    drug        text,
    written_on  date NOT NULL
);
CREATE TABLE clinic.measurement (                          -- partitioned child
    patient_id  int NOT NULL REFERENCES clinic.patient (id),
    taken_on    date NOT NULL,
    weight_kg   numeric,
    PRIMARY KEY (patient_id, taken_on)
) PARTITION BY RANGE (taken_on);
CREATE TABLE clinic.measurement_old PARTITION OF clinic.measurement
    FOR VALUES FROM ('2000-01-01') TO ('2024-01-01');
CREATE TABLE clinic.measurement_new PARTITION OF clinic.measurement
    FOR VALUES FROM ('2024-01-01') TO ('2100-01-01');
CREATE TABLE clinic.invoice (                              -- legal hold
    id          int PRIMARY KEY,
    patient_id  int REFERENCES clinic.patient (id),
    billed_to   text,
    amount      numeric,
    issued_on   date NOT NULL
);
CREATE TABLE clinic.survey (                               -- kept, anonymized
    id          int PRIMARY KEY,
    patient_id  int REFERENCES clinic.patient (id),
    score       int,
    comment     text,
    answered_on date NOT NULL
);
CREATE INDEX ON clinic.visit (patient_id);
CREATE INDEX ON clinic.prescription (visit_id);
CREATE INDEX ON clinic.invoice (patient_id);
CREATE INDEX ON clinic.survey (patient_id);
SECURITY LABEL FOR retention ON TABLE clinic.patient IS
  'subject patient(id); age from seen_at; archive after 2 years; purge after 10 years;
   purpose ''care''; basis vital_interests';
SECURITY LABEL FOR retention ON COLUMN clinic.patient.name IS 'personal';
SECURITY LABEL FOR retention ON COLUMN clinic.patient.email IS 'anonymize after 1 year using hash';
SECURITY LABEL FOR retention ON COLUMN clinic.patient.birthday IS 'minimize to year';
SECURITY LABEL FOR retention ON TABLE clinic.visit IS
  'subject patient; age from visited_on; archive after 1 year; purge after 10 years';
SECURITY LABEL FOR retention ON COLUMN clinic.visit.notes IS 'personal';
SECURITY LABEL FOR retention ON TABLE clinic.prescription IS
  'subject patient; age from written_on; purge after 10 years';
SECURITY LABEL FOR retention ON COLUMN clinic.prescription.drug IS 'personal';
SECURITY LABEL FOR retention ON TABLE clinic.measurement IS
  'subject patient; age from taken_on; purge after 5 years';
SECURITY LABEL FOR retention ON COLUMN clinic.measurement.weight_kg IS 'personal';
SECURITY LABEL FOR retention ON TABLE clinic.invoice IS
  'subject patient; age from issued_on; purge after 10 years; on forget keep; basis legal_obligation';
SECURITY LABEL FOR retention ON COLUMN clinic.invoice.billed_to IS 'personal';
SECURITY LABEL FOR retention ON TABLE clinic.survey IS
  'subject patient; age from answered_on; on forget anonymize; purpose ''quality of care''';
SECURITY LABEL FOR retention ON COLUMN clinic.survey.comment IS 'anonymize after 1 year using redact';

INSERT INTO clinic.patient VALUES
  (1, 'Alice Martin', 'alice@example.org', '1980-01-01', now() - interval '1 month', NULL),
  (2, 'Bruno Petit', 'bruno@example.org', '1975-01-01', now() - interval '1 month', 1),
  (3, 'Chloe Durand', 'chloe@example.org', '1990-01-01', now() - interval '1 month', NULL),
  (4, 'Dora Lefevre', 'dora@example.org', '1960-01-01', now() - interval '3 years', NULL);
INSERT INTO clinic.visit VALUES
  (10, 1, current_date - 10, 'asthma'), (11, 1, current_date - 5, 'follow-up'),
  (12, 2, current_date - 3, 'flu'), (13, 3, current_date - 2, 'check-up'),
  (14, 4, current_date - 800, 'old fracture');
INSERT INTO clinic.prescription VALUES
  (100, 10, 'salbutamol', current_date - 10), (101, 11, 'budesonide', current_date - 5),
  (102, 12, 'paracetamol', current_date - 3);
INSERT INTO clinic.measurement VALUES
  (1, '2023-06-01', 61.5), (1, current_date - 10, 60.9), (2, current_date - 3, 82.0);
INSERT INTO clinic.invoice VALUES
  (1000, 3, 'Chloe Durand', 50, current_date - 2), (1001, 2, 'Bruno Petit', 40, current_date - 3);
INSERT INTO clinic.survey VALUES
  (500, 1, 9, 'Very kind staff', current_date - 4), (501, 2, 7, 'ok', current_date - 2);

-- where the subject's data lives, and what forget does in each table
SELECT table_name, depth, path, on_forget, personal_columns, problem
FROM retention.subject_map('patient');

-- Alice (patient 1): every row goes, children first; the survey is kept but
-- anonymized and detached; Bruno's "referred by" no longer points at her.
-- The receipt holds counts and a keyed hash of the id, no personal data.
-- Ids are canonicalized through the key's type: '001' is patient 1.
SELECT jsonb_pretty(r - 'erased_at' - 'erasure_id')
FROM retention.forget_subject('patient', '001', 'request ticket 4711') r;
SELECT id, name, referred_by FROM clinic.patient ORDER BY id;
SELECT id, patient_id, score, comment FROM clinic.survey ORDER BY id;
SELECT count(*) AS alice_rows FROM clinic.visit WHERE patient_id = 1;
SELECT count(*) AS alice_prescriptions FROM clinic.prescription WHERE visit_id IN (10, 11);
SELECT count(*) AS alice_measurements FROM clinic.measurement WHERE patient_id = 1;

-- nothing is left
SELECT * FROM retention.verify_forgotten('patient', '1');

-- a second call is harmless: zero rows, still a receipt
SELECT r->'rows_forgotten' AS rows, r->'tables'->'clinic.patient' AS patient
FROM retention.forget_subject('patient', '1', 'request ticket 4711') r;

-- the log keeps receipts and the hash, never the id
SELECT subject, reason, request_id, receipt->'rows_forgotten' AS rows,
       encode(subject_hash, 'hex') = receipt->>'subject_hash' AS same_hash
FROM retention.erasure_log WHERE subject = 'patient' ORDER BY erasure_id;

-- Chloe (patient 3) has an invoice: invoices are a legal hold, kept and
-- reported; her patient row, which the invoice references, cannot be
-- deleted: it is anonymized in place instead.
SELECT jsonb_pretty(r->'tables'->'clinic.patient') AS patient, r->'legal_hold' AS legal_hold
FROM retention.forget_subject('patient', '3', 'request ticket 4712') r;
SELECT id, name, email IS NOT NULL AS email_hashed, birthday FROM clinic.patient WHERE id = 3;
SELECT id, billed_to FROM clinic.invoice WHERE patient_id = 3;
SELECT * FROM retention.verify_forgotten('patient', '3') ORDER BY 1, 2;

-- Dora (patient 4) was archived by the lifecycle: forget deletes the
-- archived rows and destroys her data key, so copies of the archive in
-- older backups cannot be opened either.
SET client_min_messages = warning;
CALL retention.run();
RESET client_min_messages;
SELECT table_name, count(*) FROM retention_archive.archived_row a
WHERE a.subject = 'patient' AND a.subject_hash = retention._subject_hash('patient', '4')
GROUP BY 1 ORDER BY 1;
SELECT count(*) AS dora_keys FROM retention_archive.data_key
WHERE subject = 'patient' AND subject_hash = retention._subject_hash('patient', '4');
SELECT r->'archive' AS archive, r->'rows_forgotten' AS live_rows
FROM retention.forget_subject('patient', '4', 'request ticket 4713') r;
SELECT count(*) AS dora_archived FROM retention_archive.archived_row
WHERE subject = 'patient' AND subject_hash = retention._subject_hash('patient', '4');
SELECT * FROM retention.verify_forgotten('patient', '4');

-- forget is one transaction: rolled back, nothing happened
BEGIN;
SELECT r->'rows_forgotten' AS rows FROM retention.forget_subject('patient', '2', 'mistake') r;
ROLLBACK;
SELECT id, name FROM clinic.patient WHERE id = 2;

-- a composite subject key and awkward identifiers
CREATE SCHEMA "Clinic ""B""";
CREATE TABLE "Clinic ""B"""."Patient; DROP" (
    site     text,
    num      int,
    "e-mail" text,
    PRIMARY KEY (site, num)
);
CREATE TABLE "Clinic ""B""".note (
    id       int PRIMARY KEY,
    site     text,
    num      int,
    "body)"  text,
    FOREIGN KEY (site, num) REFERENCES "Clinic ""B"""."Patient; DROP"
);
SECURITY LABEL FOR retention ON TABLE "Clinic ""B"""."Patient; DROP" IS 'subject "Odd ""one"""(site, num)';
SECURITY LABEL FOR retention ON COLUMN "Clinic ""B"""."Patient; DROP"."e-mail" IS 'personal';
SECURITY LABEL FOR retention ON TABLE "Clinic ""B""".note IS 'subject "Odd ""one"""';
SECURITY LABEL FOR retention ON COLUMN "Clinic ""B""".note."body)" IS 'personal';
INSERT INTO "Clinic ""B"""."Patient; DROP" VALUES ('north, "A"', 1, 'x@example.org'), ('north', 1, 'y@example.org');
INSERT INTO "Clinic ""B""".note VALUES (1, 'north, "A"', 1, 'note x'), (2, 'north', 1, 'note y');
SELECT table_name, path FROM retention.subject_map('Odd "one"');
SELECT r->'tables' AS tables
FROM retention.forget_subject('Odd "one"', '("north, \"A\"",1)', 'request ticket 4714') r;
SELECT * FROM "Clinic ""B"""."Patient; DROP";
SELECT * FROM "Clinic ""B""".note;

-- bad input: clear errors, with a hint
SELECT retention.forget_subject(NULL, '1', 'x');
SELECT retention.forget_subject('patient', NULL, 'x');
SELECT retention.forget_subject('patiant', '1', 'x');
SELECT retention.forget_subject('patient', 'abc', 'x');
SELECT retention.forget_subject('patient', '99999999999', 'x');
SELECT retention.forget_subject('Odd "one"', '(north)', 'x');
SELECT retention.forget_subject('Odd "one"', 'north,1', 'x');
SELECT retention.forget_subject('patient', '1; DROP TABLE clinic.visit', 'x');
-- a subject with no subject table
CREATE TABLE clinic.stray_note (id int PRIMARY KEY, body text);
SECURITY LABEL FOR retention ON TABLE clinic.stray_note IS 'subject stray';
SELECT retention.forget_subject('stray', '1', 'x');
-- a path that no longer resolves: forget refuses rather than forget partly
ALTER TABLE clinic.survey DROP CONSTRAINT survey_patient_id_fkey;
SELECT table_name, problem FROM retention.subject_map('patient') WHERE problem IS NOT NULL;
SELECT retention.forget_subject('patient', '2', 'x');
ALTER TABLE clinic.survey ADD FOREIGN KEY (patient_id) REFERENCES clinic.patient (id);
-- a NOT NULL personal column without an anonymize method cannot be anonymized
ALTER TABLE clinic.survey ALTER COLUMN comment SET NOT NULL;
SECURITY LABEL FOR retention ON COLUMN clinic.survey.comment IS 'personal';
SELECT retention.forget_subject('patient', '2', 'x');
-- each with a SQLSTATE applications can catch
\set VERBOSITY sqlstate
SELECT retention.forget_subject(NULL, '1', 'x');
SELECT retention.forget_subject('patiant', '1', 'x');
SELECT retention.forget_subject('patient', 'abc', 'x');
SELECT retention.forget_subject('patient', '99999999999', 'x');
SELECT retention.forget_subject('stray', '1', 'x');
SELECT retention.forget_subject('patient', '2', 'x');
\set VERBOSITY default

DROP SCHEMA clinic CASCADE;
DROP SCHEMA "Clinic ""B""" CASCADE;
