/*-------------------------------------------------------------------------
 *
 * anon.hpp
 *		The anonymization kernels: the per-value work behind each method of
 *		methods.hpp (hash, mask_email, partial, fake_*, noise, jitter,
 *		generalize, ip_prefix, redact).
 *
 *		Kernels are plain functions on plain values, called once per row by
 *		the SQL functions (src/pg/anon_functions.cpp) and by the lifecycle
 *		engine, so they are written for throughput:
 *		- text kernels read a std::string_view and APPEND to a caller-owned
 *		  std::string, which the caller clears and reuses: no allocation per
 *		  row once the buffer has grown;
 *		- keyed kernels take a KeyedHasher, built once per key, that holds the
 *		  HMAC-SHA-256 midstates: a value costs two SHA-256 finalizations;
 *		- nothing throws for valid input; arguments that the label validator
 *		  already bounds (hash length, noise ratio, ...) are checked again
 *		  here for direct SQL calls and throw Error(InvalidParameterValue).
 *		NULL never reaches a kernel (the SQL functions are STRICT).
 *
 *		Text is UTF-8: lengths and positions count characters, and an invalid
 *		byte counts as one character (never a crash or an out-of-bounds
 *		read).  The glue must convert from other server encodings.
 *
 * IDENTIFICATION
 *		src/core/anon/anon.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "base/cpp_only.hpp"

namespace pg_retention
{

/* ---------------------------------------------------------------- keys */

/*
 * A 32-byte HMAC-SHA-256 key.  Keys derived by KeyRing::Derive (keys.hpp)
 * come as SecureBytes: pass data() and size() to KeyedHasher directly
 * rather than copying them into an HmacKey that nothing wipes.
 */
struct HmacKey {
	uint8_t bytes[32];
};

constexpr size_t kDigestLength = 32;

/*
 * HMAC-SHA-256 with the key's inner and outer SHA-256 midstates computed
 * once (ipad and opad already absorbed).  Build one per key and keep it:
 * Mac() is const and may run in several threads at once.  The midstates are
 * as secret as the key and are wiped on destruction; the object cannot be
 * copied.
 */
class KeyedHasher
{
public:
	explicit KeyedHasher(const HmacKey &key) noexcept;
	/* Any key length, as HMAC allows (keys longer than 64 bytes are hashed first). */
	KeyedHasher(const uint8_t *key, size_t length) noexcept;
	~KeyedHasher();

	KeyedHasher(const KeyedHasher &) = delete;
	KeyedHasher &operator=(const KeyedHasher &) = delete;

	/* HMAC-SHA-256(key, message), identical to OpenSSL's HMAC(). */
	void Mac(std::string_view message, uint8_t (&digest)[kDigestLength]) const noexcept;

private:
	/* Room for two OpenSSL SHA256_CTX (checked in anon_hash.cpp). */
	static constexpr size_t kStateSize = 112;
	alignas(8) unsigned char inner_[kStateSize];
	alignas(8) unsigned char outer_[kStateSize];
};

/* ---------------------------------------------------------------- hash */

enum class HashEncoding : uint8_t {
	Hex,    /* lower-case hexadecimal, 64 characters */
	Base64, /* base64url (RFC 4648 section 5) without padding, 43 characters */
	Base32  /* RFC 4648 base32, lower case, without padding, 52 characters */
};

/* "hex", "base64", "base32" (as in labels and SQL), or nullopt. */
std::optional<HashEncoding> ParseHashEncoding(std::string_view name);

/* Characters of a full (untruncated) digest in `encoding`. */
size_t HashEncodedLength(HashEncoding encoding);

/*
 * Appends the keyed pseudonym of `value`: HMAC-SHA-256 under the hasher's
 * key, encoded, then truncated to `length` characters when length is not 0.
 * length must be 0 or 8..64; a length beyond the encoding's full length
 * gives the full digest (base64 has 43 characters, base32 52).
 */
void HashText(const KeyedHasher &hasher, std::string_view value, HashEncoding encoding,
              size_t length, std::string &out);

/* ---------------------------------------------------------------- text */

/*
 * 'john.doe@example.com' -> 'j*******@example.com': the first character of
 * the local part is kept, each other character of it becomes '*', and the
 * domain (after the last '@') is kept.  Without '@', every character but the
 * first is masked.  Idempotent.
 */
void MaskEmail(std::string_view value, std::string &out);

/*
 * Keeps the first `prefix` and the last `suffix` characters and puts
 * `padding` between them (PostgreSQL Anonymizer's partial()).  When the
 * value has no more than prefix + suffix characters, keeping them would show
 * all of it: the result is then `padding` alone.  Negative prefix or suffix
 * throw Error(InvalidParameterValue).
 */
void PartialText(std::string_view value, int32_t prefix, std::string_view padding, int32_t suffix,
                 std::string &out);

/*
 * Letters become 'x' and digits '0'; spaces, punctuation and symbols are
 * kept, so the shape of the value survives ("AB-12 c" -> "xx-00 x").  A
 * non-ASCII character is one character: a letter (any script) gives 'x', a
 * digit of another script '0', common punctuation, spaces and symbols are
 * kept.  Characters the kernel cannot classify, and invalid bytes, become
 * 'x': redaction errs on the side of hiding.
 */
void RedactText(std::string_view value, std::string &out);

/* ---------------------------------------------------------------- fake_* */

enum class FakeKind : uint8_t { FirstName, LastName, Email, Phone, City, Address, Company };
enum class FakeLocale : uint8_t { En, Fr };
enum class FakeMode : uint8_t { Deterministic, Random };

/* "fake_first_name" ... "fake_company" (a method name of methods.hpp), or nullopt. */
std::optional<FakeKind> FakeKindFromMethod(std::string_view method_name);
/* "en" / "fr", or nullopt. */
std::optional<FakeLocale> ParseFakeLocale(std::string_view name);
/* "deterministic" / "random", or nullopt. */
std::optional<FakeMode> ParseFakeMode(std::string_view name);

/*
 * Appends a realistic fake value chosen by HMAC(key, value): the same value
 * and key always give the same fake, another key gives other fakes.  The
 * mapping depends on the embedded dictionaries: changing them changes every
 * pseudonym.  Fakes are not unique: distinct values can share a fake, so a
 * UNIQUE column wants hash instead.
 *  - email: firstname.lastname<0..9999>@example.{com,org,net} (RFC 2606
 *    domains), ASCII only;
 *  - phone: en "+1 <area>-555-01xx", fr "+33 6 39 98 xx xx" (ranges
 *    reserved for fiction);
 *  - address: en "1234 Maple Street", fr "12 rue des Lilas";
 *  - company: en "<LastName> Inc." / "<Word> <Word> Ltd", fr "SARL <Nom>" ...
 */
void FakeDeterministic(FakeKind kind, FakeLocale locale, const KeyedHasher &hasher,
                       std::string_view value, std::string &out);

/* Same shapes as FakeDeterministic, chosen at random (random.hpp). */
void FakeRandom(FakeKind kind, FakeLocale locale, std::string &out);

/* The most characters a fake of this kind and locale can have (for varchar(n) columns). */
size_t FakeMaxChars(FakeKind kind, FakeLocale locale);

/* ---------------------------------------------------------------- numbers */

/*
 * value + uniform(-ratio * |value|, +ratio * |value|), rounded half away
 * from zero and clamped to [min_value, max_value] (the column type's range:
 * int2, int4 or int8).  ratio must be finite and >= 0.
 */
int64_t NoiseInteger(int64_t value, double ratio,
                     int64_t min_value = std::numeric_limits<int64_t>::min(),
                     int64_t max_value = std::numeric_limits<int64_t>::max());

/*
 * The same for float4/float8, and for numeric, which the glue converts to
 * double and back (about 15 significant digits survive; the glue rounds to
 * the column's scale).  NaN and infinities are returned unchanged, and a
 * finite value never becomes infinite (clamped to +/-DBL_MAX).
 */
double NoiseDouble(double value, double ratio);

/*
 * The lowest value of value's bucket [k * step, (k + 1) * step), floor
 * toward -infinity (-7 with step 5 gives -10).  When that bound is below
 * min_value (the column type's range), min_value is returned, so the
 * result always fits the type.  step must be > 0.
 */
int64_t GeneralizeInteger(int64_t value, int64_t step,
                          int64_t min_value = std::numeric_limits<int64_t>::min(),
                          int64_t max_value = std::numeric_limits<int64_t>::max());

/*
 * floor(value / step) * step in binary floating point, except that a
 * quotient within 4 ulps of an integer counts as that integer, so that
 * generalize(0.3, 0.1) is 0.3 (3 * 0.1), not 0.2.  Idempotent.  NaN and
 * infinities are returned unchanged, and so is a value too large for step
 * to matter (|value / step| >= 2^53).  step must be finite and > 0.
 */
double GeneralizeDouble(double value, double step);

/* ---------------------------------------------------------------- dates */

enum class DateGranularity : uint8_t {
	Year,    /* January 1 of the year */
	Month,   /* the first day of the month */
	Decade,  /* January 1 of the year rounded down to a multiple of 10 */
	MonthDay /* same month and day in year 4, a leap year: Feb 29 survives */
};

/* "year", "month", "decade", "month_day", or nullopt. */
std::optional<DateGranularity> ParseDateGranularity(std::string_view name);

/*
 * Dates are days since 1970-01-01 (calendar.hpp); timestamps are
 * microseconds since 1970-01-01 00:00, on the value as given (a timestamptz
 * is generalized in UTC unless the glue shifts it to local time first).
 * The glue passes PostgreSQL's infinite dates through without calling the
 * kernels; INT64_MIN and INT64_MAX timestamps (PostgreSQL's -infinity and
 * infinity) are returned unchanged.  Generalizing moves a value back in
 * time, possibly before the type's first value (4714-11-24 BC to year
 * 4720 BC); the result is raised to min_days / min_micros, which the glue
 * sets to PostgreSQL's lower bound.
 */
int64_t GeneralizeDate(int64_t days, DateGranularity granularity,
                       int64_t min_days = std::numeric_limits<int64_t>::min());
/* Same for the date part; the time of day becomes 00:00. */
int64_t GeneralizeTimestamp(int64_t micros, DateGranularity granularity,
                            int64_t min_micros = std::numeric_limits<int64_t>::min() + 1);

/*
 * days + a uniform whole number of days in [-range, +range], where range
 * = 30 * months + days_range (an interval's months count 30 days, as
 * PostgreSQL's interval comparison does), clamped to [min_days, max_days]
 * (the glue passes PostgreSQL's date range).  A negative range throws
 * Error(InvalidParameterValue).
 */
int64_t JitterDate(int64_t days, int32_t months, int32_t days_range,
                   int64_t min_days = std::numeric_limits<int64_t>::min(),
                   int64_t max_days = std::numeric_limits<int64_t>::max());

/*
 * micros + uniform microseconds in [-range, +range], range = (30 * months +
 * days) days + range_micros (an interval's time part), clamped to
 * [min_micros, max_micros].  INT64_MIN / INT64_MAX (infinities) are
 * returned unchanged.
 */
int64_t JitterTimestamp(int64_t micros, int32_t months, int32_t days, int64_t range_micros,
                        int64_t min_micros = std::numeric_limits<int64_t>::min() + 1,
                        int64_t max_micros = std::numeric_limits<int64_t>::max() - 1);

/* ---------------------------------------------------------------- inet */

/*
 * Zeroes the host bits of an address given as raw bytes in network order
 * (4 for IPv4, 16 for IPv6), in place.  bits is clamped to [0, 8 * length];
 * the clamped value is returned, for the glue to store as the netmask.
 */
int IpPrefix(uint8_t *address, size_t length, int bits);

} // namespace pg_retention
