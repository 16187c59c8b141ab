/*-------------------------------------------------------------------------
 *
 * methods.hpp
 *		The one table of anonymization methods.
 *
 *		Label validation (label_parser.cpp, policy_validate.cpp) and the SQL
 *		functions (src/pg/anon_functions.cpp, src/sql/20_methods.sql) both
 *		read this table, so a method accepted in a label is exactly a method
 *		that exists in SQL, with the same types and arguments.
 *
 * IDENTIFICATION
 *		src/core/anon/methods.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/cpp_only.hpp"

namespace pg_retention
{

/*
 * What a column's type looks like to a method.  The glue maps a type OID
 * (after resolving domains) to one of these.
 */
enum class TypeCategory : uint8_t {
	Text = 0,  /* text, varchar, bpchar, citext */
	Integer,   /* int2, int4, int8 */
	Numeric,   /* numeric, float4, float8 */
	Date,      /* date */
	Timestamp, /* timestamp, timestamptz */
	Inet,      /* inet, cidr */
	Other      /* anything else: only type-agnostic methods apply */
};

constexpr uint32_t CategoryBit(TypeCategory c)
{
	return 1u << static_cast<unsigned>(c);
}
constexpr uint32_t kAnyCategory = 0x7f;

const char *CategoryName(TypeCategory c);

/* The kind of a literal argument in a label's method call. */
enum class ArgKind : uint8_t {
	Integer,    /* 2, -3 */
	Number,     /* 0.1, 2 (an integer is also a number) */
	String,     /* '*' with SQL quoting ('' inside) */
	Identifier, /* a keyword from ParamSpec::choices, e.g. month_day, hex, fr */
	Interval,   /* 3 days, 2 weeks 1 day */
	Literal     /* a string or number whose validity the glue checks against the column type */
};

struct ParamSpec {
	const char *name;
	ArgKind kind;
	bool required;
	/* For Identifier: the allowed words; empty for other kinds. */
	std::vector<const char *> choices;
	/* For Integer/Number: inclusive bounds. */
	double min_value;
	double max_value;
};

struct MethodSpec {
	const char *name;
	uint32_t categories;           /* CategoryBit()s the method accepts */
	std::vector<ParamSpec> params; /* positional, required ones first */
	bool deterministic;            /* same input (and key) gives the same output */
	bool idempotent;               /* f(f(x)) == f(x): usable for "minimize to" */
	bool needs_key;                /* uses a key derived from the server key */
	const char *summary;           /* one line for docs and hints */
};

/* All methods, in documentation order. */
const std::vector<MethodSpec> &AllMethods();

/* The method called `name` (case-insensitive), or nullptr. */
const MethodSpec *FindMethod(std::string_view name);

/* Comma-separated names of the methods accepting `category`, for hints. */
std::string MethodNamesFor(TypeCategory category);

/* The closest method name to a misspelled one, or "" when none is close. */
std::string SuggestMethod(std::string_view misspelled);

/* How to call a method, for hints: "partial takes prefix (integer 0 to 1000), ...". */
std::string MethodUsage(const MethodSpec &spec);

/*
 * The argument checks labels and SQL functions share, so that
 * retention.ip_prefix(x, 200) fails exactly like "using ip_prefix(200)".
 * Each returns what is wrong with a value as the end of a sentence ("must
 * be between 0 and 128"), or "" when the value is valid; ArgumentMessage
 * makes the whole message ("argument \"bits\" of method \"ip_prefix\" must
 * be ...").  The label parser adds the position in the label; the SQL
 * functions throw BadArgument, with the same message and hint.
 */
std::string IntegerProblem(const ParamSpec &param, int64_t value);
std::string NumberProblem(const ParamSpec &param, double value);
/* The choice `word` names (case-insensitive), or nullptr. */
const char *FindChoice(const ParamSpec &param, std::string_view word);
std::string ArgumentMessage(const MethodSpec &spec, const ParamSpec &param,
                            const std::string &problem);

/*
 * One parameter of one method, for the SQL functions: looked up once (keep
 * it in a static), then checked per call without allocating.  The checks
 * throw Error(InvalidParameterValue) with the message and hint a label
 * gets, without the position.
 */
class ArgumentCheck
{
public:
	ArgumentCheck(std::string_view method, std::string_view param);

	const MethodSpec &spec() const { return *spec_; }
	const ParamSpec &param() const { return *param_; }
	void Integer(int64_t value) const;
	void Number(double value) const;
	/* The canonical choice `word` names. */
	const char *Choice(std::string_view word) const;
	[[noreturn]] void Fail(const std::string &problem) const;

private:
	const MethodSpec *spec_;
	const ParamSpec *param_;
};

} // namespace pg_retention
