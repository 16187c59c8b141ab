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
#include <chrono>
#include <string>
#include <vector>

#include "catalog/citus_checks.hpp"
#include "rights/forget.hpp"
#include "lifecycle/engine.hpp"
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
	SqlResult result =
	    t.values_here ? UpdateBatchHere(t, column, expression, batch_rows, params, types, returning)
	                  : OwnerTypedSql(t.leaf.relid,
	                                  "UPDATE " + t.leaf.qualified + " AS r SET " +
	                                      QuoteIdent(column.facts.name) + " = " + expression +
	                                      " WHERE " + batch_rows + " RETURNING " + returning,
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

/*
 * Purges or archives the due rows by key, oldest first, `size` rows a
 * batch.  Each batch selects again from the rows still there, so a row
 * goes once: it is deleted.
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
	o.due = Count(t, "SELECT count(*) FROM " + t.leaf.qualified + " r WHERE " + due, {cutoff});
	o.blocked = CountBlocked(t, cutoff, o.blocked_by);
	summary_.rows_blocked += o.blocked;
	Detail(t, "", action).access_path = "key";
	StartDetail(t, "", action, o.due);
	auto started = std::chrono::steady_clock::now();
	std::string purge_delay;
	if (archive && t.declared->policy->purge_after)
		purge_delay = t.declared->policy->purge_after->ToPgInterval();
	std::string rows = "SELECT " + KeyList(t, "r") + " FROM " + t.leaf.qualified + " r WHERE " +
	                   due + " ORDER BY r." + t.age_sql + " LIMIT $2::bigint";
	int64_t size = Batcher::FirstSize();
	while (o.due > 0 && !StopRequested()) {
		int64_t moved = 0;
		auto batch_start = std::chrono::steady_clock::now();
		Batch([&] {
			/* $3 and $4 serve the archive's INSERT (ArchiveRows) */
			std::vector<SqlValue> p{cutoff, Str(size), Str(summary_.run_id),
			                        purge_delay.empty() ? SqlValue() : SqlValue(purge_delay)};
			moved = archive
			            ? ArchiveRows(t, RowsIn(t, rows), p).ScalarInt()
			            : OwnerSql(t.leaf.relid,
			                       "DELETE FROM " + t.leaf.qualified + " WHERE " + RowsIn(t, rows),
			                       {cutoff, Str(size)})
			                  .processed;
			o.done += moved;
			o.batches++;
			(archive ? summary_.rows_archived : summary_.rows_purged) += moved;
			UpdateDetail(t, "", action, o, "running");
		});
		if (moved < size)
			break;
		size = Batcher::NextSize(size, Elapsed(batch_start));
	}
	std::string left =
	    AccountLeftover(t, o, "SELECT 1 FROM " + t.leaf.qualified + " r WHERE " + due, {cutoff},
	                    {TEXTOID}, horizon);
	Finish(t, "", action, o, started, left);
}

} // namespace pg_retention::pg::lifecycle
