/*-------------------------------------------------------------------------
 *
 * policy_validate.cpp
 *		Semantic checks of parsed labels against the table's catalog facts.
 *
 *		The parser knows the grammar and the method table; this file knows
 *		the table: which columns exist and their types, and how the stages
 *		of a column fit those of its table.  The glue calls it when a label
 *		is set (and re-checks the column labels when a table label changes),
 *		so a declaration that could misbehave in the daily run is refused
 *		when it is made: that includes rules whose values cannot fit the
 *		column (writes to generated or identity columns, NULL into NOT NULL,
 *		text longer than varchar(n)).  What only PostgreSQL can decide
 *		(constants, domain CHECKs) is tried by src/pg/column_values.cpp.
 *		Stage order is decided by DelayAtMost: a pair of delays whose order
 *		depends on the start date is refused too.
 *
 * IDENTIFICATION
 *		src/core/label/policy_validate.cpp
 *-------------------------------------------------------------------------
 */
#include "label/policy.hpp"

#include <algorithm>

#include "anon/anon.hpp"
#include "base/error.hpp"
#include "label/label_lexer.hpp"
#include "base/utf8.hpp"

namespace pg_retention
{

namespace
{

const char *const kNeedsAgeHint = "declare \"age from <column>\" in the table's label";

bool IsDateCategory(TypeCategory c)
{
	return c == TypeCategory::Date || c == TypeCategory::Timestamp;
}

std::string TypeName(const ColumnFacts &column)
{
	return column.type_name.empty() ? CategoryName(column.category) : column.type_name;
}

std::string Quoted(std::string_view name)
{
	return "\"" + std::string(name) + "\"";
}

/* Date and timestamp columns, for hints about the age column. */
std::string DateColumnsHint(const TableFacts &facts)
{
	std::string names;
	for (const ColumnFacts &c : facts.columns)
		if (IsDateCategory(c.category))
			names += (names.empty() ? "" : ", ") + c.name;
	if (names.empty())
		return "add a date or timestamp column recording when the row was last relevant";
	return "date and timestamp columns of " + facts.qualified_name + ": " + names;
}

/* The column named in `clause`, or UndefinedColumn. */
const ColumnFacts &RequireColumn(const TableFacts &facts, const std::string &name,
                                 const char *clause)
{
	const ColumnFacts *column = facts.Find(name);
	if (column == nullptr)
		throw Error(ErrorKind::UndefinedColumn,
		            "column " + Quoted(name) + " named in \"" + clause + "\" does not exist",
		            "table " + facts.qualified_name + " has no column " + Quoted(name) + ".",
		            std::string_view(clause) == "age from" ? DateColumnsHint(facts) : "");
	return *column;
}

void CheckPositive(const Delay &delay, const std::string &where, const char *clause)
{
	if (!delay.IsPositive())
		throw Error(ErrorKind::InvalidParameterValue,
		            std::string("delay of \"") + clause + "\" must be positive",
		            where + " declares \"" + clause + " " + delay.ToString() + "\".");
}

/*
 * Stage `earlier` must never come after stage `later`, whatever the start
 * date; when the order depends on it the detail says so, since "1 month"
 * against "30 days" is easy to misread.
 */
void CheckOrder(const std::string &where, const char *earlier_clause, const Delay &earlier,
                const char *later_clause, const Delay &later, const char *why)
{
	if (DelayAtMost(earlier, later))
		return;
	const std::string first = std::string("\"") + earlier_clause + " " + earlier.ToString() + "\"";
	const std::string second = std::string("\"") + later_clause + " " + later.ToString() + "\"";
	const bool always = DelayAtMost(later, earlier);
	throw Error(ErrorKind::InvalidObjectDefinition, "stages out of order for " + where,
	            always ? first + " exceeds " + second + "."
	                   : first + " can exceed " + second +
	                         " for some start dates (a month is 28 to 31 days).",
	            std::string("\"") + earlier_clause + "\" must not exceed \"" + later_clause +
	                "\": " + why + ".");
}

/* The column categories a method accepts: "date or timestamp", "any". */
std::string CategoryNames(uint32_t categories)
{
	if ((categories & kAnyCategory) == kAnyCategory)
		return "any";
	std::vector<std::string> names;
	for (unsigned c = 0; c <= static_cast<unsigned>(TypeCategory::Other); c++)
		if (categories & (1u << c))
			names.push_back(CategoryName(static_cast<TypeCategory>(c)));
	return OneOf(names);
}

/*
 * A text method whose values are longer than a varchar(n) or char(n)
 * column allows would fail every run ("value too long"): hash's length is
 * known, partial's from its arguments, a fake's from its dictionaries.
 */
void CheckOutputFits(const ColumnFacts &column, const std::string &where, const MethodCall &call,
                     const char *clause)
{
	if (column.max_chars < 0 || column.category != TypeCategory::Text)
		return;
	const int64_t longest = MaxOutputChars(call, column.max_chars);
	if (longest <= column.max_chars)
		return;
	const std::string name = call.spec->name;
	throw Error(
	    ErrorKind::StringDataRightTruncation,
	    "method " + Quoted(name) + " does not fit " + where + " of type " + TypeName(column),
	    std::string("\"") + clause + "\" uses " + call.ToString() + ", whose values can have " +
	        std::to_string(longest) + " characters; the column holds at most " +
	        std::to_string(column.max_chars) + ".",
	    name != "hash"         ? "widen the column, or choose a method with shorter values"
	    : column.max_chars < 8 ? "pseudonyms have at least 8 characters: widen the column, or use "
	                             "redact or constant(...)"
	                           : "truncate the pseudonym with hash(hex, " +
	                                 std::to_string(std::min<int32_t>(column.max_chars, 64)) +
	                                 "), or widen the column");
}

/*
 * Rules that write the column (minimize, anonymize, value purge) cannot
 * apply where PostgreSQL writes it itself, nor set NULL where NULL is not
 * allowed: every run would fail.  Reading it (age from) is fine.
 */
void CheckWritable(const ColumnFacts &column, const std::string &where, const char *clause)
{
	if (column.generated == Generated::Stored)
		throw Error(ErrorKind::InvalidObjectDefinition,
		            where + " is a generated column: \"" + clause + "\" cannot write it",
		            "PostgreSQL computes its value from other columns (GENERATED ALWAYS AS ... "
		            "STORED) and refuses any other.",
		            "declare the rule on the columns it is computed from");
	if (column.generated == Generated::IdentityAlways)
		throw Error(ErrorKind::InvalidObjectDefinition,
		            where + " is an identity column: \"" + clause + "\" cannot write it",
		            "PostgreSQL refuses to update a column GENERATED ALWAYS AS IDENTITY.",
		            "declare it GENERATED BY DEFAULT AS IDENTITY, or leave it without rules");
}

/* nullify and value purge set NULL, which a NOT NULL column or domain refuses. */
void CheckNullable(const ColumnFacts &column, const std::string &where, const char *clause,
                   const char *detail)
{
	if (!column.not_null)
		return;
	throw Error(ErrorKind::InvalidObjectDefinition,
	            where + " is NOT NULL: \"" + clause + "\" would set it to NULL", detail,
	            "drop the NOT NULL constraint, or replace the value with \"anonymize after "
	            "<delay> using constant(...)\" or \"using redact\"");
}

/* The method must accept the column's type, and its arguments fit it. */
void CheckMethodFits(const ColumnFacts &column, const std::string &where, const MethodCall &call,
                     const char *clause)
{
	const MethodSpec &spec = *call.spec;
	if (!(spec.categories & CategoryBit(column.category)))
		throw Error(ErrorKind::DatatypeMismatch,
		            "method " + Quoted(spec.name) + " does not fit " + where + " of type " +
		                TypeName(column),
		            std::string("\"") + clause + "\" uses " + spec.name + ", which applies to " +
		                CategoryNames(spec.categories) + " columns.",
		            std::string("methods for ") + CategoryName(column.category) +
		                " columns: " + MethodNamesFor(column.category));
	if (std::string_view(spec.name) == "generalize" && !call.args.empty())
		CheckGranularity(column.category, TypeName(column), where, call.args[0]);
	CheckOutputFits(column, where, call, clause);
}

void RequireAgeColumn(const TablePolicy *table, const std::string &where, const char *clause)
{
	if (table == nullptr || !table->age_column)
		throw Error(ErrorKind::InvalidObjectDefinition,
		            std::string("\"") + clause + "\" needs an age column",
		            where + " declares \"" + clause +
		                "\", which counts from the age column, but the table has none.",
		            kNeedsAgeHint);
}

} // namespace

const std::vector<std::string_view> &DateGranularities()
{
	static const std::vector<std::string_view> words = {"year", "month", "month_day", "decade"};
	return words;
}

void CheckGranularity(TypeCategory category, const std::string &type_name, const std::string &where,
                      const MethodArg &arg)
{
	bool valid;
	std::string expected;
	if (IsDateCategory(category)) {
		const auto &words = DateGranularities();
		valid = (arg.kind == ArgKind::Identifier || arg.kind == ArgKind::String) &&
		        std::find(words.begin(), words.end(), arg.text) != words.end();
		expected = "dates generalize to year, month, month_day or decade";
	} else if (category == TypeCategory::Integer) {
		valid = arg.kind == ArgKind::Integer && arg.integer > 0;
		expected = "integers generalize down to a multiple of a positive whole step, e.g. "
		           "generalize(10)";
	} else {
		valid = (arg.kind == ArgKind::Integer || arg.kind == ArgKind::Number) && arg.number > 0;
		expected = "numbers generalize down to a multiple of a positive step, e.g. generalize(10)";
	}
	if (!valid)
		throw Error(ErrorKind::InvalidParameterValue,
		            "invalid granularity " + Quoted(arg.text) + " for generalize on " +
		                (where.empty() ? "type " + type_name : where),
		            where.empty() ? "" : where + " is of type " + type_name + ".", expected);
}

int64_t MaxOutputChars(const MethodCall &call, int32_t max_chars)
{
	const std::string_view name = call.spec->name;
	const std::vector<MethodArg> &args = call.args;
	if (name == "hash") {
		const HashEncoding encoding =
		    args.empty() ? HashEncoding::Hex
		                 : ParseHashEncoding(args[0].text).value_or(HashEncoding::Hex);
		const int64_t full = static_cast<int64_t>(HashEncodedLength(encoding));
		return args.size() > 1 ? std::min(full, args[1].integer) : full;
	}
	if (name == "partial" && args.size() == 3) {
		/* a value longer than prefix + suffix keeps both around the padding; else padding alone */
		const int64_t kept = args[0].integer + args[2].integer;
		const int64_t padding = static_cast<int64_t>(Utf8CharCount(args[1].text));
		return max_chars > kept ? kept + padding : padding;
	}
	if (std::optional<FakeKind> kind = FakeKindFromMethod(name)) {
		const FakeLocale locale =
		    args.empty() ? FakeLocale::En : ParseFakeLocale(args[0].text).value_or(FakeLocale::En);
		return static_cast<int64_t>(FakeMaxChars(*kind, locale));
	}
	/* mask_email and redact keep the length; the others do not write text of their own */
	return name == "mask_email" || name == "redact" ? max_chars : -1;
}

const ColumnFacts *TableFacts::Find(std::string_view column) const
{
	for (const ColumnFacts &c : columns)
		if (c.name == column)
			return &c;
	return nullptr;
}

void ValidateColumn(const TableFacts &facts, const TablePolicy *table, const std::string &column,
                    const ColumnPolicy &policy)
{
	const std::string where = "column " + Quoted(column) + " of " + facts.qualified_name;
	const ColumnFacts *found = facts.Find(column);
	if (found == nullptr)
		throw Error(ErrorKind::UndefinedColumn, where + " does not exist");

	const std::pair<const char *, const std::optional<MethodCall> *> methods[] = {
	    {"minimize to", &policy.minimize}, {"anonymize after", &policy.anonymize_using}};
	for (const auto &[clause, method] : methods) {
		if (!*method)
			continue;
		CheckWritable(*found, where, clause);
		CheckMethodFits(*found, where, **method, clause);
		if (std::string_view((*method)->spec->name) == "nullify")
			CheckNullable(*found, where, clause, "nullify replaces the value by NULL");
	}

	const std::pair<const char *, const std::optional<Delay> *> stages[] = {
	    {"anonymize after", &policy.anonymize_after}, {"purge after", &policy.purge_after}};
	for (const auto &[clause, delay] : stages) {
		if (!*delay)
			continue;
		CheckPositive(**delay, where, clause);
		RequireAgeColumn(table, where, clause);
		if (*table->age_column == column)
			throw Error(ErrorKind::InvalidObjectDefinition,
			            std::string("\"") + clause + "\" cannot apply to the age column",
			            where + " is the age column of its table: changing it would change "
			                    "when every other stage of the row is due.",
			            "purge whole rows with \"purge after\" in the table's label");
	}

	if (policy.anonymize_after && policy.purge_after)
		CheckOrder(where, "anonymize after", *policy.anonymize_after, "purge after",
		           *policy.purge_after, "a value is anonymized before it is erased");
	if (table == nullptr)
		return;
	if (policy.anonymize_after && table->archive_after)
		CheckOrder(where, "anonymize after", *policy.anonymize_after, "archive after",
		           *table->archive_after, "values are anonymized while the row is live");
	if (policy.anonymize_after && table->purge_after)
		CheckOrder(where, "anonymize after", *policy.anonymize_after, "purge after",
		           *table->purge_after, "a value is anonymized before its row is purged");
	if (policy.purge_after && table->purge_after)
		CheckOrder(where, "purge after", *policy.purge_after, "purge after", *table->purge_after,
		           "a value is erased no later than its row");
	/* after the stage checks: a purge of the age column, or without one, says so first */
	if (policy.purge_after) {
		CheckWritable(*found, where, "purge after");
		CheckNullable(*found, where, "purge after",
		              "a purged value is erased by setting it to NULL");
	}
}

void ValidateTable(const TableFacts &facts, const TablePolicy *table,
                   const std::vector<std::pair<std::string, ColumnPolicy>> &columns)
{
	if (table != nullptr) {
		const std::string where = "table " + facts.qualified_name;
		if (table->age_column) {
			const ColumnFacts &age = RequireColumn(facts, *table->age_column, "age from");
			if (!IsDateCategory(age.category))
				throw Error(ErrorKind::DatatypeMismatch,
				            "age column " + Quoted(age.name) + " must be a date or timestamp",
				            "column " + Quoted(age.name) + " of " + facts.qualified_name +
				                " is of type " + TypeName(age) + ".",
				            DateColumnsHint(facts));
		}
		if (table->subject)
			for (const std::string &key : table->subject->columns)
				RequireColumn(facts, key,
				              table->subject->role == SubjectClause::Role::Identity ? "subject"
				                                                                    : "via");
		const std::pair<const char *, const std::optional<Delay> *> stages[] = {
		    {"archive after", &table->archive_after}, {"purge after", &table->purge_after}};
		for (const auto &[clause, delay] : stages) {
			if (!*delay)
				continue;
			CheckPositive(**delay, where, clause);
			RequireAgeColumn(table, where, clause);
		}
		if (table->archive_after && table->purge_after)
			CheckOrder(where, "archive after", *table->archive_after, "purge after",
			           *table->purge_after, "a row is archived before it is purged");
	}
	for (const auto &[name, policy] : columns)
		ValidateColumn(facts, table, name, policy);
}

} // namespace pg_retention
