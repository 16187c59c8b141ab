-- Rules follow the schema: renames, dropped columns, partitions, quoted names.
CREATE SCHEMA ddl;
CREATE TABLE ddl.member (
    id int PRIMARY KEY,
    email text,
    joined_on date,
    seen_at timestamptz
);
SECURITY LABEL FOR retention ON TABLE ddl.member IS
  'subject member(id); age from seen_at; purge after 3 years';
SECURITY LABEL FOR retention ON COLUMN ddl.member.email IS 'anonymize after 1 year using mask_email';

-- renaming the table keeps every rule (labels follow the object, not its name)
ALTER TABLE ddl.member RENAME TO club_member;
SELECT table_name, column_name, stage FROM retention.policies
WHERE table_name = 'ddl.club_member'::regclass ORDER BY 2 NULLS FIRST, 3;

-- renaming a column keeps its own rules
ALTER TABLE ddl.club_member RENAME COLUMN email TO contact_email;
SELECT column_name, stage, method FROM retention.policies
WHERE table_name = 'ddl.club_member'::regclass AND column_name IS NOT NULL;

-- renaming a column the table label names rewrites the label in place
ALTER TABLE ddl.club_member RENAME COLUMN seen_at TO "Last Seen";
ALTER TABLE ddl.club_member RENAME COLUMN id TO member_id;
SELECT age_column, subject FROM retention.policies
WHERE table_name = 'ddl.club_member'::regclass AND stage = 'purge';
SELECT label FROM pg_seclabel
WHERE provider = 'retention' AND objoid = 'ddl.club_member'::regclass AND objsubid = 0;

-- DROP COLUMN removes the column's rules
ALTER TABLE ddl.club_member DROP COLUMN contact_email;
SELECT count(*) FROM retention.policies WHERE table_name = 'ddl.club_member'::regclass AND column_name IS NOT NULL;

-- DROP TABLE removes everything
DROP TABLE ddl.club_member;
SELECT count(*) FROM pg_seclabel WHERE provider = 'retention' AND objoid NOT IN (SELECT oid FROM pg_class);

-- partitioned tables: the rules of the parent apply to every partition, present and future
CREATE TABLE ddl.event (
    id bigint,
    member_email text,
    happened_at date NOT NULL
) PARTITION BY RANGE (happened_at);
CREATE TABLE ddl.event_2023 PARTITION OF ddl.event FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
SECURITY LABEL FOR retention ON TABLE ddl.event IS 'age from happened_at; purge after 2 years';
SECURITY LABEL FOR retention ON COLUMN ddl.event.member_email IS 'anonymize after 1 year using hash';
CREATE TABLE ddl.event_2024 PARTITION OF ddl.event FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
-- a partition attached later, with its columns in another order
CREATE TABLE ddl.event_2025 (happened_at date NOT NULL, member_email text, id bigint);
ALTER TABLE ddl.event ATTACH PARTITION ddl.event_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
SELECT p.relname, r.stage, r.column_name, r.after
FROM pg_class p
CROSS JOIN LATERAL retention.rules_for(p.oid) r
WHERE p.relname LIKE 'event_20%' ORDER BY 1, 2, 3;

-- identifiers that need quoting: spaces, capitals, quotes, non-ASCII
CREATE SCHEMA "Ventes Europe";
CREATE TABLE "Ventes Europe"."Client ""VIP""" (
    "Numéro" int PRIMARY KEY,
    "Adresse e-mail" text,
    "Dernière visite" timestamptz,
    "état" text,
    créé_le timestamptz
);
SECURITY LABEL FOR retention ON TABLE "Ventes Europe"."Client ""VIP""" IS
  'subject vip_client("Numéro"); age from "Dernière visite"; purge after 5 years; purpose ''fidélité''';
SECURITY LABEL FOR retention ON COLUMN "Ventes Europe"."Client ""VIP"""."Adresse e-mail" IS
  'anonymize after 2 years using fake_email(fr)';
SECURITY LABEL FOR retention ON COLUMN "Ventes Europe"."Client ""VIP"""."état" IS 'personal';
SELECT table_name, column_name, stage, age_column, purpose FROM retention.policies
WHERE table_name = '"Ventes Europe"."Client ""VIP"""'::regclass ORDER BY 2 NULLS FIRST, 3;
ALTER TABLE "Ventes Europe"."Client ""VIP""" RENAME COLUMN "Dernière visite" TO "vu le";
SELECT age_column FROM retention.policies
WHERE table_name = '"Ventes Europe"."Client ""VIP"""'::regclass AND stage = 'purge';
-- unquoted non-ASCII identifiers are taken as written, like SQL's (only ASCII letters fold)
SECURITY LABEL FOR retention ON TABLE "Ventes Europe"."Client ""VIP""" IS
  'subject vip_client("Numéro"); age from créé_le; purge after 5 years';
SELECT age_column FROM retention.policies
WHERE table_name = '"Ventes Europe"."Client ""VIP"""'::regclass AND stage = 'purge';
SECURITY LABEL FOR retention ON TABLE "Ventes Europe"."Client ""VIP""" IS
  'subject vip_client(NUMÉRO); age from créé_le; purge after 5 years';

DROP SCHEMA ddl CASCADE;
DROP SCHEMA "Ventes Europe" CASCADE;
