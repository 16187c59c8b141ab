/*-------------------------------------------------------------------------
 *
 * column_values.cpp
 *		Rules' values tried against their column (see column_values.hpp).
 *
 *		Only PostgreSQL can tell whether 'not a date' is a date, whether a
 *		constant fits varchar(3), or whether redact's output satisfies a
 *		domain's CHECK: each value is read by the type's own input function
 *		(modifier and domain constraints included) inside a subtransaction
 *		that is always rolled back.  Domain constraints and the table's own
 *		values are read as the table's owner, under
 *		SECURITY_RESTRICTED_OPERATION with search_path = pg_catalog, pg_temp
 *		(like PostgreSQL's maintenance commands): a superuser labelling
 *		another role's table never runs that role's code with its own
 *		rights.  The methods themselves are the extension's C functions and
 *		run as the caller.  Only data errors (classes 22 and 23) count as
 *		"refused"; a cancel, a termination, resource, system and internal
 *		errors go on up; any other error leaves the rule untried (accepted;
 *		check() warns).  The values are tried as the table's owner, through
 *		the owner execution layer (owner_sql.hpp).
 *
 * IDENTIFICATION
 *		src/pg/catalog/column_values.cpp
 *-------------------------------------------------------------------------
 */
#include <exception>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "label/label_lexer.hpp"
#include "label/policy.hpp"

#include "catalog/column_values.hpp"
#include "boundary/guard.hpp"
#include "methods/method_sql.hpp"
#include "boundary/owner_sql.hpp"
#include "archive/server_key.hpp"
#include "boundary/spi_query.hpp"

extern "C" {
#include "utils/guc.h"
#include "utils/resowner.h"
}

namespace pg_retention::pg
{

namespace
{

/* What trying a value told. */
struct Tried {
	bool decided = true; /* false: an error that says nothing about the value */
	std::string refused; /* the message of the data error that refused it, or "" */
};

/*
 * Errors that must go on up: a cancel or termination (class 57), resources
 * (53), system (58) and internal (XX) errors.  Any other error but a data
 * error (22, 23) leaves the question undecided, e.g. a privilege the caller
 * lacks: the rule is then accepted, as without the probe.
 */
bool MustPropagate(int sqlerrcode)
{
	int category = ERRCODE_TO_CATEGORY(sqlerrcode);
	return category == ERRCODE_OPERATOR_INTERVENTION ||
	       category == ERRCODE_INSUFFICIENT_RESOURCES || category == ERRCODE_SYSTEM_ERROR ||
	       category == ERRCODE_INTERNAL_ERROR;
}

/*
 * Runs `work` in a subtransaction that is always rolled back, as `run_as`
 * (restricted, see the file header) when it is a valid role.
 */
template <typename Work> Tried TryRolledBack(Oid relation, Work &&work)
{
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner resowner = CurrentResourceOwner;
	PgCall([] { BeginInternalSubTransaction(NULL); });
	MemoryContextSwitchTo(context);
	Tried tried;
	std::exception_ptr pending;
	try {
		if (OidIsValid(relation))
			AsTableOwner(relation, work);
		else
			work();
	} catch (const PgError &e) {
		int code = e.edata()->sqlerrcode;
		int category = ERRCODE_TO_CATEGORY(code);
		if (MustPropagate(code))
			pending = std::current_exception();
		else if (category == ERRCODE_DATA_EXCEPTION ||
		         category == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION)
			tried.refused = e.what();
		else
			tried.decided = false;
	} catch (...) {
		pending = std::current_exception();
	}
	PgCall([] { RollbackAndReleaseCurrentSubTransaction(); });
	MemoryContextSwitchTo(context);
	CurrentResourceOwner = resowner;
	if (pending)
		std::rethrow_exception(pending);
	return tried;
}

/* Reads `text` as a value of the column's type (modifier and domain included). */
void ReadAsColumnValue(const ColumnInfo &column, const std::string &text)
{
	PgCall([&] {
		Oid input;
		Oid ioparam;
		getTypeInputInfo(column.type_oid, &input, &ioparam);
		OidInputFunctionCall(input, const_cast<char *>(text.c_str()), ioparam, column.typmod);
	});
}

/* Fixed inputs per kind of column; those the domain refuses are left out. */
std::vector<std::string> FixedSamples(TypeCategory category)
{
	switch (category) {
	case TypeCategory::Text:
		return {"alice@example.com", "Jean-Paul Dupont", "+33 6 12 34 56 78", "AB-1234"};
	case TypeCategory::Integer:
		return {"42", "7", "-7", "123456"};
	case TypeCategory::Numeric:
		return {"1234.56", "0.5", "-3"};
	case TypeCategory::Date:
		return {"1988-02-29", "2024-07-14"};
	case TypeCategory::Timestamp:
		return {"1988-02-29 13:45:00", "2024-07-14 08:00:00"};
	case TypeCategory::Inet:
		return {"192.0.2.77", "2001:db8::1"};
	case TypeCategory::Other:
		break;
	}
	return {};
}

/* The constant must read as a value of the column. */
void CheckConstant(const DeclaredTable &table, const DeclaredColumn &c, const char *clause,
                   const MethodCall &call, Oid owner)
{
	const std::string &text = call.args.at(0).text;
	std::string refused = TryRolledBack(owner, [&] { ReadAsColumnValue(c.info, text); }).refused;
	if (refused.empty())
		return;
	throw Error(ErrorKind::DatatypeMismatch,
	            call.ToString() + " does not fit column \"" + c.info.facts.name + "\" of " +
	                table.info.qualified + " of type " + c.info.facts.type_name,
	            std::string("\"") + clause + "\" would write " + LabelString(text) +
	                ", which the column refuses: " + refused + ".",
	            "write a value that SELECT " + LabelString("...") + "::" + c.info.facts.type_name +
	                " accepts");
}

/*
 * A method on a domain with CHECK constraints: its values on samples must
 * pass them.  Returns false when no sample could be tried.
 */
bool CheckDomainOutputs(const DeclaredTable &table, const DeclaredColumn &c, const char *clause,
                        const MethodCall &call, Oid owner)
{
	bool tried = false;
	const std::string column_sql = QuoteIdent(c.info.facts.name);
	std::vector<std::string> samples = FixedSamples(c.info.facts.category);
	const size_t fixed = samples.size();
	TryRolledBack(owner, [&] {
		SqlResult rows = OwnerSql(table.info.relid, "SELECT " + column_sql + "::text FROM " +
		                                                table.info.qualified + " WHERE " +
		                                                column_sql + " IS NOT NULL LIMIT 5");
		for (const SqlRow &row : rows.rows)
			if (!row.empty() && row[0])
				samples.push_back(*row[0]);
	});

	ColumnInfo base = c.info;
	base.type_oid = PgCall([&] { return getBaseType(c.info.type_oid); });
	const std::string base_type = PgCall([&] { return format_type_be(base.type_oid); });
	const std::string expression = MethodSql(call, "$1::" + base_type, base);
	for (size_t i = 0; i < samples.size(); i++) {
		const std::string &sample = samples[i];
		Tried input = TryRolledBack(owner, [&] { ReadAsColumnValue(c.info, sample); });
		if (!input.decided || !input.refused.empty())
			continue; /* not a value of the column: says nothing about the method */
		SqlValue output;
		Tried method = TryRolledBack(InvalidOid, [&] {
			/* as the owner: a keyed method needs the engine's capability */
			output =
			    OwnerSql(table.info.relid, "SELECT (" + expression + ")::text", {sample}).Scalar();
		});
		if (!method.decided || !method.refused.empty() || !output)
			continue;
		Tried result = TryRolledBack(owner, [&] { ReadAsColumnValue(c.info, *output); });
		tried = tried || result.decided;
		const std::string &refused = result.refused;
		if (refused.empty())
			continue;
		/* the table's own values are personal data: never quote them */
		std::string example = i < fixed ? "turns " + LabelString(sample) + " into " +
		                                      LabelString(*output) + ", a value"
		                                : "turns one of the column's own values into a value";
		throw Error(ErrorKind::DatatypeMismatch,
		            "method \"" + std::string(call.spec->name) + "\" does not fit column \"" +
		                c.info.facts.name + "\" of " + table.info.qualified + " of type " +
		                c.info.facts.type_name,
		            std::string("\"") + clause + "\" uses " + call.ToString() + ", which " +
		                example + " the column refuses: " + refused + ".",
		            "choose a method whose values satisfy the domain's constraints, or "
		            "constant(...) with a valid value");
	}
	return tried;
}

} // namespace

std::vector<std::string> CheckDeclaredValues(const DeclaredTable &table, AttrNumber only)
{
	std::vector<std::string> untried;
	const Oid owner = table.info.relid; /* the values are tried as its owner */
	/* the catalogs as they are now: ALTER DOMAIN does not invalidate the policy cache */
	const TableInfo now = LoadTableInfo(table.info.relid);
	for (const DeclaredColumn &declared : table.columns) {
		const ColumnInfo *current = now.FindColumn(declared.info.attnum);
		if (current == nullptr || (only != InvalidAttrNumber && declared.info.attnum != only))
			continue;
		DeclaredColumn c = declared;
		c.info = *current;
		const std::pair<const char *, const std::optional<MethodCall> *> methods[] = {
		    {"minimize to", &c.policy.minimize}, {"anonymize after", &c.policy.anonymize_using}};
		for (const auto &[clause, method] : methods) {
			if (!*method)
				continue;
			const std::string name = (*method)->spec->name;
			const bool constant = name == "constant";
			if (name == "nullify" || (!constant && !c.info.facts.domain_checks) ||
			    ((*method)->spec->needs_key && !ServerKeyLoaded()))
				continue;
			if (constant)
				CheckConstant(table, c, clause, **method, owner);
			else if (!CheckDomainOutputs(table, c, clause, **method, owner))
				untried.push_back(c.info.facts.name);
		}
	}
	return untried;
}

} // namespace pg_retention::pg
