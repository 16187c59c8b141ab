/*-------------------------------------------------------------------------
 *
 * purge_archive.cpp
 *		The last stage of a run: archived rows past their purge_after are
 *		deleted from the archive, in batches.
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/purge_archive.cpp
 *-------------------------------------------------------------------------
 */
#include "lifecycle/engine.hpp"

namespace pg_retention::pg::lifecycle
{

/*
 * Expired archived rows, oldest first: the order makes the planner walk the
 * purge_after index (the archive table rarely has statistics), so the cost
 * follows the rows expired, not the archive's size.
 */
void Engine::PurgeArchive()
{
	int64_t size = batch_max_rows;
	for (;;) {
		int64_t purged = 0;
		Batch([&] {
			purged = Sql("DELETE FROM retention_archive.archived_row WHERE id = ANY (ARRAY("
			             "SELECT id FROM retention_archive.archived_row WHERE purge_after < "
			             "$1::timestamptz ORDER BY purge_after LIMIT $2::bigint))",
			             {now_, Str(size)})
			             .processed;
			summary_.archive_purged += purged;
		});
		if (purged < size || StopRequested())
			break;
	}
}

} // namespace pg_retention::pg::lifecycle
