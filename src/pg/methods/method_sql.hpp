/*-------------------------------------------------------------------------
 *
 * method_sql.hpp
 *		A declared method as a SQL expression over a column, e.g.
 *		retention.hash("email") or retention.generalize("born", 'month_day'),
 *		for set-based statements (minimize_existing, the lifecycle).  Values
 *		from labels become quoted literals of the right type.
 *
 * IDENTIFICATION
 *		src/pg/methods/method_sql.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <string>

#include "label/policy.hpp"

#include "catalog/catalog.hpp"

namespace pg_retention::pg
{

/* The expression applying `method` to `column` (already quoted). */
std::string MethodSql(const MethodCall &method, const std::string &column_sql,
                      const ColumnInfo &column);

/* A SQL string literal: 'it''s'. */
std::string QuoteLiteral(const std::string &value);

} // namespace pg_retention::pg
