/*-------------------------------------------------------------------------
 *
 * history.cpp
 *		Housekeeping of the run history: runs a crash left "running" are
 *		marked "crashed" with what they did, and history past
 *		retention.history_days goes.
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/history.cpp
 *-------------------------------------------------------------------------
 */
#include "guc.hpp"
#include "lifecycle/engine.hpp"

namespace pg_retention::pg
{

using lifecycle::kRunLockClass;
using lifecycle::Str;

int64_t MarkCrashedRuns()
{
	/*
	 * A run in progress holds the run lock (Engine::AcquireRunLock).  The
	 * counts come from run_detail, committed with each batch: the history
	 * says what the crashed run did (archived rows purged are not in it).
	 */
	return Sql("UPDATE retention.run_history h SET status = 'crashed', finished_at = "
	           "clock_timestamp(), message = 'the server or the backend stopped during the run', "
	           "rows_minimized = d.minimized, rows_anonymized = d.anonymized, values_purged = "
	           "d.values_purged, rows_archived = d.archived, rows_purged = d.purged, "
	           "rows_blocked = d.blocked, tables_failed = d.failed "
	           "FROM (SELECT h2.run_id, "
	           "  coalesce(sum(x.done) FILTER (WHERE x.action = 'minimize'), 0) AS minimized, "
	           "  coalesce(sum(x.done) FILTER (WHERE x.action = 'anonymize'), 0) AS anonymized, "
	           "  coalesce(sum(x.done) FILTER (WHERE x.action = 'purge_value'), 0) AS "
	           "values_purged, "
	           "  coalesce(sum(x.done) FILTER (WHERE x.action = 'archive'), 0) AS archived, "
	           "  coalesce(sum(x.done) FILTER (WHERE x.action IN ('purge', 'drop partition')), 0) "
	           "AS purged, "
	           "  coalesce(sum(x.blocked), 0) AS blocked, "
	           "  count(DISTINCT x.table_name) FILTER (WHERE x.status = 'failed') AS failed "
	           "  FROM retention.run_history h2 LEFT JOIN retention.run_detail x "
	           "  ON x.run_id = h2.run_id WHERE h2.status = 'running' GROUP BY h2.run_id) d "
	           "WHERE d.run_id = h.run_id AND h.status = 'running' AND NOT EXISTS (SELECT 1 FROM "
	           "pg_catalog.pg_locks l "
	           "WHERE l.locktype = 'advisory' AND l.database = $2::oid AND l.classid = $1::oid "
	           "AND l.objid = $2::oid AND l.objsubid = 2 AND l.granted AND l.pid = h.backend_pid)",
	           {Str(static_cast<uint32_t>(kRunLockClass)), Str(MyDatabaseId)})
	    .processed;
}

int64_t PruneRunHistory()
{
	return Sql("DELETE FROM retention.run_history WHERE started_at < clock_timestamp() - "
	           "make_interval(days => $1::int) AND status <> 'running'",
	           {Str(history_days)})
	    .processed;
}

} // namespace pg_retention::pg
