/*-------------------------------------------------------------------------
 *
 * lifecycle_sql.cpp
 *		SQL fragments of the lifecycle stages (see lifecycle_sql.hpp).
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/lifecycle_sql.cpp
 *-------------------------------------------------------------------------
 */
#include <string>

#include "catalog/catalog.hpp"
#include "lifecycle/lifecycle_sql.hpp"
#include "methods/method_sql.hpp"
#include "boundary/spi_query.hpp"

namespace pg_retention::pg
{

namespace
{

std::string Qualify(const std::string &alias, const std::string &column)
{
	return alias.empty() ? QuoteIdent(column) : alias + "." + QuoteIdent(column);
}

/* "a = b AND c = d" over two aliases and column lists. */
std::string JoinCondition(const std::string &left, const std::vector<std::string> &left_columns,
                          const std::string &right, const std::vector<std::string> &right_columns)
{
	std::string sql;
	for (size_t i = 0; i < left_columns.size(); i++) {
		if (i > 0)
			sql += " AND ";
		sql += Qualify(left, left_columns[i]) + " = " + Qualify(right, right_columns[i]);
	}
	return sql;
}

/* The text of a key: k::text, or ROW(k1, k2)::text for a composite key. */
std::string KeyText(const std::string &alias, const std::vector<std::string> &columns)
{
	if (columns.size() == 1)
		return Qualify(alias, columns[0]) + "::text";
	std::string sql = "ROW(";
	for (size_t i = 0; i < columns.size(); i++)
		sql += (i > 0 ? ", " : "") + Qualify(alias, columns[i]);
	return sql + ")::text";
}

} // namespace

std::string KeysetColumns(const Target &t, const std::string &alias)
{
	std::string sql = "(" + (alias.empty() ? t.age_sql : alias + "." + t.age_sql);
	for (const std::string &k : t.key)
		sql += ", " + Qualify(alias, k);
	return sql + ")";
}

std::string KeysetParams(const Target &t, int first)
{
	std::string sql = "($" + std::to_string(first) + "::" + t.age_type;
	for (size_t i = 0; i < t.key.size(); i++)
		sql += ", $" + std::to_string(first + 1 + i) + "::" + t.key_types[i];
	return sql + ")";
}

std::string KeyArrayParams(const Target &t, const std::vector<SqlRow> &rows,
                           std::vector<SqlValue> &p)
{
	std::string arrays;
	for (size_t i = 0; i < t.key.size(); i++) {
		std::vector<SqlValue> column;
		column.reserve(rows.size());
		for (const SqlRow &row : rows)
			column.push_back(row.at(i));
		p.push_back(ArrayLiteral(column));
		arrays += (i > 0 ? ", $" : "$") + std::to_string(p.size()) + "::" + t.key_types[i] + "[]";
	}
	return arrays;
}

std::string NotBlocked(const Target &t, const std::string &alias)
{
	std::string sql;
	for (const IncomingKey &k : t.blockers)
		sql += " AND NOT EXISTS (SELECT 1 FROM " + k.child_qualified + " c WHERE " +
		       JoinCondition("c", k.child_columns, alias, k.parent_columns) + ")";
	return sql;
}

std::string SubjectIdSql(const Target &t, const std::string &alias)
{
	const SubjectPath &p = t.path;
	if (p.subject.empty() || !p.problem.empty())
		return "NULL::text";
	if (p.hops.empty())
		return KeyText(alias, p.key_columns);
	/* walk the hops: a chain of scalar subqueries from the row up to the subject table */
	const SubjectHop &last = p.hops.back();
	if (p.hops.size() == 1 && last.parent_columns == p.key_columns)
		return KeyText(alias, last.child_columns);
	std::string from;
	std::string where;
	std::string previous = alias;
	for (size_t i = 0; i < p.hops.size(); i++) {
		const SubjectHop &hop = p.hops[i];
		std::string a = "h" + std::to_string(i);
		std::string parent = LoadTableInfo(hop.parent_relid).qualified;
		from += (i > 0 ? ", " : "") + parent + " " + a;
		where += (i > 0 ? " AND " : "") +
		         JoinCondition(previous, hop.child_columns, a, hop.parent_columns);
		previous = a;
	}
	return "(SELECT " + KeyText(previous, p.key_columns) + " FROM " + from + " WHERE " + where +
	       ")";
}

std::vector<UpdateTrigger> BeforeUpdateTriggers(Oid relid, const std::string &age_column)
{
	/* tgtype bits: ROW 1, BEFORE 2, UPDATE 16 */
	SqlResult r =
	    Sql("SELECT tg.tgname::text, tg.tgfoid::regprocedure::text, "
	        "  (l.lanname NOT IN ('plpgsql', 'sql') OR "
	        "   pg_catalog.strpos(pg_catalog.lower(p.prosrc), pg_catalog.lower($2)) > 0)::text "
	        "FROM pg_catalog.pg_trigger tg JOIN pg_catalog.pg_proc p ON p.oid = tg.tgfoid "
	        "JOIN pg_catalog.pg_language l ON l.oid = p.prolang "
	        "WHERE tg.tgrelid = $1::oid AND NOT tg.tgisinternal AND tg.tgenabled <> 'D' "
	        "AND (tg.tgtype::int & 19) = 19 AND tg.tgname NOT IN ('retention_write', "
	        "'retention_minimize') ORDER BY tg.tgname",
	        {std::to_string(relid), age_column});
	std::vector<UpdateTrigger> triggers;
	for (const SqlRow &row : r.rows)
		triggers.push_back(
		    UpdateTrigger{row[0].value(), row[1].value(), row[2] == SqlValue("true")});
	return triggers;
}

std::string DescribeAgeTriggers(const std::vector<UpdateTrigger> &triggers)
{
	bool any_may = false;
	for (const UpdateTrigger &t : triggers)
		any_may = any_may || t.may_assign_age;
	std::string text;
	for (const UpdateTrigger &t : triggers)
		if (t.may_assign_age || !any_may)
			text +=
			    (text.empty() ? "" : ", ") + QuoteIdent(t.name) + " (function " + t.function + ")";
	return text.empty() ? "none found (a rule or a trigger that was dropped since)" : text;
}

} // namespace pg_retention::pg
