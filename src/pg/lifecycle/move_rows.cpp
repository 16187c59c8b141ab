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

int64_t Engine::CountBlocked(const Target &t, const std::string &cutoff, std::string &blocked_by)
{
	int64_t blocked = 0;
	Target one = t;
	for (const IncomingKey &k : t.blockers) {
		one.blockers = {k};
		std::string not_blocked = NotBlocked(one, "r");
		/* rows due but referenced: the NOT EXISTS turned into EXISTS */
		std::string exists = not_blocked.substr(std::string(" AND NOT").size());
		int64_t n = OwnerSql(t.leaf.relid,
		                     "SELECT count(*) FROM " + t.leaf.qualified + " r WHERE r." +
		                         t.age_sql + " < $1::" + t.age_type + " AND" + exists,
		                     {cutoff})
		                .ScalarInt();
		if (n > 0) {
			blocked += n;
			blocked_by += (blocked_by.empty() ? "" : ", ") + k.child_qualified;
		}
	}
	return blocked;
}

/*
 * Purges or archives the due rows in batches.  Each batch takes the
 * oldest due rows from where the previous one ended (its index scan
 * does not step again over the rows already gone), skipping the rows an
 * application transaction holds (FOR UPDATE SKIP LOCKED): the run never
 * waits for them, and leaves them to the next run.
 */
void Engine::MoveRows(const Target &t, const char *action, const Delay &delay)
{
	bool archive = std::string(action) == "archive";
	std::string cutoff = Cutoff(t, delay);
	std::string due_rows = "SELECT r.ctid FROM " + t.leaf.qualified + " r WHERE r." + t.age_sql +
	                       " < $1::" + t.age_type + NotBlocked(t, "r");
	/* a row past its purge delay is never archived, even one the purge stage found locked */
	if (archive && t.declared->policy->purge_after)
		due_rows += " AND NOT r." + t.age_sql + " < " +
		            QuoteLiteral(Cutoff(t, *t.declared->policy->purge_after)) + "::" + t.age_type;
	/* rows a forget left in place are never sealed again under a new key */
	if (archive)
		due_rows += SkipForgottenRows(t.declared->info.relid, t.key, "r");
	StageOutcome o;
	std::string horizon = StageHorizon();
	o.due = Count(t, "SELECT count(*) FROM (" + due_rows + ") d", {cutoff});
	o.blocked = CountBlocked(t, cutoff, o.blocked_by);
	summary_.rows_blocked += o.blocked;
	StartDetail(t, "", action, o.due);
	auto started = std::chrono::steady_clock::now();
	int64_t size = Batcher::FirstSize();
	std::string purge_delay = "";
	if (archive && t.declared->policy->purge_after)
		purge_delay = t.declared->policy->purge_after->ToPgInterval();
	SqlValue from; /* the newest age the previous batch moved */
	while (o.due > 0 && !StopRequested()) {
		int64_t moved = 0;
		auto batch_start = std::chrono::steady_clock::now();
		Batch([&] {
			std::string rows = due_rows;
			if (from)
				rows += " AND r." + t.age_sql + " >= $5::" + t.age_type;
			rows += " ORDER BY r." + t.age_sql + " LIMIT $2::bigint FOR UPDATE SKIP LOCKED";
			/* $3 and $4 serve the archive's INSERT; unused parameters are typed text */
			std::vector<SqlValue> p{cutoff, Str(size), Str(summary_.run_id),
			                        purge_delay.empty() ? SqlValue() : SqlValue(purge_delay), from};
			SqlResult result =
			    archive ? ArchiveRows(t, rows, p)
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
	std::string left = AccountLeftover(t, o, due_rows, {cutoff}, {TEXTOID}, horizon);
	Finish(t, "", action, o, started, left);
}

} // namespace pg_retention::pg::lifecycle
