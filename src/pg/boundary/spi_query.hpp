/*-------------------------------------------------------------------------
 *
 * spi_query.hpp
 *		Parameterized SQL from C++: every value a $n parameter (passed as
 *		text and cast in the statement), every identifier quoted by the
 *		caller, results copied out as text.  Each call connects to SPI and
 *		finishes, so callers may commit between calls.
 *
 * IDENTIFICATION
 *		src/pg/boundary/spi_query.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pg_retention::pg
{

using SqlValue = std::optional<std::string>;
using SqlRow = std::vector<SqlValue>;

struct SqlResult {
	int64_t processed = 0;
	std::vector<SqlRow> rows;

	/* The first column of the first row, or nullopt. */
	SqlValue Scalar() const { return rows.empty() || rows[0].empty() ? SqlValue() : rows[0][0]; }
	int64_t ScalarInt() const { return Scalar() ? std::stoll(*Scalar()) : 0; }
};

/*
 * A result in binary: each column's type and every cell as a Datum of that
 * type, copied into a memory context of its own (freed with the result;
 * varlenas detoasted, possibly with a short header: read them with
 * VARDATA_ANY): no output function, no text, for bulk reads such as the
 * rows an archive batch moves (OwnerDatumSql).  Cells are row-major.
 */
class DatumResult
{
public:
	DatumResult() = default;
	~DatumResult();
	DatumResult(DatumResult &&other) noexcept;
	DatumResult &operator=(DatumResult &&other) noexcept;
	DatumResult(const DatumResult &) = delete;
	DatumResult &operator=(const DatumResult &) = delete;

	size_t Rows() const { return types.empty() ? 0 : cells.size() / types.size(); }
	uintptr_t Cell(size_t row, size_t column) const { return cells[row * types.size() + column]; }
	bool IsNull(size_t row, size_t column) const { return nulls[row * types.size() + column]; }

	int64_t processed = 0;
	std::vector<unsigned int> types; /* type OIDs, one per column */
	std::vector<uintptr_t> cells;    /* Datums */
	std::vector<bool> nulls;
	void *memory = nullptr; /* the MemoryContext holding the cells */
};

/*
 * A parameter bound in binary: a Datum of `type` (a DatumResult cell, say),
 * passed as it is, with no text and no input function.  Given beside the
 * text parameters, at the index of the $n it binds (that text value is then
 * ignored); it must live until the statement has run.
 */
struct DatumParam {
	unsigned int type;
	uintptr_t datum;
};
using DatumParams = std::vector<std::optional<DatumParam>>;

/*
 * Runs `sql` with text parameters $1..$n as the extension's own identity:
 * for the extension's tables and the catalogs only (a user table goes
 * through OwnerSql, owner_sql.hpp).  Every statement takes a fresh
 * snapshot, reads included (see detail::Execute).
 */
SqlResult Sql(const std::string &sql, const std::vector<SqlValue> &params = {});

/*
 * The same with parameters of the given types (type OIDs, text values
 * converted once by the type's input function): `$2::timestamptz` then
 * costs nothing per row, where a text parameter is converted at every row.
 */
SqlResult TypedSql(const std::string &sql, const std::vector<SqlValue> &params,
                   const std::vector<unsigned int> &param_types);

/* The same with some parameters in binary (DatumParam). */
SqlResult TypedSql(const std::string &sql, const std::vector<SqlValue> &params,
                   const std::vector<unsigned int> &param_types, const DatumParams &datums);
/* TypedSql with the result in binary (DatumResult). */
DatumResult DatumSql(const std::string &sql, const std::vector<SqlValue> &params,
                     const std::vector<unsigned int> &param_types);
/* The same through a plan kept per backend: for statements run at every call. */
SqlResult PreparedSql(const std::string &sql, const std::vector<SqlValue> &params = {});

/* An element of an array literal, quoted; NULL for SQL NULL. */
std::string QuoteArrayElement(const SqlValue &value);

/* An array literal of the values, for a $n::type[] parameter: {"a","b",NULL}. */
std::string ArrayLiteral(const std::vector<SqlValue> &values);

/* The elements of a text[] literal, parsed by array_in (a NULL element is nullopt). */
std::vector<SqlValue> ParseTextArray(const std::string &literal);

namespace detail
{
/* Runs a statement with no identity handling: for Sql & co. and OwnerSql & co. only. */
SqlResult Execute(const std::string &sql, const std::vector<SqlValue> &params,
                  const std::vector<unsigned int> &param_types, const DatumParams &datums = {});
SqlResult ExecutePrepared(const std::string &sql, const std::vector<SqlValue> &params);
DatumResult ExecuteDatums(const std::string &sql, const std::vector<SqlValue> &params,
                          const std::vector<unsigned int> &param_types,
                          const DatumParams &datums = {});
/*
 * Runs a statement that returns one column (UPDATE ... RETURNING k, say)
 * and gathers its values into one array as they come, with no tuplestore:
 * one row, the rows processed (bigint) and the array of the column's type
 * (NULL when no row came).
 */
DatumResult ExecuteGathered(const std::string &sql, const std::vector<SqlValue> &params,
                            const std::vector<unsigned int> &param_types,
                            const DatumParams &datums = {});
} // namespace detail

} // namespace pg_retention::pg
