/*-------------------------------------------------------------------------
 *
 * spi_query.cpp
 *		Parameterized SPI for C++ callers (see spi_query.hpp).
 *
 * IDENTIFICATION
 *		src/pg/spi_query.cpp
 *-------------------------------------------------------------------------
 */
#include <string>
#include <vector>

#include "guard.hpp"
#include "spi_query.hpp"

namespace pg_retention::pg
{

namespace
{

/* What the SPI call hands back, allocated in the caller's memory context. */
struct RawResult {
	uint64 processed;
	int nrows;
	int ncols;
	char **cells; /* nrows * ncols, NULL for SQL NULL */
};

} // namespace

SqlResult Sql(const std::string &sql, const std::vector<SqlValue> &params, bool read_only)
{
	int nargs = static_cast<int>(params.size());
	std::vector<const char *> texts(params.size());
	std::string nulls(params.size(), ' ');
	for (size_t i = 0; i < params.size(); i++) {
		texts[i] = params[i] ? params[i]->c_str() : nullptr;
		if (!params[i])
			nulls[i] = 'n';
	}
	RawResult raw = PgCall([&] {
		MemoryContext caller = CurrentMemoryContext;
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		Oid *types = static_cast<Oid *>(palloc(sizeof(Oid) * (nargs + 1)));
		Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * (nargs + 1)));
		for (int i = 0; i < nargs; i++) {
			types[i] = TEXTOID;
			values[i] = texts[i] ? CStringGetTextDatum(texts[i]) : (Datum)0;
		}
		/*
		 * read_only would reuse the current snapshot and miss this
		 * transaction's own earlier changes (a dry run makes them all in
		 * one transaction): every statement takes a fresh one.
		 */
		(void)read_only;
		int rc = SPI_execute_with_args(sql.c_str(), nargs, types, values, nulls.c_str(), false, 0);
		if (rc < 0)
			elog(ERROR, "pg_retention: SPI failed (%s) running: %s", SPI_result_code_string(rc),
			     sql.c_str());
		RawResult r{SPI_processed, 0, 0, nullptr};
		if (SPI_tuptable != NULL) {
			r.nrows = (int)SPI_processed;
			r.ncols = SPI_tuptable->tupdesc->natts;
			r.cells = static_cast<char **>(
			    MemoryContextAllocZero(caller, sizeof(char *) * (r.nrows * r.ncols + 1)));
			for (int i = 0; i < r.nrows; i++)
				for (int j = 0; j < r.ncols; j++) {
					char *v = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, j + 1);
					r.cells[i * r.ncols + j] = v ? MemoryContextStrdup(caller, v) : NULL;
				}
		}
		SPI_finish();
		return r;
	});
	SqlResult result;
	result.processed = static_cast<int64_t>(raw.processed);
	for (int i = 0; i < raw.nrows; i++) {
		SqlRow row;
		for (int j = 0; j < raw.ncols; j++) {
			char *v = raw.cells[i * raw.ncols + j];
			row.push_back(v ? SqlValue(v) : SqlValue());
		}
		result.rows.push_back(std::move(row));
	}
	PgCall([&] {
		for (int i = 0; i < raw.nrows * raw.ncols; i++)
			if (raw.cells[i] != NULL)
				pfree(raw.cells[i]);
		if (raw.cells != NULL)
			pfree(raw.cells);
	});
	return result;
}

} // namespace pg_retention::pg
