-- A data subject's rights: where their data lives, an export, an erasure request carried out, a receipt
SELECT table_name, depth, path, on_forget, personal_columns FROM retention.subject_map('customer');
SELECT min(contact_id) AS id FROM crm.orders \gset
SELECT key AS table_name, jsonb_array_length(value -> 'rows') AS rows,
       jsonb_array_length(value -> 'archived_rows') AS archived
FROM jsonb_each(retention.export_subject('customer', :'id') -> 'tables') ORDER BY 1;
SELECT retention.request_erasure('customer', :'id', 'demo request 1') AS request \gset
SELECT retention.approve_erasure(:request);
SELECT retention.process_erasure_requests();
SELECT status, jsonb_pretty(receipt) AS receipt FROM retention.erasure_request WHERE id = :request;
SELECT * FROM retention.verify_forgotten('customer', :'id');
