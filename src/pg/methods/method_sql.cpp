/*-------------------------------------------------------------------------
 *
 * method_sql.cpp
 *		Declared methods as SQL expressions (see method_sql.hpp).
 *
 * IDENTIFICATION
 *		src/pg/methods/method_sql.cpp
 *-------------------------------------------------------------------------
 */
#include <string>

#include "base/error.hpp"

#include "boundary/guard.hpp"
#include "methods/method_sql.hpp"
#include "boundary/owner_sql.hpp"

namespace pg_retention::pg
{

namespace
{

/* The SQL text of one argument, as a literal or a number. */
std::string ArgumentSql(const MethodArg &arg)
{
	switch (arg.kind) {
	case ArgKind::Integer:
		return std::to_string(arg.integer);
	case ArgKind::Number:
		return arg.text.empty() ? std::to_string(arg.number) : arg.text;
	case ArgKind::Interval:
		return QuoteLiteral(arg.interval.ToPgInterval()) + "::interval";
	case ArgKind::String:
	case ArgKind::Identifier:
	case ArgKind::Literal:
		break;
	}
	return QuoteLiteral(arg.text);
}

bool IsFake(const std::string &name)
{
	return name.rfind("fake_", 0) == 0;
}

} // namespace

std::string QuoteLiteral(const std::string &value)
{
	const char *quoted = PgCall([&] { return quote_literal_cstr(value.c_str()); });
	return quoted;
}

std::string MethodSql(const MethodCall &method, const std::string &column_sql,
                      const ColumnInfo &column)
{
	std::string name = method.spec->name;
	const std::vector<MethodArg> &args = method.args;
	std::string type = PgCall([&] { return format_type_be(column.type_oid); });

	if (name == "nullify")
		return "NULL::" + type;
	if (name == "constant")
		return QuoteLiteral(args.at(0).text) + "::" + type;
	if (IsFake(name)) {
		std::string locale = args.size() > 0 ? QuoteLiteral(args[0].text) : "'en'";
		bool random = args.size() > 1 && args[1].text == "random";
		if (random)
			return "retention.random_" + name.substr(5) + "(" + locale + ")";
		/* the keyed entry point: a table owner has no EXECUTE on fake_* (owner_sql.hpp) */
		return "retention._rule_" + name + "(" + column_sql + "::text, " + locale + ", " +
		       kCapabilityParam + ")::" + type;
	}
	if (name == "hash") {
		std::string encoding = args.size() > 0 ? ArgumentSql(args[0]) : "'hex'";
		std::string length = args.size() > 1 ? ArgumentSql(args[1]) : "NULL::integer";
		return "retention._rule_hash(" + column_sql + "::text, " + encoding + ", " + length + ", " +
		       kCapabilityParam + ")::" + type;
	}
	if (name == "generalize") {
		const MethodArg &g = args.at(0);
		bool dates = column.facts.category == TypeCategory::Date ||
		             column.facts.category == TypeCategory::Timestamp;
		std::string arg = dates ? QuoteLiteral(g.text) : "(" + g.text + ")::" + type;
		return "retention.generalize(" + column_sql + ", " + arg + ")::" + type;
	}
	std::string sql = "retention." + name + "(" + column_sql;
	if (column.facts.category == TypeCategory::Text)
		sql += "::text";
	for (const MethodArg &arg : args)
		sql += ", " + ArgumentSql(arg);
	return sql + ")::" + type;
}

} // namespace pg_retention::pg
