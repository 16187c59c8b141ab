/*-------------------------------------------------------------------------
 *
 * spi_query.cpp
 *		Parameterized SPI for C++ callers (see spi_query.hpp).
 *
 *		Both entry points bind text parameters and copy the result out as
 *		text the same way; PreparedSql keeps the statement's plan for the
 *		backend's lifetime, for statements run at every call (forget,
 *		export), where planning would dominate.
 *
 * IDENTIFICATION
 *		src/pg/boundary/spi_query.cpp
 *-------------------------------------------------------------------------
 */
#include <string>
#include <unordered_map>
#include <vector>

#include "boundary/guard.hpp"
#include "boundary/owner_sql.hpp"
#include "boundary/spi_query.hpp"

extern "C" {
#include "utils/datum.h"
}

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

/*
 * The parameters as Datums of their types (text unless `types` says
 * otherwise, converted once by the type's input function) and a nulls
 * string; runs inside PgCall.
 */
void BindParams(const std::vector<SqlValue> &params, const Oid *types, const DatumParams &datums,
                Datum **values, char **nulls)
{
	int nargs = static_cast<int>(params.size());
	*values = static_cast<Datum *>(palloc(sizeof(Datum) * (nargs + 1)));
	*nulls = static_cast<char *>(palloc(nargs + 1));
	for (int i = 0; i < nargs; i++) {
		const std::optional<DatumParam> *binary =
		    static_cast<size_t>(i) < datums.size() && datums[i] ? &datums[i] : nullptr;
		(*nulls)[i] = params[i] || binary != nullptr ? ' ' : 'n';
		if (binary != nullptr)
			(*values)[i] = static_cast<Datum>((*binary)->datum);
		else if (!params[i])
			(*values)[i] = (Datum)0;
		else if (types[i] == TEXTOID)
			(*values)[i] = CStringGetTextDatum(params[i]->c_str());
		else {
			Oid input;
			Oid ioparam;
			getTypeInputInfo(types[i], &input, &ioparam);
			(*values)[i] =
			    OidInputFunctionCall(input, const_cast<char *>(params[i]->c_str()), ioparam, -1);
		}
	}
	(*nulls)[nargs] = '\0';
}

/* Fails unless SPI ran the statement; inside PgCall. */
void FailUnlessRan(int rc, const std::string &sql)
{
	if (rc < 0)
		elog(ERROR, "pg_retention: SPI failed (%s) running: %s", SPI_result_code_string(rc),
		     sql.c_str());
}

/* Copies SPI's result into `caller` and finishes SPI; runs inside PgCall. */
RawResult CopyOutAndFinish(int rc, const std::string &sql, MemoryContext caller)
{
	FailUnlessRan(rc, sql);
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
}

/* The C++ result; frees the copied cells. */
SqlResult Convert(const RawResult &raw)
{
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

/* Kept plans by statement text; dropped all at once past kMaxPlans. */
std::unordered_map<std::string, SPIPlanPtr> plans;
constexpr size_t kMaxPlans = 500;

} // namespace

std::string QuoteArrayElement(const SqlValue &value)
{
	if (!value)
		return "NULL";
	std::string out = "\"";
	for (char ch : *value) {
		if (ch == '"' || ch == '\\')
			out += '\\';
		out += ch;
	}
	return out + "\"";
}

std::string ArrayLiteral(const std::vector<SqlValue> &values)
{
	std::string out = "{";
	for (size_t i = 0; i < values.size(); i++)
		out += (i > 0 ? "," : "") + QuoteArrayElement(values[i]);
	return out + "}";
}

std::vector<SqlValue> ParseTextArray(const std::string &literal)
{
	Datum *elements = nullptr;
	bool *nulls = nullptr;
	int count = 0;
	PgCall([&] {
		/* array_in keeps state in flinfo: called through its own FmgrInfo */
		Datum array =
		    OidInputFunctionCall(F_ARRAY_IN, const_cast<char *>(literal.c_str()), TEXTOID, -1);
		deconstruct_array(DatumGetArrayTypeP(array), TEXTOID, -1, false, TYPALIGN_INT, &elements,
		                  &nulls, &count);
	});
	std::vector<SqlValue> values;
	values.reserve(count);
	for (int i = 0; i < count; i++) {
		if (nulls[i]) {
			values.emplace_back();
			continue;
		}
		const text *t = reinterpret_cast<const text *>(DatumGetPointer(elements[i]));
		values.emplace_back(std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
	}
	return values;
}

namespace detail
{

namespace
{

/* The parameters' types: a DatumParam's, else the given one, else text; inside PgCall. */
Oid *ParamTypes(const std::vector<SqlValue> &params, const std::vector<Oid> &param_types,
                const DatumParams &datums)
{
	int nargs = static_cast<int>(params.size());
	Oid *types = static_cast<Oid *>(palloc(sizeof(Oid) * (nargs + 1)));
	for (int i = 0; i < nargs; i++)
		types[i] = static_cast<size_t>(i) < datums.size() && datums[i]
		               ? datums[i]->type
		               : (i < static_cast<int>(param_types.size()) ? param_types[i] : TEXTOID);
	return types;
}

/*
 * SPI_connect, then the statement with its parameters (text unless typed),
 * its rows to `dest` when given (SPI_tuptable otherwise).  Never read_only:
 * that would reuse the current snapshot and miss this transaction's own
 * earlier changes (a dry run makes them all in one transaction), so every
 * statement takes a fresh one.  Inside PgCall.
 */
int ConnectAndExecute(const std::string &sql, const std::vector<SqlValue> &params,
                      const std::vector<Oid> &param_types, const DatumParams &datums,
                      DestReceiver *dest = nullptr)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	int nargs = static_cast<int>(params.size());
	Oid *types = ParamTypes(params, param_types, datums);
	Datum *values;
	char *nulls;
	BindParams(params, types, datums, &values, &nulls);
	if (dest == nullptr)
		return SPI_execute_with_args(sql.c_str(), nargs, types, values, nulls, false, 0);
	/* a plan of its own, not kept: the parameters' types go to its parse analysis */
	SPIPlanPtr plan = SPI_prepare(sql.c_str(), nargs, types);
	if (plan == nullptr)
		elog(ERROR, "pg_retention: SPI_prepare failed (%s) for: %s",
		     SPI_result_code_string(SPI_result), sql.c_str());
	ParamListInfo bound = makeParamList(nargs);
	for (int i = 0; i < nargs; i++) {
		bound->params[i].value = values[i];
		bound->params[i].isnull = nulls[i] == 'n';
		bound->params[i].pflags = PARAM_FLAG_CONST;
		bound->params[i].ptype = types[i];
	}
	SPIExecuteOptions options{};
	options.params = bound;
	options.dest = dest;
	return SPI_execute_plan_extended(plan, &options);
}

/* The memory context of a DatumResult's cells, in the caller's context; inside PgCall. */
MemoryContext ResultMemory(DatumResult &result)
{
	result.memory =
	    AllocSetContextCreate(CurrentMemoryContext, "pg_retention result", ALLOCSET_DEFAULT_SIZES);
	return static_cast<MemoryContext>(result.memory);
}

/*
 * A DestReceiver that gathers the one column of a statement's rows into an
 * array as they come (accumArrayResult, as array_agg does): no tuplestore,
 * no executor node per row.  Its callbacks are called by the executor and
 * report with elog (nothing of C++ is alive in their frames).
 */
struct Gatherer {
	DestReceiver receiver; /* first: the executor sees a DestReceiver */
	MemoryContext memory;
	Oid type;
	ArrayBuildState *state;
};

bool GatherRow(TupleTableSlot *slot, DestReceiver *self)
{
	auto *g = reinterpret_cast<Gatherer *>(self);
	bool isnull;
	Datum value = slot_getattr(slot, 1, &isnull);
	g->state = accumArrayResult(g->state, value, isnull, g->type, g->memory);
	return true;
}

void GatherStartup(DestReceiver *self, int, TupleDesc desc)
{
	auto *g = reinterpret_cast<Gatherer *>(self);
	if (desc->natts != 1)
		elog(ERROR, "pg_retention: a gathered statement returns %d columns, not one", desc->natts);
	g->type = TupleDescAttr(desc, 0)->atttypid;
}

void GatherNothing(DestReceiver *) {}

} // namespace

SqlResult Execute(const std::string &sql, const std::vector<SqlValue> &params,
                  const std::vector<Oid> &param_types, const DatumParams &datums)
{
	RawResult raw = PgCall([&] {
		MemoryContext caller = CurrentMemoryContext;
		return CopyOutAndFinish(ConnectAndExecute(sql, params, param_types, datums), sql, caller);
	});
	return Convert(raw);
}

SqlResult ExecutePrepared(const std::string &sql, const std::vector<SqlValue> &params)
{
	int nargs = static_cast<int>(params.size());
	auto found = plans.find(sql);
	SPIPlanPtr plan = found != plans.end() ? found->second : nullptr;
	if (plan == nullptr && plans.size() >= kMaxPlans) {
		PgCall([] {
			for (auto &entry : plans)
				SPI_freeplan(entry.second);
		});
		plans.clear();
	}
	RawResult raw{};
	try {
		raw = PgCall([&] {
			MemoryContext caller = CurrentMemoryContext;
			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			Oid *types = static_cast<Oid *>(palloc(sizeof(Oid) * (nargs + 1)));
			for (int i = 0; i < nargs; i++)
				types[i] = TEXTOID;
			if (plan == nullptr) {
				plan = SPI_prepare(sql.c_str(), nargs, types);
				if (plan == nullptr)
					elog(ERROR, "pg_retention: SPI_prepare failed (%s) for: %s",
					     SPI_result_code_string(SPI_result), sql.c_str());
				SPI_keepplan(plan);
			}
			Datum *values;
			char *nulls;
			BindParams(params, types, {}, &values, &nulls);
			int rc = SPI_execute_plan(plan, values, nulls, false, 0);
			return CopyOutAndFinish(rc, sql, caller);
		});
	} catch (...) {
		/* a plan kept before the statement failed stays usable */
		if (plan != nullptr && found == plans.end())
			plans.emplace(sql, plan);
		throw;
	}
	if (found == plans.end())
		plans.emplace(sql, plan);
	return Convert(raw);
}

DatumResult ExecuteDatums(const std::string &sql, const std::vector<SqlValue> &params,
                          const std::vector<Oid> &param_types, const DatumParams &datums)
{
	DatumResult result;
	SPITupleTable *table = nullptr;
	PgCall([&] {
		ResultMemory(result);
		FailUnlessRan(ConnectAndExecute(sql, params, param_types, datums), sql);
		result.processed = static_cast<int64_t>(SPI_processed);
		table = SPI_tuptable;
	});
	/* sized outside PgCall (a std::vector may throw), filled inside it */
	size_t rows = table != nullptr ? static_cast<size_t>(result.processed) : 0;
	size_t ncols = table != nullptr ? static_cast<size_t>(table->tupdesc->natts) : 0;
	try {
		result.types.resize(ncols);
		result.cells.resize(rows * ncols);
		result.nulls.resize(rows * ncols);
	} catch (...) {
		PgCall([] { SPI_finish(); });
		throw;
	}
	PgCall([&] {
		TupleDesc desc = table != nullptr ? table->tupdesc : nullptr;
		for (size_t j = 0; j < ncols; j++)
			result.types[j] = TupleDescAttr(desc, j)->atttypid;
		MemoryContext spi = MemoryContextSwitchTo(static_cast<MemoryContext>(result.memory));
		for (size_t i = 0; i < rows; i++)
			for (size_t j = 0; j < ncols; j++) {
				Form_pg_attribute a = TupleDescAttr(desc, j);
				bool isnull;
				Datum d = SPI_getbinval(table->vals[i], desc, static_cast<int>(j) + 1, &isnull);
				/* a column returned as stored may be compressed or toasted */
				if (!isnull && a->attlen == -1)
					d = PointerGetDatum(PG_DETOAST_DATUM_PACKED(d));
				result.nulls[i * ncols + j] = isnull;
				result.cells[i * ncols + j] =
				    isnull ? (Datum)0 : datumCopy(d, a->attbyval, a->attlen);
			}
		MemoryContextSwitchTo(spi);
		SPI_finish();
	});
	return result;
}

DatumResult ExecuteGathered(const std::string &sql, const std::vector<SqlValue> &params,
                            const std::vector<Oid> &param_types, const DatumParams &datums)
{
	DatumResult result;
	Gatherer gatherer{};
	Oid array_type = InvalidOid;
	Datum array = (Datum)0;
	PgCall([&] {
		gatherer.receiver.receiveSlot = GatherRow;
		gatherer.receiver.rStartup = GatherStartup;
		gatherer.receiver.rShutdown = GatherNothing;
		gatherer.receiver.rDestroy = GatherNothing;
		gatherer.receiver.mydest = DestNone;
		gatherer.memory = ResultMemory(result);
		FailUnlessRan(ConnectAndExecute(sql, params, param_types, datums, &gatherer.receiver), sql);
		result.processed = static_cast<int64_t>(SPI_processed);
		array_type = get_array_type(gatherer.type);
		if (gatherer.state != nullptr)
			array = makeArrayResult(gatherer.state, gatherer.memory);
		SPI_finish();
	});
	/* outside PgCall: a std::vector may throw */
	result.types = {INT8OID, array_type};
	result.cells = {Int64GetDatum(result.processed), array};
	result.nulls = {false, gatherer.state == nullptr};
	return result;
}

} // namespace detail

DatumResult::~DatumResult()
{
	/* deleting a context does not ereport */
	if (memory != nullptr)
		MemoryContextDelete(static_cast<MemoryContext>(memory));
}

DatumResult::DatumResult(DatumResult &&other) noexcept
    : processed(other.processed), types(std::move(other.types)), cells(std::move(other.cells)),
      nulls(std::move(other.nulls)), memory(other.memory)
{
	other.memory = nullptr;
}

DatumResult &DatumResult::operator=(DatumResult &&other) noexcept
{
	if (this != &other) {
		if (memory != nullptr)
			MemoryContextDelete(static_cast<MemoryContext>(memory));
		processed = other.processed;
		types = std::move(other.types);
		cells = std::move(other.cells);
		nulls = std::move(other.nulls);
		memory = other.memory;
		other.memory = nullptr;
	}
	return *this;
}

namespace
{

/* The extension's own statements: the statement guard refuses user tables in them. */
class ExtensionStatement
{
public:
	ExtensionStatement() : previous_(SwapStatementIdentity(StatementIdentity::Extension)) {}
	~ExtensionStatement() { SwapStatementIdentity(previous_); }
	ExtensionStatement(const ExtensionStatement &) = delete;
	ExtensionStatement &operator=(const ExtensionStatement &) = delete;

private:
	StatementIdentity previous_;
};

} // namespace

SqlResult Sql(const std::string &sql, const std::vector<SqlValue> &params)
{
	ExtensionStatement own;
	return detail::Execute(sql, params, std::vector<Oid>(params.size(), TEXTOID));
}

SqlResult TypedSql(const std::string &sql, const std::vector<SqlValue> &params,
                   const std::vector<Oid> &param_types)
{
	ExtensionStatement own;
	return detail::Execute(sql, params, param_types);
}

SqlResult TypedSql(const std::string &sql, const std::vector<SqlValue> &params,
                   const std::vector<Oid> &param_types, const DatumParams &datums)
{
	ExtensionStatement own;
	return detail::Execute(sql, params, param_types, datums);
}

DatumResult DatumSql(const std::string &sql, const std::vector<SqlValue> &params,
                     const std::vector<Oid> &param_types)
{
	ExtensionStatement own;
	return detail::ExecuteDatums(sql, params, param_types);
}

SqlResult PreparedSql(const std::string &sql, const std::vector<SqlValue> &params)
{
	ExtensionStatement own;
	return detail::ExecutePrepared(sql, params);
}

} // namespace pg_retention::pg
