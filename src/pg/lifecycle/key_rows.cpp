/*-------------------------------------------------------------------------
 *
 * key_rows.cpp
 *		The key access path: batches that select their rows by primary key,
 *		never by ctid and never with FOR UPDATE, the only shapes Citus runs
 *		on a distributed or reference table (../shared/anchors/citus.md).
 *		Chosen for every Citus table, and on a plain table when
 *		retention.access_path = 'key' (so the differential test covers it).
 *
 *		The rows of a batch are named by key: `(k1, k2) IN (SELECT k1, k2
 *		... WHERE <due> ORDER BY <age> LIMIT n)`, or, for the value stages,
 *		the keyset range between the watermark and the batch's last row.
 *		The conditions compare columns with $n values only (`age < $1`),
 *		never a STABLE expression over a column, which Citus refuses in an
 *		UPDATE.  Without SKIP LOCKED a batch meets a row an application
 *		holds: it waits retention.lock_timeout at most, is rolled back and
 *		retried (Batcher), and after kLockRetries attempts the stage fails
 *		for this run and its rows wait for the next one.
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/key_rows.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "catalog/citus_checks.hpp"
#include "lifecycle/age_windows.hpp"
#include "rights/forget.hpp"
#include "lifecycle/engine.hpp"
#include "lifecycle/keyset.hpp"
#include "methods/method_sql.hpp"
#include "boundary/owner_sql.hpp"

namespace pg_retention::pg::lifecycle
{

namespace
{

/* "r.k1, r.k2" (alias "" : "k1, k2"), or "pgr_k0, pgr_k1" renamed with `as`. */
std::string KeyList(const Target &t, const std::string &alias, bool renamed = false)
{
	std::string sql;
	for (size_t i = 0; i < t.key.size(); i++) {
		sql += i > 0 ? ", " : "";
		sql += (alias.empty() ? "" : alias + ".") + QuoteIdent(t.key[i]);
		if (renamed)
			sql += " AS pgr_k" + Str(i);
	}
	return sql;
}

void RequireKey(const Target &t, const char *action)
{
	if (t.key.empty())
		throw BatchFailed{std::string(action) + " of " + t.leaf.qualified +
		                      " needs a primary key: the rows of a Citus table are " +
		                      "selected by key",
		                  "55000"};
}

} // namespace

/*
 * The size of a key-path batch after one of `rows` that took `elapsed_ms`
 * (0 rows: the first batch).  On a Citus table at least
 * kCitusLeastBatchRows (within retention.batch_max_rows): each batch pays
 * a fixed cost before any row (its multi-shard statements and the
 * two-phase commit, 60-110 ms on the benchmark's cluster), and sizing by
 * time alone would shrink the batches until that cost is all they do.
 */
int64_t KeyBatchSize(const Target &t, int64_t rows, double elapsed_ms)
{
	int64_t least =
	    t.citus == CitusKind::None ? 10 : std::min<int64_t>(kCitusLeastBatchRows, batch_max_rows);
	if (rows == 0)
		return std::max(Batcher::FirstSize(), least);
	return Batcher::NextSize(rows, elapsed_ms, least, batch_max_rows);
}

/* Citus tables always; plain tables when retention.access_path = 'key' and they have a key. */
bool ByKey(const Target &t)
{
	if (t.citus != CitusKind::None)
		return true;
	return static_cast<AccessPathSetting>(access_path) == AccessPathSetting::Key && !t.key.empty();
}

/* A WHERE condition: the rows whose key `rows` (a SELECT of the key columns) returns. */
std::string RowsIn(const Target &t, const std::string &rows)
{
	return "(" + KeyList(t, "") + ") IN (" + rows + ")";
}

/* Why `method` cannot rewrite a column of `t` on its shards ("" when it can, or no Citus table). */
std::string RefusedOnCitus(const Target &t, const MethodCall &method)
{
	if (t.citus == CitusKind::None)
		return "";
	return CitusMethodProblem(t.leaf.qualified, method);
}

/*
 * One minimize batch by key: the next `size` rows that still differ from
 * their minimized values, with their age before the UPDATE (a row whose
 * age the UPDATE moved is counted in `moved`).
 */
int64_t Engine::MinimizeBatchByKey(const Target &t, const std::string &sets,
                                   const std::string &differs, int64_t size, int64_t &moved)
{
	RequireKey(t, "minimize");
	std::string old_age = t.age_sql.empty() ? "NULL::int" : t.age_sql;
	std::string moved_age =
	    t.age_sql.empty() ? "false" : "r." + t.age_sql + " IS DISTINCT FROM o.pgr_old_age";
	std::string same_row;
	for (size_t i = 0; i < t.key.size(); i++)
		same_row += (i > 0 ? " AND r." : "r.") + QuoteIdent(t.key[i]) + " = o.pgr_k" + Str(i);
	/* the shards' write triggers do not queue the engine's writes (late_rows.cpp) */
	if (t.citus != CitusKind::None)
		same_row += " AND retention._engine_write(r." + QuoteIdent(t.key[0]) + ")";
	SqlResult r = OwnerSql(
	    t.leaf.relid,
	    "WITH upd AS (UPDATE " + t.leaf.qualified + " AS r SET " + sets + " FROM (SELECT " +
	        KeyList(t, "", true) + ", " + old_age + " AS pgr_old_age FROM " + t.leaf.qualified +
	        " WHERE " + differs + " LIMIT $1::bigint) o WHERE " + same_row + " RETURNING " +
	        moved_age + " AS moved) SELECT count(*), count(*) FILTER (WHERE moved) FROM upd",
	    {Str(size)});
	moved = std::stoll(r.rows.at(0).at(1).value());
	return r.ScalarInt();
}

/*
 * One value batch by key: the rows of the keyset between the watermark and
 * the batch's last row (`batch_rows`, last row at $last_first..), with no
 * row lock taken before.  Returns what UpdateValues reads from its own
 * statement: per changed row its key texts and whether its age moved out
 * of the batch (a BEFORE UPDATE trigger rewrote it), then `found` (the
 * rows the batch meant to change) as the last column of every row; one
 * row of NULLs and `found` when none changed.
 */
SqlResult Engine::UpdateBatchByKey(const Target &t, const ColumnInfo &column,
                                   const std::string &expression, const std::string &batch_rows,
                                   int last_first, const std::vector<SqlValue> &params,
                                   const std::vector<Oid> &types, int64_t found)
{
	std::string returning;
	for (size_t i = 0; i < t.key.size(); i++)
		returning += "r." + QuoteIdent(t.key[i]) + "::text AS pgr_k" + Str(i) + ", ";
	std::string still_in_batch = "r." + t.age_sql + " < $1::" + t.age_type + " AND " +
	                             KeysetColumns(t, "r") + " <= " + KeysetParams(t, last_first);
	returning += "(" + still_in_batch + ") IS NOT TRUE AS pgr_moved";
	/*
	 * The batch's last age as a bound of its own: each shard's planner then
	 * sees a batch-sized range of its age index, not everything up to the
	 * cutoff (a sequential scan of the shard per batch).
	 */
	std::string rows =
	    batch_rows + " AND r." + t.age_sql + " <= $" + Str(last_first) + "::" + t.age_type;
	SqlResult result = t.values_here
	                       ? UpdateBatchHere(t, column, expression, rows, params, types, returning)
	                       : OwnerTypedSql(t.leaf.relid,
	                                       "UPDATE " + t.leaf.qualified + " AS r SET " +
	                                           QuoteIdent(column.facts.name) + " = " + expression +
	                                           " WHERE " + rows + " RETURNING " + returning,
	                                       params, types);
	if (result.rows.empty())
		result.rows.push_back(SqlRow(t.key.size() + 1));
	for (SqlRow &row : result.rows)
		row.push_back(SqlValue(Str(found)));
	return result;
}

/*
 * A value batch whose method the shards cannot run (keyed: it needs this
 * backend's engine capability and the server key; random: VOLATILE):
 * the batch's values are read, the method computed here, on the
 * coordinator, and the new values written back by key (UPDATE ... FROM
 * unnest(arrays), which Citus runs per shard).  A value the application
 * changed in between is left as it is (the UPDATE compares the old one)
 * and counted as skipped.  Every cast applies to a parameter, never to a
 * column: Citus refuses a STABLE cast of a column in an UPDATE.
 */
SqlResult Engine::UpdateBatchHere(const Target &t, const ColumnInfo &column,
                                  const std::string &expression, const std::string &batch_rows,
                                  const std::vector<SqlValue> &params,
                                  const std::vector<Oid> &types, const std::string &returning)
{
	std::string q = QuoteIdent(column.facts.name);
	std::string type = TypeName(column.type_oid);
	std::string keys;
	for (size_t i = 0; i < t.key.size(); i++)
		keys += "r." + QuoteIdent(t.key[i]) + "::text, ";
	SqlResult batch = OwnerTypedSql(t.leaf.relid,
	                                "SELECT " + keys + "r." + q + "::text FROM " +
	                                    t.leaf.qualified + " AS r WHERE " + batch_rows,
	                                params, types);
	if (batch.rows.empty())
		return batch;
	size_t old = t.key.size();
	std::vector<SqlValue> old_values;
	for (const SqlRow &row : batch.rows)
		old_values.push_back(row[old]);
	/* the method, here: the column's values unnested under the column's own name */
	SqlResult fresh = OwnerSql(t.leaf.relid,
	                           "SELECT (" + expression + ")::text FROM (SELECT x.v AS " + q +
	                               ", x.n FROM pg_catalog.unnest($1::" + type +
	                               "[]) WITH ORDINALITY AS x(v, n)) AS r ORDER BY r.n",
	                           {ArrayLiteral(old_values)});
	std::vector<SqlValue> p = params;
	std::vector<Oid> p_types = types;
	std::string arrays;
	std::string names;
	std::string same_row;
	for (size_t i = 0; i <= old + 1; i++) {
		std::vector<SqlValue> values;
		for (size_t r = 0; r < batch.rows.size(); r++)
			values.push_back(i <= old ? batch.rows[r][i] : fresh.rows.at(r).at(0));
		p.push_back(ArrayLiteral(values));
		p_types.push_back(TEXTOID);
		std::string element_type = i < old ? t.key_types[i] : type;
		arrays += (i > 0 ? ", $" : "$") + Str(static_cast<int64_t>(p.size())) +
		          "::" + element_type + "[]";
		std::string name = i < old ? "pgr_k" + Str(i) : i == old ? "pgr_old" : "pgr_new";
		names += (i > 0 ? ", " : "") + name;
		if (i < old)
			same_row += "r." + QuoteIdent(t.key[i]) + " = u." + name + " AND ";
	}
	/* unnest(a, b) is special syntax, never qualified; search_path is pg_catalog here */
	return OwnerTypedSql(t.leaf.relid,
	                     "UPDATE " + t.leaf.qualified + " AS r SET " + q +
	                         " = u.pgr_new FROM unnest(" + arrays + ") AS u(" + names + ") WHERE " +
	                         same_row + "r." + q + " IS NOT DISTINCT FROM u.pgr_old AND " +
	                         batch_rows + " RETURNING " + returning,
	                     p, p_types);
}

/* The widest age window, in seconds (about 3,000 years). */
constexpr double kMaxWindowSeconds = 1e11;

AgeWindows::AgeWindows(const Target &t, const SqlValue &cutoff, const SqlValue &oldest, int64_t due,
                       int64_t rows)
    : t_(t), cutoff_(cutoff), lo_(oldest)
{
	double span = std::stod(Sql("SELECT (EXTRACT(epoch FROM $1::" + t.age_type +
	                                ") - EXTRACT(epoch FROM $2::" + t.age_type + "))::text",
	                            {cutoff, oldest})
	                            .Scalar()
	                            .value());
	/* an infinite oldest age (-infinity) gives no span: the windows widen from the least */
	if (!std::isfinite(span))
		span = 0;
	width_ = span * static_cast<double>(rows) / static_cast<double>(std::max<int64_t>(due, 1));
	Place();
}

std::string AgeWindows::Condition(int lo, int hi) const
{
	if (last())
		return "";
	std::string age = "r." + t_.age_sql;
	return " AND " + age + " >= $" + Str(lo) + "::" + t_.age_type + " AND " + age + " < $" +
	       Str(hi) + "::" + t_.age_type;
}

void AgeWindows::Next(const SqlValue &lo, int64_t rows, int64_t wanted)
{
	double factor = 4.0;
	if (rows > 0)
		factor = std::clamp(static_cast<double>(wanted) / static_cast<double>(rows), 0.1, 4.0);
	width_ *= factor;
	lo_ = lo;
	Place();
}

/* hi = lo + width, whole days for a date; NULL when it reaches the cutoff */
void AgeWindows::Place()
{
	bool date = t_.age_type == "date";
	/*
	 * At least a day for a date, a millisecond for a timestamp; at most
	 * kMaxWindowSeconds, so lo + width stays in range.  A window that
	 * cannot move past lo (lo is -infinity) is the last: no bounds.
	 */
	width_ = std::clamp(width_, date ? 86400.0 : 0.001, kMaxWindowSeconds);
	std::string step = date ? "$2::int" : "pg_catalog.make_interval(secs => $2::float8)";
	std::string width =
	    date ? Str(static_cast<int64_t>(std::ceil(width_ / 86400.0))) : std::to_string(width_);
	hi_ = Sql("SELECT CASE WHEN h < $3::" + t_.age_type + " AND h > $1::" + t_.age_type +
	              " THEN h::text END FROM (SELECT ($1::" + t_.age_type + " + " + step +
	              ")::" + t_.age_type + " AS h) s",
	          {lo_, width, cutoff_})
	          .Scalar();
}

/*
 * The next value batch by key, in the shape of UpdateValues' candidate
 * query: one row of texts [rows found, the last row's age, its key values].
 * The batch is the keyset's rows in the next age window (AgeWindows): a
 * count and the newest age there (an aggregate each shard answers from its
 * age index), then the newest row up to that age.  No batch's keys travel
 * through the coordinator, and the watermark stays the batch's last row.
 * An empty window widens until one has rows or reaches the cutoff (0 rows:
 * the stage is done).  `windows` is made at the first batch; `previous` is
 * the rows the previous batch found, `size` what the next should find.
 */
SqlResult Engine::NextValueBatchByKey(const Target &t, const Keyset &keyset,
                                      std::optional<AgeWindows> &windows, int64_t size,
                                      int64_t previous)
{
	std::vector<SqlValue> p = keyset.params();
	std::vector<Oid> types = keyset.types();
	int n = static_cast<int>(p.size());
	std::string from = " FROM " + t.leaf.qualified + " r WHERE " + keyset.window();
	std::string age = "r." + t.age_sql;
	if (!windows) {
		SqlResult first = OwnerTypedSql(
		    t.leaf.relid, "SELECT count(*)::text, min(" + age + ")::text" + from, p, types);
		int64_t due = first.ScalarInt();
		if (due == 0)
			return SqlResult{0, {{SqlValue("0")}}};
		windows.emplace(t, p[0], first.rows[0][1], due, size);
	} else if (p.size() > 1 && p[1] != windows->lo()) {
		/* the keyset moved (its $2 is its position's age): the next window starts there */
		windows->Next(p[1], previous, size);
	}
	p.insert(p.end(), {SqlValue(), SqlValue()});
	types.insert(types.end(), {t.age_type_oid, t.age_type_oid});
	SqlResult counted;
	for (;;) {
		p[n] = windows->lo();
		p[n + 1] = windows->hi();
		counted = OwnerTypedSql(t.leaf.relid,
		                        "SELECT count(*)::text, max(" + age + ")::text" + from +
		                            windows->Condition(n + 1, n + 2),
		                        p, types);
		if (counted.ScalarInt() > 0 || windows->last())
			break;
		windows->Next(windows->lo(), 0, 0);
	}
	if (counted.ScalarInt() == 0)
		return SqlResult{0, {{SqlValue("0")}}};
	p.resize(n);
	types.resize(n);
	p.push_back(counted.rows[0][1]);
	types.push_back(t.age_type_oid);
	std::string keys;
	std::string descending;
	for (size_t i = 0; i < t.key.size(); i++) {
		keys += ", r." + QuoteIdent(t.key[i]) + "::text";
		descending += ", r." + QuoteIdent(t.key[i]) + " DESC";
	}
	/* the newest row up to that age (one row from each shard) */
	SqlResult last = OwnerTypedSql(t.leaf.relid,
	                               "SELECT " + age + "::text" + keys + from + " AND " + age +
	                                   " <= $" + Str(n + 1) + "::" + t.age_type + " ORDER BY " +
	                                   age + " DESC" + descending + " LIMIT 1",
	                               p, types);
	if (last.rows.empty())
		return SqlResult{0, {{SqlValue("0")}}};
	SqlRow row{counted.rows[0][0]};
	row.insert(row.end(), last.rows[0].begin(), last.rows[0].end());
	return SqlResult{1, {row}};
}

/*
 * Purges or archives the due rows by key, oldest first, one age window a
 * batch (AgeWindows).  A row goes once: it is deleted.  A table with
 * foreign keys that keep referenced rows selects the window's keys first
 * (`(k) IN (SELECT k ... WHERE <due> AND <window>)`), which Citus runs
 * whatever the child table's distribution.
 */
void Engine::MoveRowsByKey(const Target &t, const char *action, const Delay &delay)
{
	RequireKey(t, action);
	bool archive = std::string(action) == "archive";
	std::string cutoff = Cutoff(t, delay);
	std::string due = "r." + t.age_sql + " < $1::" + t.age_type + NotBlocked(t, "r");
	/* as MoveRows: never archive a row past its purge delay, nor a row a forget left */
	if (archive && t.declared->policy->purge_after)
		due += " AND NOT r." + t.age_sql + " < " +
		       QuoteLiteral(Cutoff(t, *t.declared->policy->purge_after)) + "::" + t.age_type;
	if (archive)
		due += SkipForgottenRows(t.declared->info.relid, t.key, "r");
	StageOutcome o;
	std::string horizon = StageHorizon();
	SqlResult counted = OwnerSql(t.leaf.relid,
	                             "SELECT count(*), min(r." + t.age_sql + ")::text FROM " +
	                                 t.leaf.qualified + " r WHERE " + due,
	                             {cutoff});
	o.due = counted.ScalarInt();
	o.blocked = CountBlocked(t, cutoff, o.blocked_by);
	summary_.rows_blocked += o.blocked;
	Detail(t, "", action).access_path = "key";
	StartDetail(t, "", action, o.due);
	auto started = std::chrono::steady_clock::now();
	std::string purge_delay;
	if (archive && t.declared->policy->purge_after)
		purge_delay = t.declared->policy->purge_after->ToPgInterval();
	if (o.due > 0) {
		AgeWindows window(t, SqlValue(cutoff), counted.rows[0][1], o.due, KeyBatchSize(t, 0, 0));
		while (!StopRequested()) {
			int64_t moved = 0;
			auto batch_start = std::chrono::steady_clock::now();
			Batch([&] {
				/* $3 and $4 serve the archive's INSERT (ArchiveRows); $2 and $5 bound the window */
				std::vector<SqlValue> p{cutoff, window.hi(), Str(summary_.run_id),
				                        purge_delay.empty() ? SqlValue() : SqlValue(purge_delay),
				                        window.lo()};
				std::string which = due + window.Condition(5, 2);
				if (!t.blockers.empty())
					which = RowsIn(t, "SELECT " + KeyList(t, "r") + " FROM " + t.leaf.qualified +
					                      " r WHERE " + which);
				moved =
				    archive
				        ? ArchiveRows(t, which, p, true).ScalarInt()
				        : OwnerSql(t.leaf.relid,
				                   "DELETE FROM " + t.leaf.qualified + " AS r WHERE " + which, p)
				              .processed;
				o.done += moved;
				o.batches++;
				(archive ? summary_.rows_archived : summary_.rows_purged) += moved;
				UpdateDetail(t, "", action, o, "running");
			});
			if (window.last())
				break;
			window.Next(window.hi(), moved,
			            moved > 0 ? KeyBatchSize(t, moved, Elapsed(batch_start)) : 0);
		}
	}
	std::string left =
	    AccountLeftover(t, o, "SELECT 1 FROM " + t.leaf.qualified + " r WHERE " + due, {cutoff},
	                    {TEXTOID}, horizon);
	Finish(t, "", action, o, started, left);
}

} // namespace pg_retention::pg::lifecycle
