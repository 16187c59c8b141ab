/*-------------------------------------------------------------------------
 *
 * policy.hpp
 *		The policy model: what a retention label declares, once parsed.
 *
 *		A table label declares the subject, the age column and the row-level
 *		stages (archive, purge, on forget); a column label declares the
 *		value-level stages (minimize, anonymize, purge).  Parsing is pure:
 *		the glue supplies catalog facts (TableFacts) for validation.
 *		The grammar is documented in docs/labels.md.
 *
 * IDENTIFICATION
 *		src/core/label/policy.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anon/methods.hpp"
#include "base/cpp_only.hpp"

namespace pg_retention
{

/*
 * A delay as declared: years fold into months, weeks into days, exactly
 * like a PostgreSQL interval without a time part.
 */
struct Delay {
	int32_t months = 0;
	int32_t days = 0;

	bool IsPositive() const { return months > 0 || days > 0; }
	/* Canonical label text, also a valid PostgreSQL interval: "2 years 3 months 10 days". */
	std::string ToString() const;
	/* Text for a `$1::interval` parameter: "27 months 10 days". */
	std::string ToPgInterval() const;
	bool operator==(const Delay &o) const { return months == o.months && days == o.days; }
};

/* True when `a` is never longer than `b`, whatever the start date (see delay.cpp). */
bool DelayAtMost(const Delay &a, const Delay &b);

/*
 * Parses "2 years", "1 year 6 months", "90 days", "2 weeks" (the delay
 * syntax of labels); throws Error as ParseTableLabel does.
 */
Delay ParseDelay(std::string_view text);

/*
 * The checks ReadDelay makes on a delay in a label, for an interval given
 * to a SQL function (jitter's range): no negative part, a positive total,
 * at most 1000 years.  `clause` names it as in labels.  Throws
 * Error(InvalidParameterValue) with the messages labels give.
 */
void CheckDelayParts(int64_t months, int64_t days, int64_t micros, std::string_view clause);

struct MethodArg {
	/*
	 * The kind as written: never Literal, a Literal parameter's argument is
	 * an Integer, Number, String or Identifier (the glue checks it against
	 * the column type).
	 */
	ArgKind kind = ArgKind::Integer;
	std::string text; /* as written, unquoted for strings */
	int64_t integer = 0;
	double number = 0;
	Delay interval;
};

struct MethodCall {
	const MethodSpec *spec = nullptr;
	std::vector<MethodArg> args; /* positional; missing optional params absent */

	/* Canonical text: partial(2, '*', 2) */
	std::string ToString() const;
};

/* The granularities generalize accepts on dates: year, month, month_day, decade. */
const std::vector<std::string_view> &DateGranularities();

enum class ForgetAction : uint8_t { Delete, Anonymize, Keep };
const char *ForgetActionName(ForgetAction a);

/* GDPR Art. 6(1) lawful bases. */
enum class LegalBasis : uint8_t {
	Consent,
	Contract,
	LegalObligation,
	VitalInterests,
	PublicTask,
	LegitimateInterests
};
const char *LegalBasisName(LegalBasis b);

/* Where an identifier naming a column of the table stands in the label. */
struct ColumnRef {
	size_t offset; /* byte offset of the token (quotes included) */
	size_t length; /* byte length of the token (quotes included) */
	std::string name;
};

struct SubjectClause {
	std::string subject; /* subject name, e.g. customer (case-folded unless quoted) */
	/*
	 * Identity: this table is the subject table, `columns` is its key.
	 * Belongs: rows belong to a subject; `columns` are this table's
	 * foreign-key columns leading towards it, empty = infer the path.
	 */
	enum class Role : uint8_t { Identity, Belongs } role = Role::Belongs;
	std::vector<std::string> columns;
};

struct TablePolicy {
	std::optional<SubjectClause> subject;
	std::optional<std::string> age_column;
	std::optional<Delay> archive_after;
	std::optional<Delay> purge_after;
	std::optional<ForgetAction> on_forget;
	std::optional<std::string> purpose;
	std::optional<LegalBasis> basis;
	std::vector<ColumnRef> column_refs; /* every column named, for renames */
};

struct ColumnPolicy {
	std::optional<MethodCall> minimize;
	std::optional<Delay> anonymize_after;
	std::optional<MethodCall> anonymize_using;
	std::optional<Delay> purge_after;
	std::optional<std::string> purpose;
	std::optional<LegalBasis> basis;
	bool personal = false; /* "personal": personal data with no stage of its own */
};

/*
 * Syntax, methods and their arguments; no catalog facts.  Errors are
 * Error(SyntaxError | UndefinedObject | InvalidParameterValue, or
 * InvalidObjectDefinition for a `minimize to` method that is not
 * idempotent) whose detail names the character position (1-based) and
 * quotes the label with a caret, and whose hint says what was expected.
 */
TablePolicy ParseTableLabel(std::string_view label);
ColumnPolicy ParseColumnLabel(std::string_view label);

/* Canonical label text (what `retention.policies` shows). */
std::string ToLabel(const TablePolicy &p);
std::string ToLabel(const ColumnPolicy &p);

/* How PostgreSQL fills a column itself. */
enum class Generated : uint8_t {
	No,
	Stored,        /* GENERATED ALWAYS AS (expr) STORED: never written directly */
	IdentityAlways /* GENERATED ALWAYS AS IDENTITY: UPDATE may only set DEFAULT */
};

/* Catalog facts the glue supplies for validation. */
struct ColumnFacts {
	std::string name;
	TypeCategory category = TypeCategory::Other;
	std::string type_name; /* for messages, with its modifier: "character varying(8)" */
	bool not_null = false; /* NOT NULL on the column, or on its domain */
	Generated generated = Generated::No;
	int32_t max_chars = -1;     /* varchar(n), char(n) (or a domain over one): n; else -1 */
	bool domain_checks = false; /* its type is a domain with CHECK constraints */
};

struct TableFacts {
	std::string qualified_name; /* for messages, already quoted */
	std::vector<ColumnFacts> columns;
	const ColumnFacts *Find(std::string_view column) const;
};

/*
 * Semantic checks of one table's declarations against its catalog facts:
 * age column exists and is a date/timestamp, key/via columns exist, method
 * fits the column type and has valid arguments, delays positive, stages
 * ordered (column anonymize <= column purge, column anonymize <= table
 * archive <= table purge, column purge <= table purge), archive/purge and
 * column anonymize/purge need an age column, rules that write the column
 * fit it (not generated nor identity ALWAYS, no NULL into NOT NULL, text no
 * longer than its varchar(n)).  `columns` holds the labelled
 * columns (name, policy).  Throws Error on the first problem.
 */
void ValidateTable(const TableFacts &facts, const TablePolicy *table,
                   const std::vector<std::pair<std::string, ColumnPolicy>> &columns);

/*
 * generalize's granularity for a value of `category`: a date granularity
 * word for dates and timestamps, a positive step for numbers (whole for
 * integers).  `where` names the column ("column \"born\" of t"), or is
 * empty for a direct SQL call.  Throws Error(InvalidParameterValue).
 */
void CheckGranularity(TypeCategory category, const std::string &type_name, const std::string &where,
                      const MethodArg &arg);

/*
 * The most characters `call` can write into a text column that holds at
 * most `max_chars` (the values it reads fit it too), or -1 when unbounded.
 */
int64_t MaxOutputChars(const MethodCall &call, int32_t max_chars);

/* The same checks for one column alone (used when a column label is set). */
void ValidateColumn(const TableFacts &facts, const TablePolicy *table, const std::string &column,
                    const ColumnPolicy &policy);

} // namespace pg_retention
