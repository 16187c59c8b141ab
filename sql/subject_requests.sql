-- Erasure requests: received with a due date (30 days by default), approved
-- or rejected with a reason, carried out by retention.process_erasure_requests()
-- (which the background worker calls), and watched through
-- retention.erasure_requests_at_risk.  Once decided, a request keeps only the
-- keyed hash of the subject id.
CREATE SCHEMA gym;
CREATE TABLE gym.member (id int PRIMARY KEY, name text, email text);
CREATE TABLE gym.visit (
    id        int PRIMARY KEY,
    member_id int NOT NULL REFERENCES gym.member (id),
    at        date NOT NULL
);
SECURITY LABEL FOR retention ON TABLE gym.member IS 'subject member(id)';
SECURITY LABEL FOR retention ON COLUMN gym.member.name IS 'personal';
SECURITY LABEL FOR retention ON COLUMN gym.member.email IS 'personal';
SECURITY LABEL FOR retention ON TABLE gym.visit IS 'subject member';
INSERT INTO gym.member VALUES (1, 'Gaspard', 'g@example.org'), (2, 'Hana', 'h@example.org'),
                              (3, 'Ines', 'i@example.org'), (4, 'Jules', 'j@example.org');
INSERT INTO gym.visit VALUES (10, 1, '2024-01-02'), (11, 2, '2024-01-03'), (12, 3, '2024-01-04');

-- the data-protection officer records requests as they arrive
CREATE ROLE regress_rights_dpo IN ROLE retention_dpo;
SET ROLE regress_rights_dpo;
SELECT retention.request_erasure('member', '1', 'web form 2024-118') AS gaspard \gset
SELECT retention.request_erasure('member', '2', 'letter 2024-119', '10 days') IS NOT NULL AS hana;
SELECT retention.request_erasure('member', '3', 'call 2024-120', '3 days') IS NOT NULL AS ines;
-- a second request for a pending subject returns the pending one
SET client_min_messages = warning;
SELECT retention.request_erasure('member', '01', 'duplicate form') = :gaspard AS same_request;
RESET client_min_messages;
SELECT subject, subject_id, reason, status, due_at - received_at AS due_in, decided_by
FROM retention.erasure_request WHERE subject = 'member' ORDER BY id;

-- due within 7 days: at risk
SELECT subject, status, time_left < interval '7 days' AS within_7_days
FROM retention.erasure_requests_at_risk WHERE subject = 'member';

-- approve one, reject one with a reason
SELECT retention.approve_erasure(id) FROM retention.erasure_request
WHERE subject = 'member' AND subject_id = '1';
SELECT retention.reject_erasure(id, 'legal claim pending (case 17)') FROM retention.erasure_request
WHERE subject = 'member' AND subject_id = '2';
SELECT subject_id, status, decided_by, decision_reason, subject_id IS NULL AS id_dropped
FROM retention.erasure_request WHERE subject = 'member' ORDER BY id;

-- approved requests are carried out; the receipt names the request
SELECT retention.process_erasure_requests() AS done;
SELECT status, subject_id, done_at IS NOT NULL AS done, receipt->'rows_forgotten' AS rows,
       (receipt->>'request_id')::bigint = id AS receipt_names_request,
       encode(subject_hash, 'hex') = receipt->>'subject_hash' AS same_hash
FROM retention.erasure_request WHERE subject = 'member' AND status = 'done';
SELECT l.reason, l.request_id = r.id AS linked
FROM retention.erasure_log l JOIN retention.erasure_request r ON r.id = l.request_id
WHERE l.subject = 'member';
RESET ROLE;
SELECT id, name FROM gym.member ORDER BY id;

-- a month passes: the unanswered request is overdue
UPDATE retention.erasure_request SET received_at = received_at - interval '31 days',
                                     due_at = due_at - interval '31 days'
WHERE subject = 'member' AND status = 'received';
SET ROLE regress_rights_dpo;
SELECT subject, status, time_left < interval '0' AS late
FROM retention.erasure_requests_at_risk WHERE subject = 'member';
SELECT retention.process_erasure_requests() AS done;
SELECT status FROM retention.erasure_request WHERE subject = 'member' AND subject_id = '3';
-- an overdue request can still be approved, and is then carried out
SELECT retention.approve_erasure(id, 'late, sorry') FROM retention.erasure_request
WHERE subject = 'member' AND subject_id = '3';
SELECT retention.process_erasure_requests() AS done;
SELECT count(*) AS pending FROM retention.erasure_requests_at_risk WHERE subject = 'member';
RESET ROLE;

-- with retention.auto_approve_erasure, requests are approved as received
SET retention.auto_approve_erasure = on;
SET ROLE regress_rights_dpo;
SELECT retention.request_erasure('member', '4', 'web form 2024-121') IS NOT NULL AS requested;
SELECT status, decided_by FROM retention.erasure_request WHERE subject = 'member' AND subject_id = '4';
SELECT retention.process_erasure_requests() AS done;
RESET ROLE;
RESET retention.auto_approve_erasure;
SELECT id, name FROM gym.member ORDER BY id;

-- a request that cannot be carried out keeps its error and stays approved
INSERT INTO gym.member VALUES (5, 'Karim', 'k@example.org');
SET ROLE regress_rights_dpo;
SELECT retention.request_erasure('member', '5', 'form 2024-122') IS NOT NULL AS requested;
SELECT retention.approve_erasure(id) FROM retention.erasure_request WHERE subject = 'member' AND subject_id = '5';
RESET ROLE;
ALTER TABLE gym.visit DROP CONSTRAINT visit_member_id_fkey;
SELECT retention.process_erasure_requests() AS done;
SELECT status, last_error FROM retention.erasure_request WHERE subject = 'member' AND subject_id = '5';
ALTER TABLE gym.visit ADD FOREIGN KEY (member_id) REFERENCES gym.member (id);
SELECT retention.process_erasure_requests() AS done;
SELECT status, last_error, subject_id FROM retention.erasure_request
WHERE subject = 'member' AND receipt->>'request_id' = id::text ORDER BY id;

-- bad input
SET ROLE regress_rights_dpo;
SELECT retention.request_erasure('member', 'x', 'form');
SELECT retention.request_erasure('members', '1', 'form');
SELECT retention.request_erasure('member', '1', 'form', '-1 day');
SELECT retention.approve_erasure(999999);
SELECT retention.approve_erasure(NULL);
SELECT retention.reject_erasure(id, NULL) FROM retention.erasure_request
WHERE subject = 'member' AND status = 'done' LIMIT 1;
\set VERBOSITY sqlstate
SELECT retention.reject_erasure(:gaspard, 'too late');
SELECT retention.approve_erasure(:gaspard);
\set VERBOSITY default
RESET ROLE;

DROP SCHEMA gym CASCADE;
DROP ROLE regress_rights_dpo;
