/*-------------------------------------------------------------------------
 *
 * move_rows.cpp
 *		Stages "purge" and "archive": whole rows past their delay leave the
 *		table in batches, oldest first, skipping rows an application
 *		transaction holds and rows a foreign key still references.  A purge
 *		deletes them; an archive batch seals them (archive_rows.cpp).
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/move_rows.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "rights/forget.hpp"
#include "lifecycle/engine.hpp"
#include "methods/method_sql.hpp"
#include "boundary/owner_sql.hpp"

namespace pg_retention::pg::lifecycle
{

namespace
{

/*
 * The type the cutoff ($1) is bound in: the age column's own, so that
 * `age < $1::type` compares with a constant made once, not with the text
 * parsed again for every row a range scan reads (a third of a heap-order
 * DELETE's time on a timestamptz column).
 */
Oid CutoffType(const Target &t)
{
	return t.age_type_oid != InvalidOid ? t.age_type_oid : TEXTOID;
}

/*
 * Whether anything of the table's own can keep a row its DELETE deletes
 * without failing the statement: an enabled BEFORE DELETE trigger (it
 * may return NULL), a DELETE rule (DO INSTEAD), row-level security.  A
 * Citus table: always (its shards are not looked at).  Read from the
 * catalog, for every batch: the owner may change the table between them.
 */
bool RowsCanStay(const Target &t)
{
	if (t.citus != CitusKind::None)
		return true;
	/* tgtype bits: BEFORE 2, DELETE 8 (row or statement triggers alike) */
	return Sql("SELECT (c.relrowsecurity OR c.relforcerowsecurity"
	           " OR EXISTS (SELECT FROM pg_catalog.pg_rewrite w"
	           " WHERE w.ev_class = c.oid AND w.ev_type = '4')"
	           " OR EXISTS (SELECT FROM pg_catalog.pg_trigger g WHERE g.tgrelid = c.oid"
	           " AND g.tgenabled <> 'D' AND (g.tgtype::int & 10) = 10))::text"
	           " FROM pg_catalog.pg_class c WHERE c.oid = $1::oid",
	           {Str(t.leaf.relid)})
	           .Scalar()
	           .value_or("true") != "false";
}

} // namespace

int64_t Engine::CountBlocked(const Target &t, const std::string &cutoff, std::string &blocked_by)
{
	int64_t blocked = 0;
	Target one = t;
	for (const IncomingKey &k : t.blockers) {
		one.blockers = {k};
		std::string not_blocked = NotBlocked(one, "r");
		/* rows due but referenced: the NOT EXISTS turned into EXISTS */
		std::string exists = not_blocked.substr(std::string(" AND NOT").size());
		int64_t n = OwnerTypedSql(t.leaf.relid,
		                          "SELECT count(*) FROM " + t.leaf.qualified + " r WHERE r." +
		                              t.age_sql + " < $1::" + t.age_type + " AND" + exists,
		                          {cutoff}, {CutoffType(t)})
		                .ScalarInt();
		if (n > 0) {
			blocked += n;
			blocked_by += (blocked_by.empty() ? "" : ", ") + k.child_qualified;
		}
	}
	return blocked;
}

/*
 * Purges or archives the due rows in batches, by one of two access paths
 * (ChooseAccessPath): in age order through the age index, for small
 * increments, or in heap order, block range by block range, when a large
 * share of the table is due.  Both take the same due rows (the same
 * conditions), never wait for a row an application transaction holds
 * (they leave it to the next run), and end with the same accounting.
 * A row goes once: it is deleted.
 */
void Engine::MoveRows(const Target &t, const char *action, const Delay &delay)
{
	if (t.by_key)
		return MoveRowsByKey(t, action, delay);
	bool archive = std::string(action) == "archive";
	std::string cutoff = Cutoff(t, delay);
	DueRows due{t.leaf.qualified, "r." + t.age_sql + " < $1::" + t.age_type + NotBlocked(t, "r")};
	/* a row past its purge delay is never archived, even one the purge stage found locked */
	if (archive && t.declared->policy->purge_after)
		due.where += " AND NOT r." + t.age_sql + " < " +
		             QuoteLiteral(Cutoff(t, *t.declared->policy->purge_after)) + "::" + t.age_type;
	/* rows a forget left in place are never sealed again under a new key */
	if (archive)
		due.where += SkipForgottenRows(t.declared->info.relid, t.key, "r");
	StageOutcome o;
	std::string horizon = StageHorizon();
	int64_t blocks = 0;
	int64_t estimate = EstimateDue(t, due.Select(), {cutoff});
	const char *path = ChooseAccessPath(t, estimate, blocks);
	bool heap = std::string(path) == "heap";
	/*
	 * The index path counts its due rows first.  The heap path reads every
	 * one of them in its batches anyway: it starts from the planner's
	 * estimate and counts them as it goes (no scan more of the table).
	 */
	if (heap)
		o.due = estimate;
	else
		o.due = Count(t, "SELECT count(*) FROM (" + due.Select() + ") d", {cutoff});
	o.blocked = CountBlocked(t, cutoff, o.blocked_by);
	summary_.rows_blocked += o.blocked;
	Detail(t, "", action).access_path = path;
	StartDetail(t, "", action, o.due);
	auto started = std::chrono::steady_clock::now();
	std::string purge_delay = "";
	if (archive && t.declared->policy->purge_after)
		purge_delay = t.declared->policy->purge_after->ToPgInterval();
	/* $2 and $5 are the index path's; $3 and $4 serve the archive's INSERT */
	std::vector<SqlValue> p{cutoff, SqlValue(), Str(summary_.run_id),
	                        purge_delay.empty() ? SqlValue() : SqlValue(purge_delay)};
	if (!heap) {
		if (o.due > 0)
			MoveRowsInIndexOrder(t, archive, due, p, o);
		std::string left = AccountLeftover(t, o, due.Select(), {cutoff}, {CutoffType(t)}, horizon);
		Finish(t, "", action, o, started, left);
		return;
	}
	/* each range was probed in its batch; here the blocks added since the stage started */
	auto [locked, left] = MoveRowsInHeapOrder(t, archive, due, p, blocks, horizon, o);
	std::string undone;
	if (StopRequested())
		o.due = std::max(o.due, o.done); /* the estimate, or more */
	else {
		auto [tail_locked, tail_left] = ProbeLeftover(
		    t, due.Select() + " AND r.ctid >= '(" + Str(blocks) + ",0)'::pg_catalog.tid", {cutoff},
		    {CutoffType(t)}, horizon);
		locked += tail_locked;
		left += tail_left;
		o.due = o.done + locked + left;
		undone = AccountLeft(o, locked, left);
	}
	Finish(t, "", action, o, started, undone);
}

/*
 * The planner's estimate of the due rows (EXPLAIN, the cutoff bound): what
 * the choice of a path needs, without a scan of the table.
 */
int64_t Engine::EstimateDue(const Target &t, const std::string &select,
                            const std::vector<SqlValue> &params)
{
	std::string plan;
	InEngineSubtransaction(
	    [&] { plan = OwnerSql(t.leaf.relid, "EXPLAIN " + select, params).Scalar().value_or(""); });
	size_t at = plan.find(" rows=");
	return at == std::string::npos ? 0 : std::stoll(plan.substr(at + 6));
}

/*
 * Heap order when retention.access_path says so, or (auto) when at least
 * heap_path_min_share of the table's rows (pg_class.reltuples) are due
 * (`due`: the planner's estimate) on a table of at least
 * heap_path_min_pages: reading every page once in
 * physical order then costs less than fetching the due rows one by one
 * in age order.  `blocks` is the table's size in blocks now.
 */
const char *Engine::ChooseAccessPath(const Target &t, int64_t due, int64_t &blocks)
{
	SqlResult r = Sql("SELECT (pg_catalog.pg_relation_size(c.oid) / "
	                  "pg_catalog.current_setting('block_size')::bigint)::text, "
	                  "c.reltuples::text FROM pg_catalog.pg_class c WHERE c.oid = $1::oid",
	                  {Str(t.leaf.relid)});
	blocks = std::stoll(r.rows.at(0).at(0).value_or("0"));
	double reltuples = std::stod(r.rows.at(0).at(1).value_or("-1"));
	switch (static_cast<AccessPathSetting>(access_path)) {
	case AccessPathSetting::Index:
		return "index";
	case AccessPathSetting::Heap:
		return "heap";
	case AccessPathSetting::Auto:
	case AccessPathSetting::Key: /* a table without a primary key: as auto */
		break;
	}
	bool big = blocks >= heap_path_min_pages;
	bool mostly_due = reltuples > 0 && static_cast<double>(due) >= heap_path_min_share * reltuples;
	return big && mostly_due ? "heap" : "index";
}

/*
 * Each batch takes the oldest due rows from where the previous one ended
 * (its index scan does not step again over the rows already gone),
 * skipping the rows an application transaction holds (FOR UPDATE SKIP
 * LOCKED).
 */
void Engine::MoveRowsInIndexOrder(const Target &t, bool archive, const DueRows &due,
                                  const std::vector<SqlValue> &params, StageOutcome &o)
{
	const char *action = archive ? "archive" : "purge";
	int64_t size = Batcher::FirstSize();
	SqlValue from; /* the newest age the previous batch moved */
	while (!StopRequested()) {
		int64_t moved = 0;
		auto batch_start = std::chrono::steady_clock::now();
		Batch([&] {
			std::string rows = due.Select();
			if (from)
				rows += " AND r." + t.age_sql + " >= $5::" + t.age_type;
			rows += " ORDER BY r." + t.age_sql + " LIMIT $2::bigint FOR UPDATE SKIP LOCKED";
			std::vector<SqlValue> p = params;
			p[1] = Str(size);
			p.push_back(from);
			SqlResult result =
			    archive ? ArchiveRows(t, "r.ctid = ANY (ARRAY(" + rows + "))", p)
			            : OwnerSql(t.leaf.relid,
			                       "WITH gone AS (DELETE FROM " + t.leaf.qualified +
			                           " WHERE ctid = ANY (ARRAY(" + rows + ")) RETURNING " +
			                           t.age_sql +
			                           " AS age) SELECT count(*), max(gone.age)::text FROM gone",
			                       p);
			moved = result.ScalarInt();
			if (!result.rows.empty() && result.rows[0].size() > 1 && result.rows[0][1])
				from = result.rows[0][1];
			o.done += moved;
			o.batches++;
			(archive ? summary_.rows_archived : summary_.rows_purged) += moved;
			UpdateDetail(t, "", action, o, "running");
		});
		if (moved < size)
			break;
		size = Batcher::NextSize(size, Elapsed(batch_start));
	}
}

/*
 * Block range after block range, from the first block to the table's
 * last block when the stage started (a row written later in a new block
 * is the next run's), each range one committed batch
 * whose size in blocks aims at retention.batch_target and holds about
 * batch_max_rows due rows at most.  A range is a TID Range Scan: each
 * page is read once, in order, and pruned once.  Each batch also probes
 * what its range left (ProbeLeftover): returns the rows locked and left.
 */
std::pair<int64_t, int64_t> Engine::MoveRowsInHeapOrder(const Target &t, bool archive,
                                                        const DueRows &due,
                                                        const std::vector<SqlValue> &params,
                                                        int64_t blocks, const std::string &horizon,
                                                        StageOutcome &o)
{
	int64_t locked = 0;
	int64_t left = 0;
	const char *action = archive ? "archive" : "purge";
	double due_per_block = std::max(static_cast<double>(o.due) / std::max<int64_t>(blocks, 1), 1.0);
	int64_t most = std::max<int64_t>(static_cast<int64_t>(batch_max_rows / due_per_block), 1);
	int64_t range =
	    std::clamp<int64_t>(static_cast<int64_t>(Batcher::FirstSize() / due_per_block), 1, most);
	for (int64_t first = 0; first < blocks && !StopRequested();) {
		int64_t end = std::min(first + range, blocks);
		auto batch_start = std::chrono::steady_clock::now();
		std::string within = " AND r.ctid >= '(" + Str(first) +
		                     ",0)'::pg_catalog.tid AND r.ctid < '(" + Str(end) +
		                     ",0)'::pg_catalog.tid";
		std::pair<int64_t, int64_t> probed;
		Batch([&] {
			bool skipped_locked = false;
			int64_t moved = MoveBlockRange(t, archive, due, within, params, skipped_locked);
			/*
			 * What the range left, before the batch commits: its pages are still hot, and
			 * its own dead rows not prunable yet (a probe at the end would prune them all).
			 * Not needed when the plain DELETE did the whole range and nothing of the
			 * table's can keep a row it deletes (RowsCanStay, asked after the DELETE:
			 * its lock keeps the catalog as it saw it until the batch commits).
			 */
			probed = {0, 0};
			if (skipped_locked || RowsCanStay(t))
				probed =
				    ProbeLeftover(t, due.Select() + within, {params[0]}, {CutoffType(t)}, horizon);
			o.done += moved;
			o.batches++;
			(archive ? summary_.rows_archived : summary_.rows_purged) += moved;
			UpdateDetail(t, "", action, o, "running");
		});
		locked += probed.first;
		left += probed.second;
		first = end;
		range = Batcher::NextSize(range, Elapsed(batch_start), 1, most);
	}
	return {locked, left};
}

/*
 * One block range.  First a plain statement under a lock_timeout of
 * kHeapPathLockTimeoutMs: no row lock of its own before the delete (no
 * Heap/LOCK record per row).  Only when it meets a row an application
 * transaction holds is it rolled back and done again skipping locked
 * rows (FOR UPDATE SKIP LOCKED), under the usual lock timeout: the run
 * waits at most kHeapPathLockTimeoutMs per range for the application.
 */
int64_t Engine::MoveBlockRange(const Target &t, bool archive, const DueRows &due,
                               const std::string &range, const std::vector<SqlValue> &params,
                               bool &skipped_locked)
{
	auto once = [&](bool skip_locked) {
		/* plainly, the rows' own conditions on the DELETE itself: one visit per row */
		std::string which = due.where + range;
		if (skip_locked)
			which =
			    "r.ctid = ANY (ARRAY(" + due.Select() + range + " FOR UPDATE OF r SKIP LOCKED))";
		if (archive)
			return ArchiveRows(t, which, params).ScalarInt();
		return OwnerTypedSql(t.leaf.relid, "DELETE FROM " + due.table + " AS r WHERE " + which,
		                     {params[0]}, {CutoffType(t)})
		    .processed;
	};
	return WithoutWaiting(once, skipped_locked);
}

} // namespace pg_retention::pg::lifecycle
