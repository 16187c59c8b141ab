/*-------------------------------------------------------------------------
 *
 * anon_functions.cpp
 *		The anonymization methods as SQL functions (schema retention).
 *
 *		Thin: read the arguments, check them with the method table's own
 *		checks (methods.hpp: the same ranges, choices and messages as
 *		labels), call the kernel in src/core/anon*.cpp, return the result.
 *		These run once per row, so each body reads its arguments first,
 *		keeps only trivially destructible locals (an ereport may skip them
 *		harmlessly) and writes into a reused buffer.  The same functions
 *		serve labels: the lifecycle calls them, and the minimize trigger
 *		calls them directly (minimize.cpp).
 *
 * IDENTIFICATION
 *		src/pg/methods/anon_functions.cpp
 *-------------------------------------------------------------------------
 */
#include <cmath>
#include <memory>
#include <string>
#include <string_view>

#include "anon/anon.hpp"
#include "schedule/calendar.hpp"
#include "base/error.hpp"
#include "anon/methods.hpp"
#include "label/policy.hpp"

#include "methods/anon_functions.hpp"
#include "boundary/guard.hpp"
#include "archive/server_key.hpp"

#include <sys/socket.h>

extern "C" {
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/inet.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
}

namespace pg_retention::pg
{

namespace
{

/* The one output buffer of the text methods: no allocation per row once warm. */
std::string &OutputBuffer()
{
	static std::string buffer;
	buffer.clear();
	return buffer;
}

std::string_view TextOf(const text *t)
{
	return {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)};
}

Datum TextDatum(std::string_view s)
{
	return PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size())));
}

/*
 * Arguments are checked by the method table's own checks (methods.hpp),
 * so a SQL call refuses exactly what a label refuses, with the same
 * message.  Each check is a static, looked up at the first call.
 */

/* noise's ratio, shared by its four SQL functions */
void CheckRatio(double ratio)
{
	static const ArgumentCheck ratio_check("noise", "ratio");
	ratio_check.Number(ratio);
}

/*
 * The locale of fake_<kind>(value, locale) or random_<kind>(locale): en when
 * the call leaves it out.  Messages name the label's method, fake_<kind>.
 */
FakeLocale LocaleArgument(FunctionCallInfo fcinfo, int n, FakeKind kind)
{
	if (PG_NARGS() <= n)
		return FakeLocale::En;
	static const ArgumentCheck checks[] = {
	    {"fake_first_name", "locale"}, {"fake_last_name", "locale"}, {"fake_email", "locale"},
	    {"fake_phone", "locale"},      {"fake_city", "locale"},      {"fake_address", "locale"},
	    {"fake_company", "locale"}};
	const char *name = checks[static_cast<size_t>(kind)].Choice(TextOf(PG_GETARG_TEXT_PP(n)));
	return *ParseFakeLocale(name);
}

/* Day numbers: PostgreSQL counts from 2000-01-01, the kernels from 1970-01-01. */
constexpr int64_t kMinDate = DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE + kPgEpochOffsetDays;
constexpr int64_t kMaxDate = DATE_END_JULIAN - POSTGRES_EPOCH_JDATE - 1 + kPgEpochOffsetDays;
constexpr int64_t kMicrosPerDay = USECS_PER_DAY;
constexpr int64_t kEpochShiftMicros = kPgEpochOffsetDays * kMicrosPerDay;

DateGranularity GranularityArgument(FunctionCallInfo fcinfo, int n, const char *type_name)
{
	std::string_view name = TextOf(PG_GETARG_TEXT_PP(n));
	std::optional<DateGranularity> g = ParseDateGranularity(name);
	if (!g) {
		MethodArg arg;
		arg.kind = ArgKind::String;
		arg.text = name;
		CheckGranularity(TypeCategory::Date, type_name, "", arg);
	}
	return *g;
}

/* Refuses a step of generalize on numbers that is not positive, as labels do. */
[[noreturn]] void RefuseStep(TypeCategory category, const char *type_name, const char *text)
{
	MethodArg arg;
	arg.kind = category == TypeCategory::Integer ? ArgKind::Integer : ArgKind::Number;
	arg.text = text;
	CheckGranularity(category, type_name, "", arg);
	throw Error(ErrorKind::Internal, "generalize accepted a step that is not positive");
}

/* jitter's range: a positive delay of at most 1000 years, as in labels. */
void CheckRange(const Interval *range)
{
	static const std::string clause = [] {
		const ArgumentCheck c("jitter", "range");
		return "argument \"" + std::string(c.param().name) + "\" of \"" + c.spec().name + "\"";
	}();
	CheckDelayParts(range->month, range->day, range->time, clause);
}

Datum GeneralizeTimestampDatum(FunctionCallInfo fcinfo)
{
	int64_t ts = PG_GETARG_INT64(0);
	DateGranularity g = GranularityArgument(fcinfo, 1, "timestamp");
	if (TIMESTAMP_NOT_FINITE(ts))
		return Int64GetDatum(ts);
	int64_t shifted =
	    GeneralizeTimestamp(ts + kEpochShiftMicros, g, MIN_TIMESTAMP + kEpochShiftMicros);
	return Int64GetDatum(shifted - kEpochShiftMicros);
}

Datum JitterTimestampDatum(FunctionCallInfo fcinfo)
{
	int64_t ts = PG_GETARG_INT64(0);
	Interval *range = PG_GETARG_INTERVAL_P(1);
	CheckRange(range);
	if (TIMESTAMP_NOT_FINITE(ts))
		return Int64GetDatum(ts);
	/* a shift is epoch-free: stay in PostgreSQL's epoch, whose bounds fit int64 */
	return Int64GetDatum(JitterTimestamp(ts, range->month, range->day, range->time, MIN_TIMESTAMP,
	                                     END_TIMESTAMP - 1));
}

} // namespace

const KeyedHasher &HasherFor(KeyPurpose purpose)
{
	static std::unique_ptr<KeyedHasher> hash_hasher;
	static std::unique_ptr<KeyedHasher> fake_hasher;
	std::unique_ptr<KeyedHasher> &slot = purpose == KeyPurpose::Hash ? hash_hasher : fake_hasher;
	if (!slot) {
		SecureBytes key = RequireServerKey().Derive(purpose);
		slot = std::make_unique<KeyedHasher>(key.data(), key.size());
	}
	return *slot;
}

/*
 * hash(value text [, encoding text [, length int]]) -> text.  The
 * three-argument form is not STRICT so that a NULL length means the full
 * digest (its default); a NULL value or encoding gives NULL, as STRICT would.
 */
PGR_FUNCTION(retention_hash)
{
	static const ArgumentCheck encoding_check("hash", "encoding");
	static const ArgumentCheck length_check("hash", "length");
	if (PG_ARGISNULL(0) || (PG_NARGS() > 1 && PG_ARGISNULL(1)))
		PG_RETURN_NULL();
	std::string_view value = TextOf(PG_GETARG_TEXT_PP(0));
	HashEncoding encoding = HashEncoding::Hex;
	if (PG_NARGS() > 1)
		encoding = *ParseHashEncoding(encoding_check.Choice(TextOf(PG_GETARG_TEXT_PP(1))));
	int32 length = 0; /* the full digest */
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2)) {
		length = PG_GETARG_INT32(2);
		length_check.Integer(length);
	}
	std::string &out = OutputBuffer();
	HashText(HasherFor(KeyPurpose::Hash), value, encoding, static_cast<size_t>(length), out);
	return TextDatum(out);
}

PGR_FUNCTION(retention_mask_email)
{
	std::string_view value = TextOf(PG_GETARG_TEXT_PP(0));
	std::string &out = OutputBuffer();
	MaskEmail(value, out);
	return TextDatum(out);
}

/* partial(value, prefix, padding, suffix) */
PGR_FUNCTION(retention_partial)
{
	std::string_view value = TextOf(PG_GETARG_TEXT_PP(0));
	int32 prefix = PG_GETARG_INT32(1);
	std::string_view padding = TextOf(PG_GETARG_TEXT_PP(2));
	int32 suffix = PG_GETARG_INT32(3);
	static const ArgumentCheck prefix_check("partial", "prefix");
	static const ArgumentCheck suffix_check("partial", "suffix");
	prefix_check.Integer(prefix);
	suffix_check.Integer(suffix);
	std::string &out = OutputBuffer();
	PartialText(value, prefix, padding, suffix, out);
	return TextDatum(out);
}

PGR_FUNCTION(retention_redact)
{
	std::string_view value = TextOf(PG_GETARG_TEXT_PP(0));
	std::string &out = OutputBuffer();
	RedactText(value, out);
	return TextDatum(out);
}

/*
 * fake_<kind>(value text [, locale text]): deterministic, keyed by value.
 * The kind comes from the SQL function's name, so one C function serves all.
 */
PGR_FUNCTION(retention_fake)
{
	std::string_view value = TextOf(PG_GETARG_TEXT_PP(0));
	FakeKind kind = FakeKindOfCall(fcinfo, "fake_");
	FakeLocale locale = LocaleArgument(fcinfo, 1, kind);
	std::string &out = OutputBuffer();
	FakeDeterministic(kind, locale, HasherFor(KeyPurpose::Fake), value, out);
	return TextDatum(out);
}

/* random_<kind>([locale text]): a new fake at every call. */
PGR_FUNCTION(retention_random_fake)
{
	FakeKind kind = FakeKindOfCall(fcinfo, "random_");
	FakeLocale locale = LocaleArgument(fcinfo, 0, kind);
	std::string &out = OutputBuffer();
	FakeRandom(kind, locale, out);
	return TextDatum(out);
}

PGR_FUNCTION(retention_noise_int4)
{
	int32 value = PG_GETARG_INT32(0);
	double ratio = PG_GETARG_FLOAT8(1);
	CheckRatio(ratio);
	return Int32GetDatum(
	    static_cast<int32>(NoiseInteger(value, ratio, PG_INT32_MIN, PG_INT32_MAX)));
}

PGR_FUNCTION(retention_noise_int8)
{
	int64 value = PG_GETARG_INT64(0);
	double ratio = PG_GETARG_FLOAT8(1);
	CheckRatio(ratio);
	return Int64GetDatum(NoiseInteger(value, ratio));
}

PGR_FUNCTION(retention_noise_float8)
{
	double value = PG_GETARG_FLOAT8(0);
	double ratio = PG_GETARG_FLOAT8(1);
	CheckRatio(ratio);
	return Float8GetDatum(NoiseDouble(value, ratio));
}

/* numeric: noise on the float8 value, rounded back to the input's scale. */
PGR_FUNCTION(retention_noise_numeric)
{
	Datum value = PG_GETARG_DATUM(0);
	double ratio = PG_GETARG_FLOAT8(1);
	CheckRatio(ratio);
	double as_double = DatumGetFloat8(DirectFunctionCall1(numeric_float8, value));
	if (std::isnan(as_double) || std::isinf(as_double))
		return value;
	double noisy = NoiseDouble(as_double, ratio);
	int32 scale = DatumGetInt32(DirectFunctionCall1(numeric_scale, value));
	Datum result = DirectFunctionCall1(float8_numeric, Float8GetDatum(noisy));
	return DirectFunctionCall2(numeric_round, result, Int32GetDatum(scale));
}

PGR_FUNCTION(retention_jitter_date)
{
	DateADT date = PG_GETARG_DATEADT(0);
	Interval *range = PG_GETARG_INTERVAL_P(1);
	CheckRange(range);
	if (DATE_NOT_FINITE(date))
		return DateADTGetDatum(date);
	int64_t days = JitterDate(date + kPgEpochOffsetDays, range->month,
	                          range->day + static_cast<int32_t>(range->time / USECS_PER_DAY),
	                          kMinDate, kMaxDate);
	return DateADTGetDatum(static_cast<DateADT>(days - kPgEpochOffsetDays));
}

PGR_FUNCTION(retention_jitter_timestamp)
{
	return JitterTimestampDatum(fcinfo);
}

PGR_FUNCTION(retention_generalize_date)
{
	DateADT date = PG_GETARG_DATEADT(0);
	DateGranularity g = GranularityArgument(fcinfo, 1, "date");
	if (DATE_NOT_FINITE(date))
		return DateADTGetDatum(date);
	int64_t days = GeneralizeDate(date + kPgEpochOffsetDays, g, kMinDate);
	return DateADTGetDatum(static_cast<DateADT>(days - kPgEpochOffsetDays));
}

PGR_FUNCTION(retention_generalize_timestamp)
{
	return GeneralizeTimestampDatum(fcinfo);
}

PGR_FUNCTION(retention_generalize_int4)
{
	int32 value = PG_GETARG_INT32(0);
	int32 step = PG_GETARG_INT32(1);
	if (step <= 0)
		RefuseStep(TypeCategory::Integer, "integer", std::to_string(step).c_str());
	return Int32GetDatum(
	    static_cast<int32>(GeneralizeInteger(value, step, PG_INT32_MIN, PG_INT32_MAX)));
}

PGR_FUNCTION(retention_generalize_int8)
{
	int64 value = PG_GETARG_INT64(0);
	int64 step = PG_GETARG_INT64(1);
	if (step <= 0)
		RefuseStep(TypeCategory::Integer, "bigint", std::to_string(step).c_str());
	return Int64GetDatum(GeneralizeInteger(value, step));
}

PGR_FUNCTION(retention_generalize_float8)
{
	double value = PG_GETARG_FLOAT8(0);
	double step = PG_GETARG_FLOAT8(1);
	if (!(step > 0 && std::isfinite(step)))
		RefuseStep(TypeCategory::Numeric, "double precision",
		           DatumGetCString(DirectFunctionCall1(float8out, Float8GetDatum(step))));
	return Float8GetDatum(GeneralizeDouble(value, step));
}

/* numeric: floor(value / step) * step, exactly, in numeric arithmetic. */
PGR_FUNCTION(retention_generalize_numeric)
{
	Datum value = PG_GETARG_DATUM(0);
	Datum step = PG_GETARG_DATUM(1);
	Datum zero = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
	/* NaN sorts above every number: test it apart */
	if (numeric_is_nan(DatumGetNumeric(step)) ||
	    !DatumGetBool(DirectFunctionCall2(numeric_gt, step, zero)))
		RefuseStep(TypeCategory::Numeric, "numeric",
		           DatumGetCString(DirectFunctionCall1(numeric_out, step)));
	Datum quotient = DirectFunctionCall2(numeric_div, value, step);
	Datum floored = DirectFunctionCall1(numeric_floor, quotient);
	return DirectFunctionCall2(numeric_mul, floored, step);
}

/* ip_prefix(address inet, bits int) -> the network of the first `bits` bits */
PGR_FUNCTION(retention_ip_prefix)
{
	inet *address = PG_GETARG_INET_PP(0);
	int32 bits = PG_GETARG_INT32(1);
	/* the label's range: a column may mix IPv4 and IPv6, so IPv4 keeps at most its 32 bits */
	static const ArgumentCheck bits_check("ip_prefix", "bits");
	bits_check.Integer(bits);
	inet *result = static_cast<inet *>(palloc0(sizeof(inet)));
	ip_family(result) = ip_family(address);
	memcpy(ip_addr(result), ip_addr(address), ip_addrsize(address));
	int kept = IpPrefix(ip_addr(result), ip_addrsize(result), bits);
	ip_bits(result) = static_cast<unsigned char>(std::min<int>(kept, ip_bits(address)));
	SET_INET_VARSIZE(result);
	return InetPGetDatum(result);
}

FakeKind FakeKindOfCall(FunctionCallInfo fcinfo, const char *prefix)
{
	/* cached per call site: the name never changes for a given FmgrInfo */
	if (fcinfo->flinfo->fn_extra != nullptr)
		return static_cast<FakeKind>(reinterpret_cast<uintptr_t>(fcinfo->flinfo->fn_extra) - 1);
	const char *name = PgCall([&] { return get_func_name(fcinfo->flinfo->fn_oid); });
	std::string method = name == nullptr ? "" : name;
	if (method.rfind(prefix, 0) == 0)
		method = "fake_" + method.substr(strlen(prefix));
	std::optional<FakeKind> kind = FakeKindFromMethod(method);
	if (!kind)
		throw Error(ErrorKind::Internal, "function " + method + " is not a fake method");
	fcinfo->flinfo->fn_extra = reinterpret_cast<void *>(static_cast<uintptr_t>(*kind) + 1);
	return *kind;
}

} // namespace pg_retention::pg
