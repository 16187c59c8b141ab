-- Anonymization methods as plain SQL functions, and the same methods in labels.
-- hash: keyed HMAC-SHA-256, deterministic, so joins on pseudonyms still work
SELECT retention.hash('alice@example.com') = retention.hash('alice@example.com') AS deterministic,
       retention.hash('alice@example.com') <> retention.hash('bob@example.com') AS distinct_inputs,
       length(retention.hash('alice@example.com')) AS hex_length,
       retention.hash('alice@example.com') ~ '^[0-9a-f]{64}$' AS hex;
SELECT length(retention.hash('x', 'base64')) AS base64_length,
       length(retention.hash('x', 'base32')) AS base32_length,
       retention.hash('x', 'base32', 12) = left(retention.hash('x', 'base32'), 12) AS truncated,
       retention.hash('x', 'hex', NULL) = retention.hash('x') AS null_length_is_full;
-- not an unkeyed digest: the pseudonym is neither sha256 nor md5 of the value
SELECT retention.hash('alice') <> encode(sha256('alice'), 'hex') AS keyed;
SELECT retention.hash(NULL) IS NULL AS strict;
SELECT retention.hash('x', 'base58');
SELECT retention.hash('x', 'hex', 7);

-- masking, character-correct on UTF-8
SELECT retention.mask_email('john.doe@example.com'), retention.mask_email('élodie@exemple.fr'),
       retention.mask_email('not-an-email'), retention.mask_email('');
SELECT retention.partial('+33 6 12 34 56 78', 3, '******', 2), retention.partial('Zoë', 1, '**', 1),
       retention.partial('ab', 2, '***', 2) AS too_short_shows_padding_only;
SELECT retention.partial('x', -1, '*', 1);
SELECT retention.redact('Jean-Paul, 12 rue de l''Église');

-- fakes: deterministic per value and key, realistic, in English or French
SELECT retention.fake_first_name('alice') = retention.fake_first_name('alice') AS deterministic,
       retention.fake_email('alice') ~ '^[a-z]+\.[a-z]+[0-9]*@example\.(com|org|net)$' AS reserved_domain,
       retention.fake_phone('alice', 'fr') ~ '^\+33 6 39 98 [0-9]{2} [0-9]{2}$' AS fictional_fr_range,
       retention.fake_phone('alice', 'en') ~ '555-01[0-9]{2}' AS fictional_us_range;
-- the fakes of 1,000 different people are varied
SELECT count(DISTINCT retention.fake_last_name(i::text)) > 100 AS varied_last_names,
       count(DISTINCT retention.fake_city(i::text, 'fr')) > 50 AS varied_cities,
       count(DISTINCT retention.fake_address(i::text)) > 500 AS varied_addresses,
       count(DISTINCT retention.fake_company(i::text)) > 200 AS varied_companies
FROM generate_series(1, 1000) AS i;
-- random fakes change at every call
SELECT count(DISTINCT retention.random_first_name('fr')) > 1 AS random FROM generate_series(1, 20);
SELECT retention.fake_city('x', 'de');

-- noise and jitter stay within their range
SELECT bool_and(retention.noise(1000, 0.1) BETWEEN 900 AND 1100) AS int_in_range,
       bool_and(retention.noise(1000::bigint, 0.1) BETWEEN 900 AND 1100) AS bigint_in_range,
       bool_and(retention.noise(100.25::numeric, 0.5) BETWEEN 50 AND 151) AS numeric_in_range,
       bool_and(scale(retention.noise(100.25::numeric, 0.5)) = 2) AS keeps_scale,
       bool_and(retention.jitter(date '2024-02-29', '10 days') BETWEEN date '2024-02-19' AND date '2024-03-10') AS date_in_range,
       bool_and(abs(extract(epoch FROM retention.jitter(timestamptz '2024-01-01 12:00+00', '2 hours')
                                     - timestamptz '2024-01-01 12:00+00')) <= 7200) AS timestamp_in_range
FROM generate_series(1, 200);
SELECT retention.noise(2147483000, 1.0) IS NOT NULL AS clamped_no_overflow;
SELECT retention.jitter(date 'infinity', '1 day') AS infinity_unchanged;

-- generalization
SELECT retention.generalize(date '1987-06-15', 'year') AS year,
       retention.generalize(date '1987-06-15', 'month') AS month,
       retention.generalize(date '1987-06-15', 'decade') AS decade,
       retention.generalize(date '1988-02-29', 'month_day') AS leap_day_survives,
       retention.generalize(timestamptz '2021-05-17 13:45:00+00', 'month') AT TIME ZONE 'UTC' AS ts_month;
SELECT retention.generalize(1234, 100), retention.generalize(-1234, 100) AS floors_down,
       retention.generalize(1234.56::numeric, 0.5), retention.generalize(98765::bigint, 1000::bigint);
SELECT retention.generalize(date '2000-01-01', 'week');
SELECT retention.generalize(10, 0);

-- IP prefixes, IPv4 and IPv6
SELECT retention.ip_prefix('192.0.2.77', 24), retention.ip_prefix('2001:db8:abcd:12::1', 48),
       retention.ip_prefix('192.0.2.77', 64) AS clamped;

-- nullify, constant
SELECT retention.nullify('secret'::text) IS NULL AS nullified, retention.constant(42, 0) AS constant;

-- k-anonymity over quasi-identifiers
CREATE TABLE people (zip text, birth_year int, diagnosis text);
INSERT INTO people VALUES ('75001', 1980, 'a'), ('75001', 1980, 'b'), ('75001', 1980, 'c'),
                          ('69002', 1975, 'd'), ('69002', 1975, 'e');
SELECT retention.k_anonymity('people', ARRAY['zip', 'birth_year']) AS k;
UPDATE people SET birth_year = 1990 WHERE diagnosis = 'e';
SELECT retention.k_anonymity('people', ARRAY['zip', 'birth_year']) AS k_after_outlier;
SELECT retention.k_anonymity('people', ARRAY['no_such_column']);
SELECT retention.k_anonymity('people', ARRAY[]::name[]);
DROP TABLE people;

-- the server key: loaded, identified, never shown
SELECT loaded, version, length(fingerprint) AS fingerprint_length FROM retention.key_info();
SHOW retention.key_version;
