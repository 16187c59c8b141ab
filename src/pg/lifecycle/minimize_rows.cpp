/*-------------------------------------------------------------------------
 *
 * minimize_rows.cpp
 *		Stage "minimize": rows written before their table's minimize rules
 *		existed are minimized once per set of rules (the write trigger
 *		minimizes every later write).
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/minimize_rows.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>
#include <chrono>
#include <string>

#include "lifecycle/engine.hpp"
#include "methods/method_sql.hpp"
#include "boundary/owner_sql.hpp"

namespace pg_retention::pg::lifecycle
{

void Engine::MinimizeExistingRows(const Target &t)
{
	std::string sets;
	std::string differs;
	std::string signature;
	std::string refused; /* columns whose method Citus cannot run */
	for (const DeclaredColumn &c : t.declared->columns) {
		if (!c.policy.minimize)
			continue;
		const ColumnInfo *column = t.leaf.FindColumn(c.info.facts.name);
		if (column == nullptr)
			continue;
		std::string why = RefusedOnCitus(t, *c.policy.minimize);
		if (!why.empty()) {
			refused += (refused.empty() ? "" : "; ") + why + ": column " +
			           QuoteIdent(c.info.facts.name) + " not minimized";
			continue;
		}
		std::string q = QuoteIdent(c.info.facts.name);
		std::string expr = MethodSql(*c.policy.minimize, q, *column);
		sets += (sets.empty() ? "" : ", ") + q + " = " + expr;
		differs += (differs.empty() ? "" : " OR ") + q + " IS DISTINCT FROM " + expr;
		signature += c.info.facts.name + "=" + c.policy.minimize->ToString() + ";";
	}
	if (sets.empty() && refused.empty())
		return;
	/* done once per set of rules: the trigger minimizes every later write */
	SqlResult state = Sql("SELECT watermark_key FROM retention.stage_state WHERE relid = "
	                      "$1::oid AND attnum = 0 AND action = 'minimize'",
	                      {Str(t.leaf.relid)});
	if (state.Scalar() && *state.Scalar() == signature)
		return;
	StageOutcome o;
	if (sets.empty()) {
		StartDetail(t, "", "minimize", 0);
		return Finish(t, "", "minimize", o, std::chrono::steady_clock::now(), refused);
	}
	std::string horizon = StageHorizon();
	o.due = Count(t, "SELECT count(*) FROM " + t.leaf.qualified + " WHERE " + differs, {});
	StartDetail(t, "", "minimize", o.due);
	auto started = std::chrono::steady_clock::now();
	int64_t size = Batcher::FirstSize();
	while (!StopRequested()) {
		int64_t changed = 0;
		auto batch_start = std::chrono::steady_clock::now();
		Batch([&] {
			int64_t moved = 0;
			if (t.by_key)
				changed = MinimizeBatchByKey(t, sets, differs, size, moved);
			else {
				/* o: the rows locked, with their age before the UPDATE (see UpdateValues) */
				std::string old_age = t.age_sql.empty() ? "NULL::int" : t.age_sql;
				std::string moved_age = t.age_sql.empty()
				                            ? "false"
				                            : "r." + t.age_sql + " IS DISTINCT FROM o.pgr_old_age";
				SqlResult r = OwnerSql(
				    t.leaf.relid,
				    "WITH upd AS (UPDATE " + t.leaf.qualified + " AS r SET " + sets +
				        " FROM (SELECT ctid AS pgr_ctid, " + old_age + " AS pgr_old_age FROM " +
				        t.leaf.qualified + " WHERE " + differs +
				        " LIMIT $1::bigint FOR UPDATE SKIP LOCKED) o WHERE r.ctid = o.pgr_ctid "
				        "RETURNING " +
				        moved_age +
				        " AS moved) SELECT count(*), count(*) FILTER (WHERE moved) FROM upd",
				    {Str(size)});
				changed = r.ScalarInt();
				moved = std::stoll(r.rows.at(0).at(1).value());
			}
			if (!t.age_sql.empty())
				FailIfAgeMoved(t, moved, "minimize");
			o.done += changed;
			o.batches++;
			summary_.rows_minimized += changed;
			UpdateDetail(t, "", "minimize", o, changed < size ? "done" : "running");
		});
		if (changed < size)
			break;
		size = Batcher::NextSize(size, Elapsed(batch_start));
	}
	/*
	 * The rules count as applied only when no row is left: rows locked by
	 * the application (skipped) are minimized by the next run.
	 */
	std::string left = AccountLeftover(
	    t, o, "SELECT 1 FROM " + t.leaf.qualified + " r WHERE " + differs, {}, {}, horizon);
	if (!refused.empty())
		left = refused + (left.empty() ? "" : "; " + left);
	if (!StopRequested() && left.empty() && o.blocked == 0)
		Sql("INSERT INTO retention.stage_state (relid, attnum, action, watermark_key) "
		    "VALUES ($1::oid, 0, 'minimize', $2) ON CONFLICT (relid, attnum, action) DO "
		    "UPDATE SET watermark_key = EXCLUDED.watermark_key, updated_at = "
		    "clock_timestamp()",
		    {Str(t.leaf.relid), signature});
	Finish(t, "", "minimize", o, started, left);
}

} // namespace pg_retention::pg::lifecycle
