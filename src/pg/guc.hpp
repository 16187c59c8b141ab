/*-------------------------------------------------------------------------
 *
 * guc.hpp
 *		Every retention.* setting, as the C++ code reads it.  All are
 *		defined in one place (guc.cpp), from _PG_init; the variables are
 *		only read elsewhere (PostgreSQL writes them).
 *
 * IDENTIFICATION
 *		src/pg/guc.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

namespace pg_retention::pg
{

/* The lifecycle's batches and history (lifecycle/) */
extern int batch_target_ms;            /* retention.batch_target (use BatchTargetMs()) */
extern int batch_max_rows;             /* retention.batch_max_rows */
extern int lock_timeout_ms;            /* retention.lock_timeout (use LockTimeoutMs()) */
extern int deprecated_batch_target_ms; /* retention.batch_target_ms, 0.1.0's name */
extern int deprecated_lock_timeout_ms; /* retention.lock_timeout_ms, 0.1.0's name */
/* The settings in effect: 0.1.0's name when it is set, else the new one. */
int BatchTargetMs();
int LockTimeoutMs();
/* retention.access_path: how row purges and archives find their due rows. */
enum class AccessPathSetting { Auto, Index, Heap, Key };
extern int access_path;
extern double heap_path_min_share; /* retention.heap_path_min_share */
extern int heap_path_min_pages;    /* retention.heap_path_min_pages */
/* The throttle (retention.cost_delay, retention.cost_limit). */
extern double cost_delay_ms;
extern int cost_limit;
extern int history_days; /* retention.history_days */

/* The write path (write_path/late_rows.cpp) */
extern int late_write_margin_minutes; /* retention.late_write_margin */
/* Its largest value: the late-row trigger's WHEN allows for it (write_path/minimize.cpp). */
constexpr int kLateWriteMarginMaxMinutes = 7 * 24 * 60;

/* Rights of data subjects (rights/erasure.cpp) */
extern bool auto_approve_erasure; /* retention.auto_approve_erasure */

/* The server key, read once by the postmaster (archive/server_key.cpp) */
extern char *key_file_setting;           /* retention.key_file */
extern char *key_command_setting;        /* retention.key_command */
extern int key_version_setting;          /* retention.key_version */
extern char *previous_key_file_setting;  /* retention.previous_key_file */
extern int previous_key_version_setting; /* retention.previous_key_version */

/* The background worker (worker/worker_settings.cpp) */
extern bool worker_enabled;      /* retention.worker_enabled */
extern char *run_at_setting;     /* retention.run_at */
extern char *time_zone_setting;  /* retention.time_zone */
extern int max_run_minutes;      /* retention.max_run_duration */
extern int retry_base_seconds;   /* retention.retry_base_delay */
extern int retry_limit;          /* retention.retry_limit */
extern int max_workers;          /* retention.max_workers */
extern char *test_clock_setting; /* retention.test_clock (tests only) */

/* Defines every retention.* setting; called first by _PG_init. */
void DefineSettings();

} // namespace pg_retention::pg
