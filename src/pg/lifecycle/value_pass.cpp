/*-------------------------------------------------------------------------
 *
 * value_pass.cpp
 *		Anonymize and purge values in heap order: when most of a table is
 *		due, a value stage goes through it block range by block range, each
 *		range one committed batch (docs/lifecycle.md, "Values in heap
 *		order").  The rows due are those ahead of the stage's watermark and
 *		behind the pass's own cutoff, fixed when the pass begins.
 *
 *		An UPDATE writes a row's new version wherever there is room, maybe
 *		in a range not yet visited, and nothing in a row tells a processed
 *		value from a clear one.  What keeps every row processed exactly once:
 *		  - a range's batch changes only the versions untouched since the
 *		    pass began: written by a transaction the pass's snapshot sees as
 *		    committed (retention._untouched_since over xmin).  A version the
 *		    pass wrote, or the application wrote since, is left alone,
 *		    wherever it lands;
 *		  - the pass keeps the keys it changed (retention.value_pass_done);
 *		  - after the last range, a sweep reads the rows due whose key the
 *		    pass has not changed: the rows a range found locked, and those
 *		    the application wrote meanwhile (their new version anywhere).  A
 *		    row whose key the pass changed is left, whatever its version:
 *		    the application updated a processed row, its value is processed.
 *		    The others are changed by key, locked first, and their keys kept
 *		    (a row the write trigger queued is left to the queue).  By key,
 *		    not by transaction id: an old frozen row's raw xmin can equal a
 *		    recent id modulo 2^32, so ids cannot tell the pass's versions
 *		    from others; a range only errs on the safe side with them (it
 *		    leaves such a row to the sweep);
 *		  - when a sweep finds nothing left, the watermark moves to the
 *		    newest row due and the pass's records go, in one transaction.
 *		    A row written due after that (a backdated insert, a new clear
 *		    value) was queued by the write trigger: behind the new
 *		    watermark, the late-row queue processes it.
 *		A pass stopped anywhere resumes at the next run from its records.
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/value_pass.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "rights/forget.hpp"
#include "lifecycle/engine.hpp"
#include "lifecycle/keyset.hpp"
#include "boundary/guard.hpp"
#include "boundary/owner_sql.hpp"

extern "C" {
#include "access/transam.h"
#include "utils/fmgrprotos.h"
#include "utils/xid8.h"
}

namespace pg_retention::pg
{

/*
 * retention._untouched_since(version_xmin xid, pass pg_snapshot): whether
 * the transaction that wrote a row version is one the snapshot sees as
 * committed.  The 32-bit xmin is read in the epoch of the snapshot's xmax
 * (a pass lasts far less than 2^31 transactions: the engine checks);
 * bootstrap and frozen ids are older than any snapshot.
 */
PGR_FUNCTION(retention_untouched_since)
{
	TransactionId xmin = DatumGetTransactionId(PG_GETARG_DATUM(0));
	Datum snapshot = PG_GETARG_DATUM(1);
	if (!TransactionIdIsNormal(xmin))
		return BoolGetDatum(true);
	return PgCall([&] {
		FullTransactionId xmax =
		    DatumGetFullTransactionId(DirectFunctionCall1(pg_snapshot_xmax, snapshot));
		TransactionId xmax32 = XidFromFullTransactionId(xmax);
		if (!TransactionIdPrecedes(xmin, xmax32))
			return BoolGetDatum(false);
		uint64 behind = static_cast<uint32>(xmax32 - xmin);
		if (behind > U64FromFullTransactionId(xmax))
			return BoolGetDatum(true);
		FullTransactionId full = FullTransactionIdFromU64(U64FromFullTransactionId(xmax) - behind);
		return DirectFunctionCall2(pg_visible_in_snapshot, FullTransactionIdGetDatum(full),
		                           snapshot);
	});
}

namespace
{

/*
 * A set of strings viewed in memory that outlives it: open addressing with
 * linear probing, no allocation per element (half a million keys are built
 * and probed in tens of milliseconds).
 */
class ViewSet
{
public:
	void Reset(size_t n)
	{
		size_t capacity = 16;
		while (capacity < 2 * n)
			capacity *= 2;
		slots_.assign(capacity, std::string_view());
	}
	void Insert(std::string_view key)
	{
		for (size_t i = Home(key);; i = (i + 1) & (slots_.size() - 1)) {
			if (slots_[i].data() == nullptr) {
				slots_[i] = key;
				return;
			}
			if (slots_[i] == key)
				return;
		}
	}
	bool Contains(std::string_view key) const
	{
		for (size_t i = Home(key);; i = (i + 1) & (slots_.size() - 1)) {
			if (slots_[i].data() == nullptr)
				return false;
			if (slots_[i] == key)
				return true;
		}
	}

private:
	size_t Home(std::string_view key) const
	{
		return std::hash<std::string_view>{}(key) & (slots_.size() - 1);
	}
	std::vector<std::string_view> slots_; /* an empty slot has no data pointer */
};

/*
 * A set of 64-bit keys: a bitmap over their span when they are dense (the
 * serial keys of most tables: a bit each, probed in cache), else open
 * addressing with linear probing.
 */
class IntSet
{
public:
	void Build(const std::vector<int64_t> &keys)
	{
		bits_.clear();
		slots_.clear();
		used_.clear();
		empty_ = keys.empty();
		if (empty_)
			return;
		auto [lo, hi] = std::minmax_element(keys.begin(), keys.end());
		low_ = *lo;
		span_ = static_cast<uint64_t>(*hi) - static_cast<uint64_t>(*lo);
		dense_ = span_ / 64 <= keys.size();
		if (dense_) {
			bits_.assign(span_ / 64 + 1, 0);
			for (int64_t k : keys) {
				uint64_t at = static_cast<uint64_t>(k) - static_cast<uint64_t>(low_);
				bits_[at / 64] |= uint64_t{1} << (at % 64);
			}
			return;
		}
		size_t capacity = 16;
		while (capacity < 2 * keys.size())
			capacity *= 2;
		slots_.assign(capacity, 0);
		used_.assign(capacity, 0);
		for (int64_t k : keys) {
			size_t i = Home(k);
			while (used_[i] != 0 && slots_[i] != k)
				i = (i + 1) & (capacity - 1);
			slots_[i] = k;
			used_[i] = 1;
		}
	}
	bool Contains(int64_t k) const
	{
		if (empty_)
			return false;
		if (dense_) {
			uint64_t at = static_cast<uint64_t>(k) - static_cast<uint64_t>(low_);
			return at <= span_ && (bits_[at / 64] >> (at % 64) & 1) != 0;
		}
		for (size_t i = Home(k); used_[i] != 0; i = (i + 1) & (slots_.size() - 1))
			if (slots_[i] == k)
				return true;
		return false;
	}

private:
	size_t Home(int64_t k) const
	{
		uint64_t x = static_cast<uint64_t>(k) * 0x9E3779B97F4A7C15ULL; /* Fibonacci hashing */
		return static_cast<size_t>(x ^ (x >> 29)) & (slots_.size() - 1);
	}
	bool empty_ = true;
	bool dense_ = false;
	int64_t low_ = 0;
	uint64_t span_ = 0;
	std::vector<uint64_t> bits_;
	std::vector<int64_t> slots_;
	std::vector<uint8_t> used_;
};

/*
 * What one call site of retention._key_unkept (its fn_extra) keeps: the set
 * of the keys of the array it is called with, built at the first call.
 * The set lives in the C++ heap and is freed by a reset callback of the
 * call site's memory context.
 */
template <typename Set> struct KeptKeys {
	const void *array = nullptr; /* the argument the set was built from */
	Set keys;
	MemoryContextCallback free_keys{};

	static void Free(void *arg) noexcept { delete static_cast<KeptKeys *>(arg); }
};

/*
 * The set of a call site's kept keys, `kept` a constant of the statement:
 * built by build(set, array) at the first call (or when the array is
 * another), then reused.
 */
template <typename Set, typename Build>
const Set &SiteKeys(FunctionCallInfo fcinfo, Datum kept, Build &&build)
{
	auto *site = static_cast<KeptKeys<Set> *>(fcinfo->flinfo->fn_extra);
	if (site != nullptr && site->array == DatumGetPointer(kept))
		return site->keys;
	if (site == nullptr) {
		site = new KeptKeys<Set>();
		site->free_keys.func = KeptKeys<Set>::Free;
		site->free_keys.arg = site;
		MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;
		PgCall([&] { MemoryContextRegisterResetCallback(mcxt, &site->free_keys); });
		fcinfo->flinfo->fn_extra = site;
	}
	site->array = nullptr;
	build(site->keys, PgCall([&] { return DatumGetArrayTypeP(kept); }));
	site->array = DatumGetPointer(kept);
	return site->keys;
}

std::string_view TextView(Datum d)
{
	text *t = reinterpret_cast<text *>(DatumGetPointer(d));
	return {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)};
}

/* Calls fn(view) for each non-NULL element of a text[] (short or plain varlenas). */
template <typename Fn> void ForEachText(ArrayType *array, Fn &&fn)
{
	ArrayIterator it = PgCall([&] { return array_create_iterator(array, 0, nullptr); });
	Datum value;
	bool isnull;
	while (PgCall([&] { return array_iterate(it, &value, &isnull); }))
		if (!isnull) {
			struct varlena *v = reinterpret_cast<struct varlena *>(DatumGetPointer(value));
			if (VARATT_IS_EXTENDED(v) && !VARATT_IS_SHORT(v))
				throw Error(ErrorKind::InvalidParameterValue,
				            "retention._key_unkept takes a plain text[] of row keys");
			fn(TextView(value));
		}
}

/*
 * The integer a one-column key's text names: "{42}" is 42, as array_out
 * prints it ("{042}", "{-0}", "{+1}" or "{1,2}" name no integer key).
 */
std::optional<int64_t> IntegerKey(std::string_view key)
{
	if (key.size() < 3 || key.front() != '{' || key.back() != '}')
		return std::nullopt;
	std::string_view number = key.substr(1, key.size() - 2);
	std::string_view digits = number[0] == '-' ? number.substr(1) : number;
	if (digits.empty() || (digits[0] == '0' && (digits.size() > 1 || digits != number)))
		return std::nullopt;
	int64_t value = 0;
	auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
	if (error != std::errc() || end != number.data() + number.size())
		return std::nullopt;
	return value;
}

/* The non-NULL elements of a bigint[]. */
std::vector<int64_t> Int8Elements(ArrayType *array)
{
	if (ARR_ELEMTYPE(array) != INT8OID)
		throw Error(ErrorKind::InvalidParameterValue,
		            "retention._key_unkept takes a bigint[] of row keys");
	int n = PgCall([&] { return ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array)); });
	if (!ARR_HASNULL(array)) {
		const auto *first = reinterpret_cast<const int64_t *>(ARR_DATA_PTR(array));
		return std::vector<int64_t>(first, first + n);
	}
	std::vector<int64_t> ids;
	ArrayIterator it = PgCall([&] { return array_create_iterator(array, 0, nullptr); });
	Datum value;
	bool isnull;
	while (PgCall([&] { return array_iterate(it, &value, &isnull); }))
		if (!isnull)
			ids.push_back(DatumGetInt64(value));
	return ids;
}

} // namespace

/*
 * retention._key_unkept(row_key text, kept text[]): whether row_key is not
 * one of kept's elements (bytewise).  The sweep of a value stage's pass in
 * heap order calls it with the pass's kept keys as a constant: the set is
 * hashed once per statement, and the planner does not estimate the
 * selectivity of each element as it does for `<> ALL (array)` (half a
 * second for 500,000 keys).  An argument that is not constant for the
 * statement is searched element by element.
 */
PGR_FUNCTION(retention_key_unkept)
{
	Datum raw = PG_GETARG_DATUM(0);
	if (VARATT_IS_EXTENDED(DatumGetPointer(raw)) && !VARATT_IS_SHORT(DatumGetPointer(raw)))
		raw = PgCall([&] { return PointerGetDatum(PG_DETOAST_DATUM_PACKED(raw)); });
	std::string_view key = TextView(raw);
	Datum kept = PG_GETARG_DATUM(1);
	if (!get_fn_expr_arg_stable(fcinfo->flinfo, 1)) {
		bool found = false;
		ForEachText(PgCall([&] { return DatumGetArrayTypeP(kept); }),
		            [&](std::string_view element) { found = found || element == key; });
		return BoolGetDatum(!found);
	}
	const ViewSet &keys = SiteKeys<ViewSet>(fcinfo, kept, [&](ViewSet &set, ArrayType *array) {
		/* the copy in the call site's context: the views outlive this call */
		ArrayType *copy = PgCall([&] {
			MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
			auto *c = static_cast<ArrayType *>(palloc(VARSIZE(array)));
			memcpy(c, array, VARSIZE(array));
			MemoryContextSwitchTo(old);
			return c;
		});
		int n = PgCall([&] { return ArrayGetNItems(ARR_NDIM(copy), ARR_DIMS(copy)); });
		set.Reset(static_cast<size_t>(n));
		ForEachText(copy, [&](std::string_view element) { set.Insert(element); });
	});
	return BoolGetDatum(!keys.Contains(key));
}

/*
 * retention._key_unkept(row_key bigint, kept text[]): the same for a key
 * of one integer column, as `'{' || row_key || '}' <> ALL (kept)`, with
 * no text made for the row: the sweep of a table with such a key calls
 * this one.  The kept keys become integers once per statement (a bitmap
 * when they are dense).
 */
PGR_FUNCTION(retention_key_unkept_int)
{
	int64_t key = DatumGetInt64(PG_GETARG_DATUM(0));
	Datum kept = PG_GETARG_DATUM(1);
	if (!get_fn_expr_arg_stable(fcinfo->flinfo, 1)) {
		bool found = false;
		ForEachText(PgCall([&] { return DatumGetArrayTypeP(kept); }),
		            [&](std::string_view element) { found = found || IntegerKey(element) == key; });
		return BoolGetDatum(!found);
	}
	const IntSet &keys = SiteKeys<IntSet>(fcinfo, kept, [&](IntSet &set, ArrayType *array) {
		std::vector<int64_t> ints;
		ForEachText(array, [&](std::string_view element) {
			if (std::optional<int64_t> k = IntegerKey(element))
				ints.push_back(*k);
		});
		set.Build(ints);
	});
	return BoolGetDatum(!keys.Contains(key));
}

/*
 * retention._key_unkept(row_key bigint, kept bigint[]): the same for a key
 * of one integer column against the keys a pass kept as integers (the
 * ranges of a table with such a key keep them so: no text per row).
 */
PGR_FUNCTION(retention_key_unkept_ids)
{
	int64_t key = DatumGetInt64(PG_GETARG_DATUM(0));
	Datum kept = PG_GETARG_DATUM(1);
	if (!get_fn_expr_arg_stable(fcinfo->flinfo, 1)) {
		std::vector<int64_t> ids = Int8Elements(PgCall([&] { return DatumGetArrayTypeP(kept); }));
		return BoolGetDatum(std::find(ids.begin(), ids.end(), key) == ids.end());
	}
	const IntSet &keys = SiteKeys<IntSet>(
	    fcinfo, kept, [&](IntSet &set, ArrayType *array) { set.Build(Int8Elements(array)); });
	return BoolGetDatum(!keys.Contains(key));
}

namespace lifecycle
{

namespace
{

/*
 * Transactions a pass may last before its snapshot is no longer compared
 * with 32-bit xmins (the ranges left are then the sweep's, which checks
 * every row due against the pass's keys).
 */
constexpr int64_t kPassXidHorizon = 500000000;

SqlValue Field(const SqlResult &r, size_t column)
{
	return r.rows.empty() ? SqlValue() : r.rows[0].at(column);
}

/* Whether the primary key is one column of an integer type (not a domain over one). */
bool IntegerKeyed(const Target &t)
{
	return t.key.size() == 1 && (t.key_type_oids[0] == INT2OID || t.key_type_oids[0] == INT4OID ||
	                             t.key_type_oids[0] == INT8OID);
}

/*
 * A row's key as late_row.row_key::text, the text the pass keeps: for a
 * key of one integer column '{' || k::text || '}', the same text (array_out
 * never quotes an integer) at a third of ARRAY[k::text]::text's cost.
 */
std::string PassKey(const Target &t, const std::string &alias)
{
	if (IntegerKeyed(t))
		return "('{' || " + (alias.empty() ? "" : alias + ".") + QuoteIdent(t.key[0]) +
		       "::text || '}')";
	return RowKey(t.key, alias) + "::text";
}

/*
 * The keys every batch of the pass kept, as one array in `done`'s memory
 * (value_pass_done's row_keys and row_ids columns): for a key of one
 * integer column a bigint[] (the ranges keep such keys as integers, a
 * sweep as '{k}' texts), else a text[]; the arrays joined element by
 * element, with no executor step per key (array_agg over unnest costs a
 * quarter of a second for half a million).  Null when nothing was kept.
 */
std::optional<DatumParam> AllKeptKeys(const DatumResult &done, bool integer)
{
	auto in_memory = [&](auto &&fn) {
		return PgCall([&] {
			MemoryContext old = MemoryContextSwitchTo(static_cast<MemoryContext>(done.memory));
			auto result = fn();
			MemoryContextSwitchTo(old);
			return result;
		});
	};
	std::vector<Datum> keys; /* the text keys, or the integers' Datums */
	std::vector<int64_t> ids;
	for (size_t i = 0; i < done.Rows(); i++) {
		if (!done.IsNull(i, 1)) {
			std::vector<int64_t> batch = Int8Elements(
			    PgCall([&] { return DatumGetArrayTypeP(static_cast<Datum>(done.Cell(i, 1))); }));
			if (integer)
				ids.insert(ids.end(), batch.begin(), batch.end());
			else /* the key's column is no longer an integer: its keys as texts */
				for (int64_t id : batch) {
					std::string text = "{" + std::to_string(id) + "}";
					keys.push_back(in_memory([&] { return CStringGetTextDatum(text.c_str()); }));
				}
		}
		if (done.IsNull(i, 0))
			continue;
		Datum *elements = nullptr;
		bool *nulls = nullptr;
		int n = 0;
		in_memory([&] {
			deconstruct_array(DatumGetArrayTypeP(static_cast<Datum>(done.Cell(i, 0))), TEXTOID, -1,
			                  false, TYPALIGN_INT, &elements, &nulls, &n);
			return 0;
		});
		for (int j = 0; j < n; j++) {
			if (nulls[j])
				continue;
			if (!integer)
				keys.push_back(elements[j]);
			else if (std::optional<int64_t> id = IntegerKey(TextView(elements[j])))
				ids.push_back(*id);
		}
	}
	if (integer ? ids.empty() : keys.empty())
		return std::nullopt;
	if (integer)
		for (int64_t id : ids)
			keys.push_back(Int64GetDatum(id)); /* by value: no allocation */
	Datum all = in_memory([&] {
		ArrayType *a = integer
		                   ? construct_array(keys.data(), static_cast<int>(keys.size()), INT8OID,
		                                     sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)
		                   : construct_array(keys.data(), static_cast<int>(keys.size()), TEXTOID,
		                                     -1, false, TYPALIGN_INT);
		return PointerGetDatum(a);
	});
	Oid type = integer ? INT8ARRAYOID : TEXTARRAYOID;
	return DatumParam{type, static_cast<uintptr_t>(all)};
}

/* The rows of a text[] literal of late_row.row_key texts, as key columns. */
SqlResult KeyRows(const std::string &row_keys)
{
	SqlResult keys;
	for (SqlValue &key : ParseTextArray(row_keys))
		keys.rows.push_back(ParseTextArray(key.value()));
	keys.processed = static_cast<int64_t>(keys.rows.size());
	return keys;
}

} // namespace

std::optional<ValuePass> Engine::LoadValuePass(const Target &t, const std::string &attnum,
                                               const char *action)
{
	SqlResult r = Sql("SELECT cutoff, snapshot::text, next_block::text, end_block::text FROM "
	                  "retention.value_pass WHERE relid = $1::oid AND attnum = $2::int2 AND "
	                  "action = $3",
	                  {Str(t.leaf.relid), attnum, std::string(action)});
	if (r.rows.empty())
		return std::nullopt;
	const SqlRow &row = r.rows[0];
	return ValuePass{row[0].value(), row[1].value(), std::stoll(row[2].value()),
	                 std::stoll(row[3].value())};
}

/*
 * Whether the owner's UPDATE of a value changes exactly the rows it names
 * and nothing else of theirs: no enabled BEFORE UPDATE row trigger but the
 * write triggers (one could skip a row or move its age), no UPDATE rule, no
 * row security.  A range's batch relies on it; the sweep does not (it locks
 * and counts its rows, as the index path does).
 */
bool Engine::PlainUpdates(const Target &t)
{
	if (t.citus != CitusKind::None || t.by_key)
		return false;
	/* tgtype bits: ROW 1, BEFORE 2, UPDATE 16; rules: ev_type '2' is UPDATE */
	/* before every range: the plan is kept */
	return PreparedSql("SELECT (NOT (c.relrowsecurity OR c.relforcerowsecurity"
	                   " OR EXISTS (SELECT FROM pg_catalog.pg_rewrite w"
	                   " WHERE w.ev_class = c.oid AND w.ev_type = '2')"
	                   " OR EXISTS (SELECT FROM pg_catalog.pg_trigger g WHERE g.tgrelid = c.oid"
	                   " AND g.tgenabled <> 'D' AND (g.tgtype::int & 19) = 19"
	                   " AND g.tgname NOT IN ('retention_write', 'retention_minimize'))))::text"
	                   " FROM pg_catalog.pg_class c WHERE c.oid = $1::oid",
	                   {Str(t.leaf.relid)})
	           .Scalar() == SqlValue("true");
}

/* Begins a pass: its cutoff, the snapshot of now, the table's size in blocks. */
ValuePass Engine::BeginValuePass(const Target &t, const std::string &attnum, const char *action,
                                 const std::string &cutoff, int64_t blocks)
{
	Batch([&] {
		Sql("INSERT INTO retention.value_pass (relid, attnum, action, cutoff, snapshot, "
		    "next_block, end_block) VALUES ($1::oid, $2::int2, $3, $4, "
		    "pg_catalog.pg_current_snapshot(), 0, $5::bigint)",
		    {Str(t.leaf.relid), attnum, std::string(action), cutoff, Str(blocks)});
	});
	return *LoadValuePass(t, attnum, action);
}

/*
 * Keeps what one batch of the pass changed: its keys (late_row.row_key
 * texts), a text[] literal or, from a range, the array Datum itself (no
 * text round trip for a range's tens of thousands of keys): a text[], or
 * a bigint[] of the keys of a table keyed by one integer column.  The
 * late-row queue entries of those rows go, processed now.
 */
void Engine::KeepPassKeys(const Target &t, const std::string &attnum, const char *action,
                          const SqlValue &row_keys, const std::optional<DatumParam> &binary)
{
	if (!row_keys && !binary)
		return;
	bool ids = binary && binary->type == INT8ARRAYOID;
	TypedSql(
	    "INSERT INTO retention.value_pass_done (relid, attnum, action, row_keys, row_ids) "
	    "VALUES ($1::oid, $2::int2, $3, $4, $5)",
	    {Str(t.leaf.relid), attnum, std::string(action), ids ? SqlValue() : row_keys, SqlValue()},
	    {TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID, INT8ARRAYOID},
	    {std::nullopt, std::nullopt, std::nullopt, ids ? std::nullopt : binary,
	     ids ? binary : std::nullopt});
	/* entries queued before the pass began name rows the batch processed */
	if (PreparedSql("SELECT EXISTS (SELECT FROM retention.late_row WHERE relid = $1::oid "
	                "AND attnum = $2::int2)::text",
	                {Str(t.leaf.relid), attnum})
	        .Scalar() != SqlValue("true"))
		return;
	SqlValue keys = row_keys;
	if (!keys)
		keys =
		    TypedSql("SELECT $1::pg_catalog.text", {SqlValue()}, {binary->type}, {binary}).Scalar();
	if (!ids) {
		ForgetQueued(t, attnum, KeyRows(*keys));
		return;
	}
	SqlResult rows; /* "{1,2}": each element the one column of a key */
	for (SqlValue &id : ParseTextArray(*keys))
		rows.rows.push_back({std::move(id)});
	rows.processed = static_cast<int64_t>(rows.rows.size());
	ForgetQueued(t, attnum, rows);
}

/*
 * Runs the pass from where it stands: the ranges not yet visited, then the
 * sweep.  True when the pass ended (`mark`, the watermark, then moved);
 * false when it stopped or left rows another transaction holds (`left`
 * says which), to be resumed by the next run.
 */
bool Engine::RunValuePass(const Target &t, const ColumnInfo &column, const char *action,
                          const std::string &expression, const std::string &due, ValuePass &pass,
                          std::vector<SqlValue> &mark, StageOutcome &o, std::string &left)
{
	std::string attnum = Str(column.attnum);
	Keyset keyset(t, due, pass.cutoff, mark);
	std::vector<SqlValue> p = keyset.params();
	std::vector<Oid> types = keyset.types();
	int snapshot_param = static_cast<int>(p.size()) + 1;
	p.push_back(pass.snapshot);
	types.push_back(PG_SNAPSHOTOID);
	std::string untouched =
	    "retention._untouched_since(xmin, $" + Str(snapshot_param) + "::pg_catalog.pg_snapshot)";
	std::string set = QuoteIdent(column.facts.name) + " = " + expression;
	std::string key = PassKey(t, "");
	/* a range keeps a key of one integer column as an integer: no text per row */
	bool integer = IntegerKeyed(t);
	std::string range_key = integer ? QuoteIdent(t.key[0]) + "::pg_catalog.int8" : key;
	Oid range_keys_type = integer ? INT8ARRAYOID : TEXTARRAYOID;
	bool too_old = Sql("SELECT (pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())"
	                   "::text::bigint - pg_catalog.pg_snapshot_xmax($1::pg_catalog.pg_snapshot)"
	                   "::text::bigint > $2::bigint)::text",
	                   {pass.snapshot, Str(kPassXidHorizon)})
	                   .Scalar() == SqlValue("true");

	/* the ranges: each batch changes the untouched versions due in its blocks */
	double due_per_block =
	    std::max(static_cast<double>(o.due) / std::max<int64_t>(pass.end_block, 1), 1.0);
	int64_t most = std::max<int64_t>(static_cast<int64_t>(batch_max_rows / due_per_block), 1);
	int64_t range =
	    std::clamp<int64_t>(static_cast<int64_t>(Batcher::FirstSize() / due_per_block), 1, most);
	while (pass.next_block < pass.end_block && !too_old && !StopRequested() && PlainUpdates(t)) {
		int64_t end = std::min(pass.next_block + range, pass.end_block);
		auto batch_start = std::chrono::steady_clock::now();
		std::string rows = keyset.window() + " AND " + untouched + " AND ctid >= '(" +
		                   Str(pass.next_block) + ",0)'::pg_catalog.tid AND ctid < '(" + Str(end) +
		                   ",0)'::pg_catalog.tid";
		Batch([&] {
			bool skipped_locked = false;
			/* in binary: the keys go into value_pass_done as the text[] Datum they are */
			DatumResult r = WithoutWaiting(
			    [&](bool skip_locked) {
				    std::string which = rows;
				    if (skip_locked)
					    which = "ctid = ANY (ARRAY(SELECT ctid FROM " + t.leaf.qualified +
					            " WHERE " + rows + " FOR UPDATE SKIP LOCKED)) AND " + rows;
				    /* the keys gathered as the rows come: no CTE, no aggregate */
				    return OwnerGatheredSql(t.leaf.relid,
				                            "UPDATE " + t.leaf.qualified + " SET " + set +
				                                " WHERE " + which + " RETURNING " + range_key,
				                            p, types);
			    },
			    skipped_locked);
			if (r.Rows() != 1 || r.types != std::vector<unsigned int>{INT8OID, range_keys_type})
				throw Error(ErrorKind::Internal, "a range of the pass returned no count and keys");
			int64_t changed = DatumGetInt64(static_cast<Datum>(r.Cell(0, 0)));
			std::optional<DatumParam> keys;
			if (!r.IsNull(0, 1))
				keys = DatumParam{range_keys_type, r.Cell(0, 1)};
			KeepPassKeys(t, attnum, action, SqlValue(), keys);
			PreparedSql("UPDATE retention.value_pass SET next_block = $4::bigint WHERE relid = "
			            "$1::oid AND attnum = $2::int2 AND action = $3",
			            {Str(t.leaf.relid), attnum, std::string(action), Str(end)});
			o.done += changed;
			o.batches++;
			(std::string(action) == "anonymize" ? summary_.rows_anonymized
			                                    : summary_.values_purged) += changed;
			UpdateDetail(t, column.facts.name, action, o, "running");
		});
		pass.next_block = end;
		range = Batcher::NextSize(range, Elapsed(batch_start), 1, most);
	}
	if (StopRequested())
		return false;

	/*
	 * The sweep: every row due whose key the pass has not changed (the kept
	 * keys go in as one constant array, hashed once by _key_unkept).
	 */
	std::string fresh; /* a forget during the pass wrote its rows: never changed again */
	if (std::string(action) == "anonymize")
		fresh = SkipForgottenRows(t.declared->info.relid, t.key, "");
	std::string key_columns;
	for (size_t i = 0; i < t.key.size(); i++)
		key_columns += (i > 0 ? ", " : "") + QuoteIdent(t.key[i]) + "::text";
	int64_t skipped = 0;
	for (int sweep = 1;; sweep++) {
		/* in binary, from value_pass_done to the sweep's parameter */
		DatumResult done =
		    DatumSql("SELECT d.row_keys, d.row_ids FROM retention.value_pass_done d "
		             "WHERE d.relid = $1::oid AND d.attnum = $2::int2 AND "
		             "d.action = $3",
		             {Str(t.leaf.relid), attnum, std::string(action)}, {TEXTOID, TEXTOID, TEXTOID});
		std::optional<DatumParam> kept = AllKeptKeys(done, integer);
		std::vector<SqlValue> sp = keyset.params();
		std::vector<Oid> sweep_types = keyset.types();
		DatumParams binary(sp.size());
		std::string not_done;
		if (kept) {
			sp.push_back(SqlValue());
			sweep_types.push_back(kept->type);
			binary.push_back(*kept);
			/* a key of one integer column is tested as an integer: no text per row */
			not_done = " AND retention._key_unkept(" + range_key + ", $" + Str(sp.size()) + ")";
		}
		std::vector<SqlRow> todo =
		    OwnerTypedSql(t.leaf.relid,
		                  "SELECT " + key_columns + " FROM " + t.leaf.qualified + " WHERE " +
		                      keyset.window() + fresh + not_done,
		                  sp, sweep_types, binary)
		        .rows;
		/*
		 * A row the write trigger queued (a backdated insert, a new clear
		 * value) is the queue's: behind the watermark once the pass ends,
		 * it is processed then, once.  So an application that keeps
		 * writing such rows cannot keep the pass from ending.
		 */
		std::vector<bool> queued = QueuedAmong(t, attnum, todo);
		std::vector<SqlRow> mine;
		for (size_t i = 0; i < todo.size(); i++)
			if (!queued[i])
				mine.push_back(std::move(todo[i]));
		todo = std::move(mine);
		if (todo.empty())
			break;
		if (sweep == 3 || StopRequested()) {
			left = Str(static_cast<int64_t>(todo.size())) +
			       " row(s) due were held by other transactions; the next run resumes the " +
			       "stage's pass in heap order";
			return false;
		}
		for (size_t from = 0; from < todo.size() && !StopRequested();
		     from += static_cast<size_t>(std::max(batch_max_rows, 1))) {
			size_t to =
			    std::min(todo.size(), from + static_cast<size_t>(std::max(batch_max_rows, 1)));
			Batch([&] {
				SqlResult r =
				    SweepRows(t, column, expression, keyset,
				              std::vector<SqlRow>(todo.begin() + from, todo.begin() + to));
				int64_t locked = std::stoll(Field(r, 0).value_or("0"));
				int64_t changed = std::stoll(Field(r, 2).value_or("0"));
				FailIfAgeMoved(t, std::stoll(Field(r, 3).value_or("0")), action);
				/* a row locked and not changed was skipped by a trigger: settled, reported */
				KeepPassKeys(t, attnum, action, Field(r, 1));
				skipped += locked - changed;
				o.done += changed;
				o.batches++;
				(std::string(action) == "anonymize" ? summary_.rows_anonymized
				                                    : summary_.values_purged) += changed;
				UpdateDetail(t, column.facts.name, action, o, "running");
			});
		}
	}
	if (StopRequested())
		return false;

	/* the end: the watermark past the newest row due, the pass's records gone */
	Batch([&] {
		/* ORDER BY names r.columns: a bare name would sort by the text output columns */
		std::string columns = "r." + t.age_sql + "::text";
		std::string newest = "r." + t.age_sql + " DESC";
		for (const std::string &k : t.key) {
			columns += ", r." + QuoteIdent(k) + "::text";
			newest += ", r." + QuoteIdent(k) + " DESC";
		}
		SqlResult last =
		    OwnerTypedSql(t.leaf.relid,
		                  "SELECT " + columns + " FROM " + t.leaf.qualified + " r WHERE " +
		                      keyset.window() + " ORDER BY " + newest + " LIMIT 1",
		                  keyset.params(), keyset.types());
		if (!last.rows.empty()) {
			Sql("INSERT INTO retention.stage_state (relid, attnum, action, watermark_age, "
			    "watermark_key) VALUES ($1::oid, $2::int2, $3, $4, $5) "
			    "ON CONFLICT (relid, attnum, action) DO UPDATE SET watermark_age = "
			    "EXCLUDED.watermark_age, watermark_key = EXCLUDED.watermark_key, updated_at = "
			    "clock_timestamp()",
			    {Str(t.leaf.relid), attnum, std::string(action), last.rows[0][0],
			     Keyset::KeyArray(last.rows[0])});
			mark = last.rows[0];
		}
		for (const char *table : {"value_pass", "value_pass_done"})
			Sql(std::string("DELETE FROM retention.") + table +
			        " WHERE relid = $1::oid AND attnum = $2::int2 AND action = $3",
			    {Str(t.leaf.relid), attnum, std::string(action)});
	});
	if (skipped > 0)
		left = SkippedByTrigger(skipped);
	return true;
}

/*
 * One batch of the sweep: the rows `keys` (key columns as text) names that
 * are still due, locked first without waiting (a row another transaction
 * holds stays for the next sweep), then changed.  Returns the rows locked,
 * their keys, the rows changed, and the rows whose age a trigger moved.
 */
SqlResult Engine::SweepRows(const Target &t, const ColumnInfo &column,
                            const std::string &expression, const Keyset &keyset,
                            const std::vector<SqlRow> &keys)
{
	std::vector<SqlValue> p = keyset.params();
	std::vector<Oid> types = keyset.types();
	std::string arrays = KeyArrayParams(t, keys, p);
	types.resize(p.size(), TEXTOID);
	std::string names;
	std::string join;
	std::string old_keys;
	std::string same_row;
	for (size_t i = 0; i < t.key.size(); i++) {
		std::string k = QuoteIdent(t.key[i]);
		names += (i > 0 ? ", pgr_u" : "pgr_u") + Str(i);
		join += (i > 0 ? " AND x." : "x.") + k + " = u.pgr_u" + Str(i);
		old_keys += ", x." + k + " AS pgr_k" + Str(i);
		same_row += " AND " + k + " = o.pgr_k" + Str(i);
	}
	/* unnest(a, b) is special syntax, never qualified; search_path is pg_catalog here */
	return OwnerTypedSql(
	    t.leaf.relid,
	    "WITH o AS (SELECT x." + t.age_sql + " AS pgr_old_age, " + PassKey(t, "x") + " AS pgr_key" +
	        old_keys + " FROM " + t.leaf.qualified + " x JOIN unnest(" + arrays + ") AS u(" +
	        names + ") ON " + join + " WHERE " + keyset.window() +
	        " FOR UPDATE OF x SKIP LOCKED), upd AS (UPDATE " + t.leaf.qualified + " SET " +
	        QuoteIdent(column.facts.name) + " = " + expression + " FROM o WHERE " +
	        keyset.window() + same_row + " RETURNING " + t.age_sql +
	        " IS DISTINCT FROM o.pgr_old_age AS pgr_moved) SELECT (SELECT count(*) FROM o)::text, "
	        "(SELECT array_agg(o.pgr_key) FROM o)::text, count(*)::text, "
	        "count(*) FILTER (WHERE upd.pgr_moved)::text FROM upd",
	    p, types);
}

} // namespace lifecycle

} // namespace pg_retention::pg
