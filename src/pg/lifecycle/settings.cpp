/*-------------------------------------------------------------------------
 *
 * settings.cpp
 *		The lifecycle's settings: batch sizing, lock timeout, history, the
 *		access path of row purges and archives, the throttle.
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
int access_path = static_cast<int>(AccessPathSetting::Auto);
double heap_path_min_share = 0.1;
int heap_path_min_pages = 256;
double cost_delay_ms = -1;
int cost_limit = 200;

namespace
{

const struct config_enum_entry access_path_options[] = {
    {"auto", static_cast<int>(AccessPathSetting::Auto), false},
    {"index", static_cast<int>(AccessPathSetting::Index), false},
    {"heap", static_cast<int>(AccessPathSetting::Heap), false},
    {NULL, 0, false}};

} // namespace

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
		DefineCustomEnumVariable(
		    "retention.access_path", "How row purges and archives find their due rows.",
		    "auto: in heap order (block ranges) when a large share of a big table is due, "
		    "else through the age index; index or heap force one (tests, diagnosis).",
		    &access_path, static_cast<int>(AccessPathSetting::Auto), access_path_options, PGC_SUSET,
		    0, NULL, NULL, NULL);
		DefineCustomRealVariable(
		    "retention.heap_path_min_share",
		    "Share of a table's rows due from which auto purges and archives in heap order.", NULL,
		    &heap_path_min_share, 0.1, 0.0, 1.0, PGC_SUSET, 0, NULL, NULL, NULL);
		DefineCustomIntVariable(
		    "retention.heap_path_min_pages",
		    "Pages a table needs for auto to purge and archive it in heap order.", NULL,
		    &heap_path_min_pages, 256, 0, INT_MAX, PGC_SUSET, 0, NULL, NULL, NULL);
		DefineCustomRealVariable(
		    "retention.cost_delay",
		    "Throttle of lifecycle runs: milliseconds slept per cost_limit of buffer work.",
		    "-1: 2 ms in the background worker, off (0) in a manual run.", &cost_delay_ms, -1, -1,
		    100, PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
		DefineCustomIntVariable("retention.cost_limit",
		                        "Buffer work of a lifecycle run between two throttle sleeps.",
		                        "Counted as vacuum_cost_page_hit, _miss and _dirty count it.",
		                        &cost_limit, 200, 1, 10000, PGC_USERSET, 0, NULL, NULL, NULL);
		DefineCustomIntVariable("retention.history_days", "Days of run history kept.", NULL,
		                        &history_days, 90, 1, 36500, PGC_SIGHUP, 0, NULL, NULL, NULL);
	});
}

} // namespace pg_retention::pg
