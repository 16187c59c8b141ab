-- Demo data: :contacts contacts (default 30000), ~3 orders each over six
-- years, a ticket for one contact in five, and a year of monthly web log
-- partitions. Names and addresses come from small word lists; nothing real.
\if :{?contacts}
\else
\set contacts 30000
\endif
SELECT setseed(0.42);

INSERT INTO crm.contact
SELECT i,
       (ARRAY['Alice','Bruno','Chloé','David','Emma','Farid','Gabriel','Hélène','Ines','Jules','Karim','Léa','Marc','Nina','Oscar','Paula'])[1 + i % 16],
       (ARRAY['Martin','Bernard','Dubois','Smith','Jones','Garcia','Müller','Rossi','Nguyen','Kowalski','Silva','Petit'])[1 + (i / 16) % 12],
       'user' || i || '@mail.example',
       '+33 6 ' || lpad((i * 7919 % 100000000)::text, 8, '0'),
       date '1950-01-01' + (i * 37 % 20000),
       (ARRAY['Paris','Lyon','London','Berlin','Madrid','Lisbon','Rome','Brussels'])[1 + i % 8],
       ('10.' || (i % 250) || '.' || (i / 250 % 250) || '.' || (i % 200 + 1))::inet,
       now() - make_interval(days => 400 + (i * 13 % 2500)),
       now() - make_interval(days => (i * 11 % 2900))
FROM generate_series(1, :contacts) AS i;

INSERT INTO crm.orders
-- half of the contacts have ordered: the others can be archived once inactive
SELECT o, 1 + (o * 7 % (:contacts / 2)), round((5 + random() * 400)::numeric, 2),
       (ARRAY['Paris','Lyon','London','Berlin'])[1 + o % 4],
       current_date - (o * 17 % 2200)
FROM generate_series(1, :contacts * 3) AS o;

INSERT INTO crm.ticket
SELECT t, t * 2, 'Customer ' || t * 2 || ' called about order ' || t, now() - make_interval(days => t % 1500)
FROM generate_series(1, :contacts / 5) AS t;

DO $$
DECLARE m date;
BEGIN
    FOR m IN SELECT generate_series(date_trunc('month', current_date) - interval '12 months',
                                    date_trunc('month', current_date), interval '1 month')::date LOOP
        EXECUTE format('CREATE TABLE crm.%I PARTITION OF crm.web_log FOR VALUES FROM (%L) TO (%L)',
                       'web_log_' || to_char(m, 'YYYY_MM'), m, (m + interval '1 month')::date);
    END LOOP;
END $$;
INSERT INTO crm.web_log (contact_id, path, client_ip, logged_on)
SELECT 1 + i % (:contacts / 2), '/product/' || i % 500, ('192.0.2.' || i % 250)::inet,
       current_date - (i % 360)
FROM generate_series(1, :contacts * 2) AS i;
ANALYZE;
