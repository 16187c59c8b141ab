-- Access and portability (GDPR Art. 15 and 20): retention.export_subject(subject, id)
-- returns one JSON document with every row held on the subject, archived
-- rows decrypted, and what is declared for each table and column (purpose,
-- basis, retention), as in retention.processing_register().
CREATE SCHEMA library;
CREATE TABLE library.reader (
    id        int PRIMARY KEY,
    name      text,
    email     text,
    joined_on date NOT NULL
);
CREATE TABLE library.loan (
    id        int PRIMARY KEY,
    reader_id int NOT NULL REFERENCES library.reader (id),
    title     text,
    lent_on   date NOT NULL,
    returned_on date
);
CREATE TABLE library.loan_review (
    loan_id   int PRIMARY KEY REFERENCES library.loan (id),
    stars     int,
    review    text
);
SECURITY LABEL FOR retention ON TABLE library.reader IS
  'subject reader(id); purpose ''lending''; basis contract';
SECURITY LABEL FOR retention ON COLUMN library.reader.name IS 'personal';
SECURITY LABEL FOR retention ON COLUMN library.reader.email IS 'personal; purpose ''reminders''; basis consent';
SECURITY LABEL FOR retention ON TABLE library.loan IS
  'subject reader; age from returned_on; archive after 1 year; purge after 30 years; purpose ''lending''';
SECURITY LABEL FOR retention ON COLUMN library.loan.title IS 'personal';
SECURITY LABEL FOR retention ON TABLE library.loan_review IS 'subject reader; purpose ''recommendations''; basis consent';
SECURITY LABEL FOR retention ON COLUMN library.loan_review.review IS 'personal';

INSERT INTO library.reader VALUES (1, 'Eva Roux', 'eva@example.org', '2019-05-01'),
                                  (2, 'Farid Amar', 'farid@example.org', '2020-02-01');
-- loans count their age from their return: loans not returned yet stay
INSERT INTO library.loan VALUES (10, 1, 'Dune', '2021-03-01', '2021-03-20'),
                                (11, 1, 'Emma', '2024-06-01', NULL),
                                (12, 2, 'Ulysses', '2024-06-02', NULL);
INSERT INTO library.loan_review VALUES (11, 5, 'loved it');

-- the loan returned in 2021 goes to the archive
SET client_min_messages = warning;
CALL retention.run();
RESET client_min_messages;

-- the whole document: tables by name, rows in primary key order, archived
-- rows decrypted; only the export time and the archiving time vary
SELECT jsonb_pretty(
         jsonb_set(doc - 'exported_at', '{tables,library.loan,archived_rows,0}',
                   (doc #> '{tables,library.loan,archived_rows,0}') - 'archived_at'))
FROM retention.export_subject('reader', '1') doc;

-- the same data exports the same document
SELECT retention.export_subject('reader', '1') - 'exported_at'
     = retention.export_subject('reader', '01') - 'exported_at' AS deterministic;

-- nothing of another reader
SELECT jsonb_path_query_array(doc, '$.tables.*.rows[*].id') AS ids
FROM retention.export_subject('reader', '2') doc;

-- a reader with nothing held: every table, no rows
SELECT key AS table_name, jsonb_array_length(value->'rows') AS rows
FROM jsonb_each((retention.export_subject('reader', '3'))->'tables') ORDER BY 1;

-- after forget, an export holds nothing of the subject
SELECT r->'rows_forgotten' AS forgotten, r->'archive'->'rows_deleted' AS archived
FROM retention.forget_subject('reader', '1', 'export test') r;
SELECT key AS table_name, jsonb_array_length(value->'rows') AS rows,
       jsonb_array_length(value->'archived_rows') AS archived
FROM jsonb_each((retention.export_subject('reader', '1'))->'tables') ORDER BY 1;

-- bad input
SELECT retention.export_subject('reader', NULL);
SELECT retention.export_subject('readers', '1');
SELECT retention.export_subject('reader', 'one');

DROP SCHEMA library CASCADE;
