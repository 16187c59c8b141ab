/*-------------------------------------------------------------------------
 *
 * settings.cpp
 *		The lifecycle's settings: batch sizing, lock timeout, history.
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/settings.cpp
 *-------------------------------------------------------------------------
 */
#include "lifecycle/engine.hpp"
#include "module.hpp"

namespace pg_retention::pg
{

namespace lifecycle
{

int batch_target_ms = 100;
int batch_max_rows = 10000;
int lock_timeout_ms = 200;
int history_days = 90;
int lock_retries = 5;

} // namespace lifecycle

using namespace lifecycle;

void DefineLifecycleSettings()
{
	PgCall([] {
		DefineCustomIntVariable(
		    "retention.batch_target_ms", "Time a lifecycle batch aims at, in milliseconds.",
		    "Each batch is committed; row locks are held at most this long.", &batch_target_ms, 100,
		    1, 60000, PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
		DefineCustomIntVariable("retention.batch_max_rows", "Most rows in one lifecycle batch.",
		                        NULL, &batch_max_rows, 10000, 1, 1000000, PGC_SUSET, 0, NULL, NULL,
		                        NULL);
		DefineCustomIntVariable("retention.lock_timeout_ms",
		                        "How long a batch waits for a row lock held by the application.",
		                        "A batch that waits longer is rolled back and retried.",
		                        &lock_timeout_ms, 200, 1, 60000, PGC_SUSET, GUC_UNIT_MS, NULL, NULL,
		                        NULL);
		DefineCustomIntVariable("retention.history_days", "Days of run history kept.", NULL,
		                        &history_days, 90, 1, 36500, PGC_SIGHUP, 0, NULL, NULL, NULL);
	});
}

} // namespace pg_retention::pg
