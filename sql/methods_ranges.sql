-- The SQL methods refuse exactly what labels refuse, with the same message:
-- one check per argument in the table of methods serves both.
-- hash: encoding one of hex, base64, base32 (any case); length 8..64
SELECT retention.hash('x', 'base58');
SELECT retention.hash('x', 'hex', 7);
SELECT retention.hash('x', 'hex', 65);
SELECT retention.hash('x', 'hex', 0);
SELECT retention.hash('x', 'HEX', 8) = left(retention.hash('x'), 8) AS any_case,
       length(retention.hash('x', 'base64', 64)) AS beyond_the_digest_gives_it_whole;
-- NULL arguments give NULL, as STRICT does; a NULL length means the full digest (its default)
SELECT retention.hash(NULL) IS NULL AS null_value, retention.hash(NULL, 'hex') IS NULL AS null_value_2,
       retention.hash(NULL, 'hex', 8) IS NULL AS null_value_3, retention.hash('x', NULL) IS NULL AS null_encoding,
       retention.hash('x', NULL, 8) IS NULL AS null_encoding_2,
       retention.hash('x', 'hex', NULL) = retention.hash('x') AS null_length_is_full;

-- partial: prefix and suffix 0..1000
SELECT retention.partial('x', -1, '*', 1);
SELECT retention.partial('x', 1, '*', -1);
SELECT retention.partial('x', 1001, '*', 1);
SELECT retention.partial('abcdef', 1000, '*', 0) AS too_short_gives_padding, retention.partial(NULL, 1, '*', 1) IS NULL AS strict;

-- fakes: locale en or fr
SELECT retention.fake_city('x', 'de');
SELECT retention.fake_email('x', '');
SELECT retention.random_city('de');
SELECT retention.fake_city('x', 'FR') = retention.fake_city('x', 'fr') AS any_case,
       retention.fake_city('x', NULL) IS NULL AS strict;

-- noise: ratio 0..10
SELECT retention.noise(100, 10.5);
SELECT retention.noise(100::bigint, -0.1);
SELECT retention.noise(100.5::numeric, 'NaN');
SELECT retention.noise(1.5::float8, 'infinity');
SELECT retention.noise(100, 0) AS zero_ratio_keeps_the_value, retention.noise(100, 10) BETWEEN -900 AND 1100 AS widest,
       retention.noise(100, NULL) IS NULL AS strict;

-- jitter: a positive delay of at most 1000 years (hours too, for timestamps)
SELECT retention.jitter(date '2020-01-01', '0 days');
SELECT retention.jitter(date '2020-01-01', '-1 day');
SELECT retention.jitter(timestamp '2020-01-01', '1 day -2 hours');
SELECT retention.jitter(timestamptz '2020-01-01', '1001 years');
SELECT retention.jitter(timestamptz '2020-01-01 12:00+00', '2 hours') IS NOT NULL AS hours,
       retention.jitter(date '2020-01-01', NULL) IS NULL AS strict;

-- generalize: a granularity for dates, a positive step for numbers
SELECT retention.generalize(date '2000-01-01', 'week');
SELECT retention.generalize(timestamptz '2000-01-01', 'hour');
SELECT retention.generalize(10, 0);
SELECT retention.generalize(10, -5);
SELECT retention.generalize(10::bigint, 0::bigint);
SELECT retention.generalize(1.5::float8, 0::float8);
SELECT retention.generalize(1.5::float8, 'NaN'::float8);
SELECT retention.generalize(1.5::float8, 'infinity'::float8);
SELECT retention.generalize(1.5, 0.0);
SELECT retention.generalize(1.5, 'NaN'::numeric);
SELECT retention.generalize(1.5, 0.001) AS tiny_step, retention.generalize(10, NULL::int) IS NULL AS strict;

-- ip_prefix: bits 0..128; an IPv4 address keeps at most its 32 bits (a column may mix families)
SELECT retention.ip_prefix('::1', 200);
SELECT retention.ip_prefix('192.0.2.1', -1);
SELECT retention.ip_prefix('2001:db8::1', 128) AS ipv6_all, retention.ip_prefix('192.0.2.77', 128) AS ipv4_all,
       retention.ip_prefix('192.0.2.77', 0) AS none;

-- the same refusals in labels: the same messages, with the position
CREATE TABLE ranges (at date, email text, ip inet, n int, x numeric);
SECURITY LABEL FOR retention ON TABLE ranges IS 'age from at; purge after 5 years';
SECURITY LABEL FOR retention ON COLUMN ranges.email IS 'anonymize after 1 year using hash(base58)';
SECURITY LABEL FOR retention ON COLUMN ranges.email IS 'anonymize after 1 year using hash(hex, 7)';
SECURITY LABEL FOR retention ON COLUMN ranges.email IS 'anonymize after 1 year using partial(1001, ''*'', 1)';
SECURITY LABEL FOR retention ON COLUMN ranges.email IS 'anonymize after 1 year using fake_city(de)';
SECURITY LABEL FOR retention ON COLUMN ranges.x IS 'anonymize after 1 year using noise(10.5)';
SECURITY LABEL FOR retention ON COLUMN ranges.at IS 'minimize to generalize(week)';
SECURITY LABEL FOR retention ON COLUMN ranges.n IS 'minimize to generalize(-5)';
SECURITY LABEL FOR retention ON COLUMN ranges.ip IS 'anonymize after 1 year using ip_prefix(200)';
SECURITY LABEL FOR retention ON COLUMN ranges.n IS 'anonymize after 1 year using noise(0.1)';
DROP TABLE ranges;
