/*-------------------------------------------------------------------------
 *
 * worker_settings.hpp
 *		The background worker's settings and clock, for the launcher, the
 *		per-database worker and the SQL functions that talk to them.
 *
 *		retention.run_at, retention.time_zone, retention.max_run_duration and
 *		the retry settings become a core DailySchedule (src/core/schedule.hpp)
 *		whose time zone rules come from PostgreSQL's zone database.  The
 *		clock is RetentionNow(): the real time, or retention.test_clock when
 *		a test injected one, so schedule tests are deterministic.
 *
 * IDENTIFICATION
 *		src/pg/worker/worker_settings.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <string>

#include "schedule/schedule.hpp"

#include "boundary/pg_headers.hpp"

namespace pg_retention::pg
{

/* Check and assign hooks of retention.run_at, time_zone and test_clock (guc.cpp). */
bool CheckRunAt(char **newval, void **extra, GucSource source);
void AssignRunAt(const char *newval, void *extra);
bool CheckTimeZone(char **newval, void **extra, GucSource source);
void AssignTimeZone(const char *newval, void *extra);
bool CheckTestClock(char **newval, void **extra, GucSource source);
void AssignTestClock(const char *newval, void *extra);

/* retention.worker_enabled */
bool WorkerEnabled();
/* retention.max_workers: per-database workers running at the same time. */
int MaxConcurrentWorkers();

/* The schedule the settings describe now (re-read after each SIGHUP). */
DailySchedule CurrentSchedule();
/* The rules of retention.time_zone. */
const TimeZoneRules &ScheduleZone();

/*
 * One string that changes whenever a setting that moves the schedule
 * changes: the launcher compares it across SIGHUPs to know whether the
 * databases' next runs must be recomputed.
 */
std::string ScheduleFingerprint();

/* retention.test_clock when set, else GetCurrentTimestamp(). */
TimestampTz RetentionNow();
/* Whether retention.test_clock is set. */
bool TestClockSet();

/* A timestamp as text that timestamptz input reads back exactly. */
std::string TimestampText(TimestampTz ts);
/* Parses timestamptz text (SQL output); throws PgError when malformed. */
TimestampTz ParseTimestamp(const std::string &text);

} // namespace pg_retention::pg
