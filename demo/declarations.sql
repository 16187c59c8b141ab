-- The demo's data-protection policy, declared next to the schema.
SECURITY LABEL FOR retention ON TABLE crm.contact IS
  'subject customer(id); age from last_seen_at; archive after 3 years; purge after 6 years;
   purpose ''customer relationship''; basis contract';
SECURITY LABEL FOR retention ON COLUMN crm.contact.email IS 'anonymize after 2 years using hash';
SECURITY LABEL FOR retention ON COLUMN crm.contact.phone IS
  'anonymize after 1 year using partial(6, ''*'', 2); purge after 2 years';
SECURITY LABEL FOR retention ON COLUMN crm.contact.first_name IS 'anonymize after 2 years using fake_first_name(fr)';
SECURITY LABEL FOR retention ON COLUMN crm.contact.birthday IS 'minimize to month_day';
SECURITY LABEL FOR retention ON COLUMN crm.contact.last_ip IS 'minimize to ip_prefix(24)';
SECURITY LABEL FOR retention ON COLUMN crm.contact.last_name IS 'anonymize after 2 years using fake_last_name(fr)';
SECURITY LABEL FOR retention ON COLUMN crm.contact.city IS 'personal';

SECURITY LABEL FOR retention ON TABLE crm.orders IS
  'subject customer via contact_id; age from ordered_at; purge after 10 years; on forget anonymize;
   purpose ''order fulfilment and accounting''; basis legal_obligation';
SECURITY LABEL FOR retention ON COLUMN crm.orders.shipping_city IS 'anonymize after 2 years using fake_city(fr)';

SECURITY LABEL FOR retention ON TABLE crm.ticket IS
  'subject customer; age from closed_at; purge after 3 years; purpose ''support''; basis legitimate_interests';
SECURITY LABEL FOR retention ON COLUMN crm.ticket.body IS 'anonymize after 1 year using redact';

SECURITY LABEL FOR retention ON TABLE crm.web_log IS
  'subject customer via contact_id; age from logged_on; purge after 6 months; purpose ''security''; basis legitimate_interests';
SECURITY LABEL FOR retention ON COLUMN crm.web_log.client_ip IS 'anonymize after 1 month using ip_prefix(24)';
