/*-------------------------------------------------------------------------
 *
 * stage_support.cpp
 *		What every stage uses besides its batches: the count before its
 *		batches, the horizon and the probe of what it left behind, the
 *		check that the engine's own update did not move a row's age, and
 *		the cutoff instant of a delay in the age column's type.
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/stage_support.cpp
 *-------------------------------------------------------------------------
 */
#include <string>
#include <utility>
#include <vector>

#include "lifecycle/engine.hpp"
#include "boundary/owner_sql.hpp"

namespace pg_retention::pg::lifecycle
{

namespace
{

struct ProbeDone {
};

} // namespace

/*
 * A count over the table before its batches, in a subtransaction: a lock
 * it cannot get (lock_timeout) fails this table only, cleanly.
 */
int64_t Engine::Count(const Target &t, const std::string &sql, const std::vector<SqlValue> &params)
{
	int64_t n = 0;
	InEngineSubtransaction([&] { n = OwnerSql(t.leaf.relid, sql, params).ScalarInt(); });
	return n;
}

/*
 * The first transaction id a stage's start did not see: a row whose xmin
 * is not older was written (inserted, or updated by the application)
 * while the stage ran.
 */
std::string Engine::StageHorizon()
{
	return Sql("SELECT pg_catalog.xid(pg_catalog.pg_snapshot_xmax("
	           "pg_catalog.pg_current_snapshot()))::text",
	           {})
	    .Scalar()
	    .value();
}

/*
 * What a stage left behind: the rows of `due_select` ("SELECT ... FROM
 * table r WHERE <still due, ahead of the stage's last position>") that
 * were already there when the stage started.  Those an application
 * transaction holds are `locked` (the stage skipped them: blocked, for
 * the next run); any other one is a row the stage should have processed
 * and did not.  One statement per stage, in a subtransaction rolled back
 * at once: its FOR UPDATE SKIP LOCKED takes row locks only to tell which
 * rows are held, and runs only when a first plain count finds any row.  Rows written while the
 * stage ran (xmin not older than `horizon`) are the next run's: they are ahead of the watermark, or
 * the write trigger queued them, and the next run takes them, so they never make a run partial (an
 * xmin older than 2^31 transactions, frozen long ago, reads as new: such a row is not counted).
 */
std::pair<int64_t, int64_t> Engine::ProbeLeftover(const Target &t, const std::string &due_select,
                                                  std::vector<SqlValue> params,
                                                  std::vector<Oid> types,
                                                  const std::string &horizon)
{
	/*
	 * A Citus table's rows carry the xmin of their shard's node, and Citus
	 * refuses FOR UPDATE: every row still due counts as left undone.
	 */
	if (t.citus != CitusKind::None) {
		int64_t left = 0;
		InEngineSubtransaction([&] {
			left = OwnerTypedSql(t.leaf.relid, "SELECT count(*) FROM (" + due_select + ") a",
			                     params, types)
			           .ScalarInt();
		});
		return {0, left};
	}
	params.push_back(horizon);
	types.push_back(TEXTOID);
	std::string rows = due_select + " AND pg_catalog.age(r.xmin) > pg_catalog.age($" +
	                   Str(static_cast<int64_t>(params.size())) + "::text::xid)";
	int64_t all = 0;
	int64_t unlocked = 0;
	try {
		InEngineSubtransaction([&] {
			/* nearly always nothing is left: one plain scan says so */
			if (OwnerTypedSql(t.leaf.relid, "SELECT count(*) FROM (" + rows + ") a", params, types)
			        .ScalarInt() == 0)
				throw ProbeDone{};
			SqlResult r = OwnerTypedSql(t.leaf.relid,
			                            "SELECT (SELECT count(*) FROM (" + rows +
			                                ") a)::text, (SELECT count(*) FROM (" + rows +
			                                " FOR UPDATE OF r SKIP LOCKED) b)::text",
			                            params, types);
			all = std::stoll(r.rows.at(0).at(0).value());
			unlocked = std::stoll(r.rows.at(0).at(1).value());
			throw ProbeDone{};
		});
	} catch (const ProbeDone &) {
	}
	return {all - unlocked, unlocked};
}

/*
 * Ends a stage's accounting with the probe: locked rows are reported as
 * blocked; returns why the stage is partial ("" when it is not).
 */
std::string Engine::AccountLeftover(const Target &t, StageOutcome &o, const std::string &due_select,
                                    const std::vector<SqlValue> &params,
                                    const std::vector<Oid> &types, const std::string &horizon)
{
	if (o.due == 0 || StopRequested())
		return "";
	auto [locked, left] = ProbeLeftover(t, due_select, params, types, horizon);
	return AccountLeft(o, locked, left);
}

/* The same from a probe already made: `locked` and `left` rows. */
std::string Engine::AccountLeft(StageOutcome &o, int64_t locked, int64_t left)
{
	if (locked > 0) {
		o.blocked += locked;
		summary_.rows_blocked += locked;
		o.blocked_by +=
		    std::string(o.blocked_by.empty() ? "" : ", ") + "locked by another transaction";
	}
	if (left == 0)
		return "";
	return Str(left) + " due row(s) left undone: they were due when the stage started, " +
	       "are not locked, and the stage's batches ended before them";
}

/*
 * Fails the batch (rolled back: no row keeps a changed age) when the
 * engine's own UPDATE changed the age column of a row: a BEFORE UPDATE
 * trigger rewrote it, and the row would silently start aging anew.
 * `moved` is how many returned rows have a new age.
 */
void Engine::FailIfAgeMoved(const Target &t, int64_t moved, const char *action)
{
	if (moved == 0)
		return;
	throw BatchFailed{std::string(action) + " changed the age column " +
	                      *t.declared->policy->age_column + " of " + Str(moved) + " row(s) of " +
	                      t.leaf.qualified + ": a BEFORE UPDATE trigger rewrites it: " +
	                      DescribeAgeTriggers(
	                          BeforeUpdateTriggers(t.leaf.relid, *t.declared->policy->age_column)) +
	                      "; the batch was rolled back",
	                  "09000"};
}

/* A cast to the age's type runs its domain's CHECK, the owner's code: as the owner. */
std::string Engine::Cutoff(const Target &t, const Delay &delay)
{
	return OwnerSql(t.leaf.relid,
	                "SELECT ($1::timestamptz - $2::interval)::" + t.age_type + "::text",
	                {now_, delay.ToPgInterval()})
	    .Scalar()
	    .value();
}

} // namespace pg_retention::pg::lifecycle
