/*-------------------------------------------------------------------------
 *
 * methods.cpp
 *		The table of anonymization methods (see methods.hpp).
 *
 * IDENTIFICATION
 *		src/core/anon/methods.cpp
 *-------------------------------------------------------------------------
 */
#include "anon/methods.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "base/error.hpp"
#include "label/label_lexer.hpp"

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

std::string FormatBound(double value)
{
	char buf[32];
	std::snprintf(buf, sizeof(buf), "%g", value);
	return buf;
}

std::string BetweenBounds(const ParamSpec &param)
{
	return "must be between " + FormatBound(param.min_value) + " and " +
	       FormatBound(param.max_value);
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

std::string MethodUsage(const MethodSpec &spec)
{
	if (spec.params.empty())
		return std::string(spec.name) + " takes no arguments";
	std::string usage = std::string(spec.name) + " takes ";
	for (size_t i = 0; i < spec.params.size(); i++) {
		const ParamSpec &p = spec.params[i];
		std::string what;
		switch (p.kind) {
		case ArgKind::Integer:
		case ArgKind::Number:
			what = std::string(p.kind == ArgKind::Integer ? "integer " : "number ") +
			       FormatBound(p.min_value) + " to " + FormatBound(p.max_value);
			break;
		case ArgKind::String:
			what = "string";
			break;
		case ArgKind::Identifier:
			what = OneOf(std::vector<std::string>(p.choices.begin(), p.choices.end()));
			break;
		case ArgKind::Interval:
			what = "delay";
			break;
		case ArgKind::Literal:
			what = "string, number or name";
			break;
		}
		usage += (i == 0 ? "" : ", ") + std::string(p.name) + " (" + what +
		         (p.required ? "" : ", optional") + ")";
	}
	return usage;
}

std::string IntegerProblem(const ParamSpec &param, int64_t value)
{
	if (static_cast<double>(value) < param.min_value ||
	    static_cast<double>(value) > param.max_value)
		return BetweenBounds(param);
	return {};
}

std::string NumberProblem(const ParamSpec &param, double value)
{
	/* NaN fails both comparisons: test for being inside */
	if (!(value >= param.min_value && value <= param.max_value))
		return BetweenBounds(param);
	return {};
}

const char *FindChoice(const ParamSpec &param, std::string_view word)
{
	for (const char *choice : param.choices)
		if (EqualsIgnoreCase(choice, word))
			return choice;
	return nullptr;
}

std::string ArgumentMessage(const MethodSpec &spec, const ParamSpec &param,
                            const std::string &problem)
{
	return "argument \"" + std::string(param.name) + "\" of method \"" + spec.name + "\" " +
	       problem;
}

ArgumentCheck::ArgumentCheck(std::string_view method, std::string_view param)
    : spec_(FindMethod(method)), param_(nullptr)
{
	if (spec_ == nullptr)
		throw Error(ErrorKind::Internal,
		            "method \"" + std::string(method) + "\" is not in the table");
	for (const ParamSpec &p : spec_->params)
		if (param == p.name)
			param_ = &p;
	if (param_ == nullptr)
		throw Error(ErrorKind::Internal, "method \"" + std::string(method) +
		                                     "\" has no parameter \"" + std::string(param) + "\"");
}

void ArgumentCheck::Fail(const std::string &problem) const
{
	throw Error(ErrorKind::InvalidParameterValue, ArgumentMessage(*spec_, *param_, problem), "",
	            MethodUsage(*spec_));
}

void ArgumentCheck::Integer(int64_t value) const
{
	std::string problem = IntegerProblem(*param_, value);
	if (!problem.empty())
		Fail(problem);
}

void ArgumentCheck::Number(double value) const
{
	std::string problem = NumberProblem(*param_, value);
	if (!problem.empty())
		Fail(problem);
}

const char *ArgumentCheck::Choice(std::string_view word) const
{
	const char *choice = FindChoice(*param_, word);
	if (choice == nullptr)
		Fail("cannot be \"" + std::string(word) + "\"");
	return choice;
}

} // namespace pg_retention
