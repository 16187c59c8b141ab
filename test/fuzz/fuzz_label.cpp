/*-------------------------------------------------------------------------
 *
 * fuzz_label.cpp
 *		libFuzzer target for the retention label grammar.
 *
 *		Any byte string is parsed as a table label and as a column label.
 *		The only acceptable failure is pg_retention::Error (a user error);
 *		anything else escapes and crashes the fuzzer, as do sanitizer
 *		findings.  Accepted labels must round-trip: the canonical text parses
 *		again and prints identically.  They are then validated against a
 *		fixed table with a column of each type category.
 *
 *		Run: fuzz_label -max_total_time=120 test/fuzz/corpus/label
 *
 * IDENTIFICATION
 *		test/fuzz/fuzz_label.cpp
 *-------------------------------------------------------------------------
 */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "label/policy.hpp"

namespace
{

using namespace pg_retention;

const TableFacts &Facts()
{
	static const TableFacts facts = [] {
		TableFacts f;
		f.qualified_name = "fuzz.person";
		f.columns = {
		    {"id", TypeCategory::Integer, "bigint", true},
		    {"email", TypeCategory::Text, "text", false},
		    {"score", TypeCategory::Numeric, "numeric", false},
		    {"born", TypeCategory::Date, "date", false},
		    {"seen_at", TypeCategory::Timestamp, "timestamp with time zone", true},
		    {"ip", TypeCategory::Inet, "inet", false},
		    {"Doc", TypeCategory::Other, "jsonb", false},
		    {"customer_id", TypeCategory::Integer, "bigint", false},
		    /* the checks of values that cannot fit: length, generated, identity, NOT NULL */
		    {"code", TypeCategory::Text, "character varying(8)", false, Generated::No, 8},
		    {"total", TypeCategory::Numeric, "numeric", false, Generated::Stored},
		    {"number", TypeCategory::Integer, "integer", true, Generated::IdentityAlways},
		};
		return f;
	}();
	return facts;
}

[[noreturn]] void RoundTripFailure(const char *what, const std::string &first,
                                   const std::string &second)
{
	std::fprintf(stderr, "%s label does not round-trip:\n  %s\n  %s\n", what, first.c_str(),
	             second.c_str());
	std::abort();
}

/* parse(ToLabel(p)) must succeed and print the same text again. */
template <typename Policy, typename Parse>
void CheckRoundTrip(const char *what, const Policy &policy, Parse parse)
{
	const std::string canonical = ToLabel(policy);
	std::string again;
	try {
		again = ToLabel(parse(canonical));
	} catch (const Error &e) {
		RoundTripFailure(what, canonical, std::string("error: ") + e.what());
	}
	if (again != canonical)
		RoundTripFailure(what, canonical, again);
}

/* Validation may refuse the policy, but only with an Error. */
template <typename F> void ExpectOnlyUserErrors(F &&f)
{
	try {
		f();
	} catch (const Error &e) {
		(void)e.detail();
	}
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const std::string_view label(reinterpret_cast<const char *>(data), size);

	std::optional<TablePolicy> table;
	try {
		table = ParseTableLabel(label);
	} catch (const Error &) {
	}
	if (table) {
		CheckRoundTrip("table", *table, [](std::string_view l) { return ParseTableLabel(l); });
		for (const ColumnRef &ref : table->column_refs)
			if (ref.offset + ref.length > label.size() || ref.length == 0)
				std::abort();
		ExpectOnlyUserErrors([&] { ValidateTable(Facts(), &*table, {}); });
	}

	std::optional<ColumnPolicy> column;
	try {
		column = ParseColumnLabel(label);
	} catch (const Error &) {
	}
	if (column) {
		CheckRoundTrip("column", *column, [](std::string_view l) { return ParseColumnLabel(l); });
		const TablePolicy aged = ParseTableLabel("age from seen_at; purge after 5 years");
		for (const ColumnFacts &c : Facts().columns) {
			const std::vector<std::pair<std::string, ColumnPolicy>> columns = {{c.name, *column}};
			ExpectOnlyUserErrors([&] { ValidateTable(Facts(), &aged, columns); });
			ExpectOnlyUserErrors([&] { ValidateColumn(Facts(), nullptr, c.name, *column); });
		}
	}

	try {
		(void)ParseDelay(label);
	} catch (const Error &) {
	}
	return 0;
}
