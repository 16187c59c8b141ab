/*-------------------------------------------------------------------------
 *
 * methods.cpp
 *		The table of anonymization methods (see methods.hpp).
 *
 * IDENTIFICATION
 *		src/core/methods.cpp
 *-------------------------------------------------------------------------
 */
#include "methods.hpp"

#include <algorithm>
#include <cctype>

namespace pg_retention
{

namespace
{

constexpr uint32_t kText = CategoryBit(TypeCategory::Text);
constexpr uint32_t kNumbers =
    CategoryBit(TypeCategory::Integer) | CategoryBit(TypeCategory::Numeric);
constexpr uint32_t kDates = CategoryBit(TypeCategory::Date) | CategoryBit(TypeCategory::Timestamp);
constexpr uint32_t kInet = CategoryBit(TypeCategory::Inet);

const ParamSpec kLocale{"locale", ArgKind::Identifier, false, {"en", "fr"}, 0, 0};
const ParamSpec kMode{"mode", ArgKind::Identifier, false, {"deterministic", "random"}, 0, 0};

MethodSpec Fake(const char *name, const char *summary)
{
	/* deterministic by default; fake_x(fr, random) is not */
	return MethodSpec{name, kText, {kLocale, kMode}, true, false, true, summary};
}

std::vector<MethodSpec> BuildMethods()
{
	return {
	    {"hash",
	     kText,
	     {{"encoding", ArgKind::Identifier, false, {"hex", "base64", "base32"}, 0, 0},
	      {"length", ArgKind::Integer, false, {}, 8, 64}},
	     true,
	     false,
	     true,
	     "keyed HMAC-SHA-256 pseudonym: same input, same output"},
	    {"mask_email",
	     kText,
	     {},
	     true,
	     true,
	     false,
	     "keeps the first letter of the local part and the domain: j***@example.com"},
	    {"partial",
	     kText,
	     {{"prefix", ArgKind::Integer, true, {}, 0, 1000},
	      {"padding", ArgKind::String, true, {}, 0, 0},
	      {"suffix", ArgKind::Integer, true, {}, 0, 1000}},
	     true,
	     false,
	     false,
	     "keeps `prefix` leading and `suffix` trailing characters, pads between"},
	    Fake("fake_first_name", "a realistic first name"),
	    Fake("fake_last_name", "a realistic last name"),
	    Fake("fake_email", "a realistic e-mail address on a reserved domain"),
	    Fake("fake_phone", "a realistic phone number in a fictional range"),
	    Fake("fake_city", "a real city name"),
	    Fake("fake_address", "a realistic street address"),
	    Fake("fake_company", "a realistic company name"),
	    {"noise",
	     kNumbers,
	     {{"ratio", ArgKind::Number, true, {}, 0, 10}},
	     false,
	     false,
	     false,
	     "adds uniform random noise of at most ratio * |value|"},
	    {"jitter",
	     kDates,
	     {{"range", ArgKind::Interval, true, {}, 0, 0}},
	     false,
	     false,
	     false,
	     "moves a date or timestamp by a random amount within +/- range"},
	    {"generalize",
	     kDates | kNumbers,
	     {{"granularity", ArgKind::Literal, true, {}, 0, 0}},
	     true,
	     true,
	     false,
	     "dates to year, month, month_day or decade; numbers down to a multiple of a step"},
	    {"ip_prefix",
	     kInet,
	     {{"bits", ArgKind::Integer, true, {}, 0, 128}},
	     true,
	     true,
	     false,
	     "keeps the network prefix of an address: 192.0.2.77 -> 192.0.2.0/24"},
	    {"nullify", kAnyCategory, {}, true, true, false, "replaces the value by NULL"},
	    {"constant",
	     kAnyCategory,
	     {{"value", ArgKind::Literal, true, {}, 0, 0}},
	     true,
	     true,
	     false,
	     "replaces the value by a constant of the column's type"},
	    {"redact",
	     kText,
	     {},
	     true,
	     true,
	     false,
	     "replaces letters by x and digits by 0, keeping punctuation and spaces"},
	};
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b)
{
	return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
		       return std::tolower(static_cast<unsigned char>(x)) ==
		              std::tolower(static_cast<unsigned char>(y));
	       });
}

size_t EditDistance(std::string_view a, std::string_view b)
{
	std::vector<size_t> row(b.size() + 1);
	for (size_t j = 0; j <= b.size(); j++)
		row[j] = j;
	for (size_t i = 1; i <= a.size(); i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= b.size(); j++) {
			size_t up = row[j];
			size_t cost = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
			                      std::tolower(static_cast<unsigned char>(b[j - 1]))
			                  ? 0
			                  : 1;
			row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
			diag = up;
		}
	}
	return row[b.size()];
}

} // namespace

const char *CategoryName(TypeCategory c)
{
	switch (c) {
	case TypeCategory::Text:
		return "text";
	case TypeCategory::Integer:
		return "integer";
	case TypeCategory::Numeric:
		return "numeric";
	case TypeCategory::Date:
		return "date";
	case TypeCategory::Timestamp:
		return "timestamp";
	case TypeCategory::Inet:
		return "inet";
	case TypeCategory::Other:
		break;
	}
	return "other";
}

const std::vector<MethodSpec> &AllMethods()
{
	static const std::vector<MethodSpec> methods = BuildMethods();
	return methods;
}

const MethodSpec *FindMethod(std::string_view name)
{
	for (const MethodSpec &m : AllMethods())
		if (EqualsIgnoreCase(m.name, name))
			return &m;
	return nullptr;
}

std::string MethodNamesFor(TypeCategory category)
{
	std::string names;
	for (const MethodSpec &m : AllMethods()) {
		if (!(m.categories & CategoryBit(category)))
			continue;
		if (!names.empty())
			names += ", ";
		names += m.name;
	}
	return names;
}

std::string SuggestMethod(std::string_view misspelled)
{
	std::string best;
	size_t best_distance = 3; /* suggest only close names */
	for (const MethodSpec &m : AllMethods()) {
		size_t d = EditDistance(misspelled, m.name);
		if (d < best_distance) {
			best_distance = d;
			best = m.name;
		}
	}
	return best;
}

} // namespace pg_retention
