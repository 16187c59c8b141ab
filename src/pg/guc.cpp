/*-------------------------------------------------------------------------
 *
 * guc.cpp
 *		Every retention.* setting, defined in one place (see guc.hpp and the
 *		README's Settings).  Check and assign hooks stay with the code that
 *		owns the value (worker/worker_settings.cpp); settings for tests only
 *		say so and are left out of postgresql.conf.sample.
 *
 * IDENTIFICATION
 *		src/pg/guc.cpp
 *-------------------------------------------------------------------------
 */
#include <climits>

#include "worker/worker_settings.hpp"

#include "boundary/guard.hpp"
#include "guc.hpp"

namespace pg_retention::pg
{

int batch_target_ms = 100;
int batch_max_rows = 50000;
int lock_timeout_ms = 200;
int access_path = static_cast<int>(AccessPathSetting::Auto);
double heap_path_min_share = 0.1;
int heap_path_min_pages = 256;
double cost_delay_ms = -1;
int cost_limit = 200;
int deprecated_batch_target_ms = 0;
int deprecated_lock_timeout_ms = 0;
int history_days = 90;

int late_write_margin_minutes = 24 * 60;

bool auto_approve_erasure = false;

char *key_file_setting = nullptr;
char *key_command_setting = nullptr;
int key_version_setting = 1;
char *previous_key_file_setting = nullptr;
int previous_key_version_setting = 0;

bool worker_enabled = true;
char *run_at_setting = nullptr;
char *time_zone_setting = nullptr;
int max_run_minutes = 240;
int retry_base_seconds = 60;
int retry_limit = 3;
int max_workers = 2;
char *test_clock_setting = nullptr;

int BatchTargetMs()
{
	return deprecated_batch_target_ms > 0 ? deprecated_batch_target_ms : batch_target_ms;
}

int LockTimeoutMs()
{
	return deprecated_lock_timeout_ms > 0 ? deprecated_lock_timeout_ms : lock_timeout_ms;
}

namespace
{

const struct config_enum_entry access_path_options[] = {
    {"auto", static_cast<int>(AccessPathSetting::Auto), false},
    {"index", static_cast<int>(AccessPathSetting::Index), false},
    {"heap", static_cast<int>(AccessPathSetting::Heap), false},
    {"key", static_cast<int>(AccessPathSetting::Key), false},
    {NULL, 0, false}};

void DefineLifecycleSettings()
{
	DefineCustomIntVariable(
	    "retention.batch_target", gettext_noop("Time a lifecycle batch aims at."),
	    gettext_noop("Each batch is committed; row locks are held at most this long."),
	    &batch_target_ms, 100, 1, 60000, PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.batch_max_rows",
	                        gettext_noop("Most rows in one lifecycle batch."), NULL,
	                        &batch_max_rows, 50000, 1, 1000000, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable(
	    "retention.lock_timeout",
	    gettext_noop("How long a batch waits for a row lock held by the application."),
	    gettext_noop("A batch that waits longer is rolled back and retried."), &lock_timeout_ms,
	    200, 1, 60000, PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	/*
	 * 0.1.0's names, with a unit suffix the unit already gives: still read
	 * (a postgresql.conf of 0.1.0 keeps working), shown nowhere.  When set
	 * (not 0) they win over the new names; see BatchTargetMs().
	 */
	DefineCustomIntVariable("retention.batch_target_ms",
	                        gettext_noop("Deprecated name of retention.batch_target."),
	                        gettext_noop("0 (the default) defers to retention.batch_target."),
	                        &deprecated_batch_target_ms, 0, 0, 60000, PGC_SUSET,
	                        GUC_UNIT_MS | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.lock_timeout_ms",
	                        gettext_noop("Deprecated name of retention.lock_timeout."),
	                        gettext_noop("0 (the default) defers to retention.lock_timeout."),
	                        &deprecated_lock_timeout_ms, 0, 0, 60000, PGC_SUSET,
	                        GUC_UNIT_MS | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
	DefineCustomEnumVariable(
	    "retention.access_path", gettext_noop("How the lifecycle's batches find their rows."),
	    gettext_noop(
	        "auto: by primary key on Citus tables; in heap order (block ranges) when a large "
	        "share of a big table is due (row purges and archives; value stages when no trigger, "
	        "rule or row security can alter the run's updates), else through the age index; "
	        "index, heap or key force one (tests, diagnosis)."),
	    &access_path, static_cast<int>(AccessPathSetting::Auto), access_path_options, PGC_SUSET, 0,
	    NULL, NULL, NULL);
	DefineCustomRealVariable(
	    "retention.heap_path_min_share",
	    gettext_noop("Share of a table's rows due from which auto processes it in heap order."),
	    NULL, &heap_path_min_share, 0.1, 0.0, 1.0, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable(
	    "retention.heap_path_min_pages",
	    gettext_noop("Pages a table needs for auto to process it in heap order."), NULL,
	    &heap_path_min_pages, 256, 0, INT_MAX, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable(
	    "retention.cost_delay",
	    gettext_noop("Throttle of lifecycle runs: time slept per cost_limit of buffer work."),
	    gettext_noop("-1: 2 ms in the background worker, off (0) in a manual run."), &cost_delay_ms,
	    -1, -1, 100, PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable(
	    "retention.cost_limit",
	    gettext_noop("Buffer work of a lifecycle run between two throttle sleeps."),
	    gettext_noop("Counted as vacuum_cost_page_hit, _miss and _dirty count it."), &cost_limit,
	    200, 1, 10000, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.history_days", gettext_noop("Days of run history kept."),
	                        NULL, &history_days, 90, 1, 36500, PGC_SIGHUP, 0, NULL, NULL, NULL);
}

void DefineWritePathSettings()
{
	DefineCustomIntVariable(
	    "retention.late_write_margin",
	    gettext_noop("How close to due a written row is queued for the next run."),
	    gettext_noop(
	        "Covers transactions that straddle a run's start; a larger margin queues more rows."),
	    &late_write_margin_minutes, 24 * 60, 0, kLateWriteMarginMaxMinutes, PGC_SUSET, GUC_UNIT_MIN,
	    NULL, NULL, NULL);
}

void DefineRightsSettings()
{
	DefineCustomBoolVariable(
	    "retention.auto_approve_erasure",
	    gettext_noop("Approves erasure requests as they are received."),
	    gettext_noop("Approved requests are carried out by the background worker, or by "
	                 "retention.process_erasure_requests()."),
	    &auto_approve_erasure, false, PGC_SUSET, 0, NULL, NULL, NULL);
}

/* Read once at server start, by the postmaster: PGC_POSTMASTER, superuser only. */
void DefineServerKeySettings()
{
	DefineCustomStringVariable(
	    "retention.key_file",
	    gettext_noop("File holding the retention server key (64 hex characters)."),
	    gettext_noop("Read once at server start; the key itself is never visible to SQL."),
	    &key_file_setting, "", PGC_POSTMASTER, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomStringVariable(
	    "retention.key_command", gettext_noop("Command whose output is the retention server key."),
	    gettext_noop("Run once at server start, like pgsodium's getkey script."),
	    &key_command_setting, "", PGC_POSTMASTER, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomIntVariable(
	    "retention.key_version", gettext_noop("Version number of the server key."),
	    gettext_noop("Raise it when rotating the key; see the README."), &key_version_setting, 1, 1,
	    INT_MAX, PGC_POSTMASTER, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomStringVariable(
	    "retention.previous_key_file", gettext_noop("File holding the server key being retired."),
	    gettext_noop("Set during a key rotation until retention.rewrap_archive_keys() has run."),
	    &previous_key_file_setting, "", PGC_POSTMASTER, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.previous_key_version",
	                        gettext_noop("Version number of the server key being retired."), NULL,
	                        &previous_key_version_setting, 0, 0, INT_MAX, PGC_POSTMASTER,
	                        GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
}

void DefineWorkerSettings()
{
	DefineCustomBoolVariable(
	    "retention.worker_enabled",
	    gettext_noop("Runs the lifecycle on schedule in every database."),
	    gettext_noop(
	        "Off: the background worker starts nothing, and a run in progress stops between "
	        "batches."),
	    &worker_enabled, true, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("retention.run_at",
	                           gettext_noop("Time of day of the daily lifecycle run (HH:MM)."),
	                           gettext_noop("Local time in retention.time_zone."), &run_at_setting,
	                           "03:00", PGC_SIGHUP, 0, CheckRunAt, AssignRunAt, NULL);
	DefineCustomStringVariable(
	    "retention.time_zone", gettext_noop("Time zone of retention.run_at, e.g. Europe/Paris."),
	    NULL, &time_zone_setting, "UTC", PGC_SIGHUP, 0, CheckTimeZone, AssignTimeZone, NULL);
	DefineCustomIntVariable(
	    "retention.max_run_duration", gettext_noop("Longest a scheduled run may last."),
	    gettext_noop(
	        "The run stops between batches when this much time has passed since its scheduled "
	        "start, and resumes at the next scheduled run."),
	    &max_run_minutes, 240, 1, 24 * 60, PGC_SIGHUP, GUC_UNIT_MIN, NULL, NULL, NULL);
	DefineCustomIntVariable(
	    "retention.retry_base_delay", gettext_noop("Wait before retrying a failed run."),
	    gettext_noop("Each further retry waits five times longer, within the run's window."),
	    &retry_base_seconds, 60, 1, 24 * 3600, PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable(
	    "retention.retry_limit",
	    gettext_noop("Retries of a failed run before waiting for the next schedule."), NULL,
	    &retry_limit, 3, 0, 100, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable(
	    "retention.max_workers", gettext_noop("Databases processed at the same time."),
	    gettext_noop(
	        "Each takes one of max_worker_processes while it runs; the launcher takes one more."),
	    &max_workers, 2, 1, 1024, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable(
	    "retention.test_clock", gettext_noop("For tests only: the time the worker believes it is."),
	    gettext_noop("Empty: the real clock.  Used by the schedule and as the lifecycle's now."),
	    &test_clock_setting, "", PGC_SUSET, GUC_NOT_IN_SAMPLE, CheckTestClock, AssignTestClock,
	    NULL);
}

} // namespace

void DefineSettings()
{
	PgCall([] {
		DefineServerKeySettings();
		DefineLifecycleSettings();
		DefineWritePathSettings();
		DefineRightsSettings();
		DefineWorkerSettings();
	});
}

} // namespace pg_retention::pg
