/*-------------------------------------------------------------------------
 *
 * result_set.hpp
 *		Returning rows from C++ to SQL: set-returning functions fill a
 *		ResultSet with plain C++ values, converted to the column types the
 *		SQL declaration gives (text, name, regclass, interval, integers...).
 *
 * IDENTIFICATION
 *		src/pg/boundary/result_set.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "label/policy.hpp"

#include "boundary/pg_headers.hpp"

namespace pg_retention::pg
{

/* A cell: NULL, text, an OID (regclass), a delay (interval), an integer, a boolean. */
using Value = std::variant<std::monostate, std::string, Oid, Delay, int64_t, bool, double>;

class ResultSet
{
public:
	/* Sets up a materialized result for the calling SRF. */
	explicit ResultSet(FunctionCallInfo fcinfo);
	/* Appends one row; values are in the declared column order. */
	void Add(const std::vector<Value> &row);

private:
	Tuplestorestate *store_;
	TupleDesc desc_;
};

/* std::optional<std::string> as a Value (NULL when empty). */
template <typename T> Value Nullable(const std::optional<T> &v)
{
	return v ? Value(*v) : Value();
}

} // namespace pg_retention::pg
