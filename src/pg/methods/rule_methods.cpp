/*-------------------------------------------------------------------------
 *
 * rule_methods.cpp
 *		The keyed methods as the lifecycle engine applies them.
 *
 *		retention.hash and the deterministic fakes are not executable by
 *		PUBLIC: a pseudonym anyone can compute is a dictionary attack on the
 *		column it protects.  The engine's statements run as the table's owner
 *		(owner_sql.hpp), who has no EXECUTE on them either; they call these
 *		entry points instead, which PUBLIC may execute but which refuse any
 *		call without the backend's engine capability, a random number bound
 *		as a statement parameter that the owner's code never sees.
 *
 * IDENTIFICATION
 *		src/pg/methods/rule_methods.cpp
 *-------------------------------------------------------------------------
 */
#include <string>
#include <string_view>

#include "anon/anon.hpp"
#include "base/error.hpp"

#include "methods/anon_functions.hpp"
#include "boundary/guard.hpp"
#include "boundary/owner_sql.hpp"

extern "C" {
Datum retention_hash(PG_FUNCTION_ARGS);
}

namespace pg_retention::pg
{

/* _rule_hash(value text, encoding text, length int, capability bigint): hash(value, encoding,
 * length) */
PGR_FUNCTION(retention_rule_hash)
{
	/* not STRICT, like hash(value, encoding, length): a NULL length is the full digest */
	CheckEngineCapability(PG_ARGISNULL(3) ? 0 : PG_GETARG_INT64(3));
	return PgCall([&] { return retention_hash(fcinfo); });
}

/* _rule_fake_<kind>(value text, locale text, capability bigint): fake_<kind>(value, locale) */
PGR_FUNCTION(retention_rule_fake)
{
	CheckEngineCapability(PG_GETARG_INT64(2));
	const text *value = PG_GETARG_TEXT_PP(0);
	const text *locale_text = PG_GETARG_TEXT_PP(1);
	std::string_view locale_name(VARDATA_ANY(locale_text), VARSIZE_ANY_EXHDR(locale_text));
	std::optional<FakeLocale> locale = ParseFakeLocale(locale_name);
	if (!locale)
		throw Error(ErrorKind::InvalidParameterValue,
		            "unknown locale \"" + std::string(locale_name) + "\"", "",
		            "locales are en and fr");
	FakeKind kind = FakeKindOfCall(fcinfo, "_rule_fake_");
	static std::string out;
	out.clear();
	FakeDeterministic(kind, *locale, HasherFor(KeyPurpose::Fake),
	                  std::string_view(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value)), out);
	return PgCall([&] {
		return PointerGetDatum(cstring_to_text_with_len(out.data(), static_cast<int>(out.size())));
	});
}

} // namespace pg_retention::pg
