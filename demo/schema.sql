-- The demo's shop: contacts, their orders over several years, support tickets,
-- and a partitioned web log. Realistic enough to exercise every rule.
CREATE EXTENSION IF NOT EXISTS pg_retention;
CREATE SCHEMA crm;

CREATE TABLE crm.contact (
    id            bigint PRIMARY KEY,
    first_name    text NOT NULL,
    last_name     text NOT NULL,
    email         text,
    phone         text,
    birthday      date,
    city          text,
    last_ip       inet,
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL
);
CREATE INDEX contact_last_seen_at ON crm.contact (last_seen_at);

CREATE TABLE crm.orders (
    id            bigint PRIMARY KEY,
    contact_id    bigint NOT NULL REFERENCES crm.contact(id),
    amount        numeric(10,2) NOT NULL,
    shipping_city text,
    ordered_at    date NOT NULL
);
CREATE INDEX orders_contact_id ON crm.orders (contact_id);
CREATE INDEX orders_ordered_at ON crm.orders (ordered_at);

CREATE TABLE crm.ticket (
    id            bigint PRIMARY KEY,
    contact_id    bigint NOT NULL REFERENCES crm.contact(id),
    body          text,
    closed_at     timestamptz
);
CREATE INDEX ticket_contact_id ON crm.ticket (contact_id);

CREATE TABLE crm.web_log (
    id            bigint GENERATED ALWAYS AS IDENTITY,
    contact_id    bigint REFERENCES crm.contact(id),
    path          text,
    client_ip     inet,
    logged_on     date NOT NULL,
    PRIMARY KEY (id, logged_on)
) PARTITION BY RANGE (logged_on);
CREATE INDEX web_log_logged_on ON crm.web_log (logged_on);
CREATE INDEX web_log_contact_id ON crm.web_log (contact_id);
