/*-------------------------------------------------------------------------
 *
 * worker_settings.cpp
 *		The background worker's settings and clock (see worker_settings.hpp).
 *
 *		Every setting is reloadable (PGC_SIGHUP) except retention.test_clock,
 *		which only a superuser may set (ALTER SYSTEM + reload in the TAP
 *		tests).  Check hooks reject what the schedule could not use, so a
 *		typo in postgresql.conf is reported at reload and the previous value
 *		stays in force.
 *
 * IDENTIFICATION
 *		src/pg/worker/worker_settings.cpp
 *-------------------------------------------------------------------------
 */
#include <cctype>
#include <cstdlib>
#include <optional>
#include <string>

#include "schedule/schedule.hpp"

#include "guc.hpp"
#include "boundary/guard.hpp"
#include "worker/worker_settings.hpp"
#include "boundary/compat.hpp"

extern "C" {
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"
}

namespace pg_retention::pg
{

namespace
{

int run_at_minute = 3 * 60;

struct TestClock {
	bool set;
	TimestampTz value;
};
TestClock test_clock = {false, 0};

/* TimeZoneRules answered by PostgreSQL's zone database. */
class PgTimeZone final : public TimeZoneRules
{
public:
	void Set(const pg_tz *zone) { zone_ = zone; }

	int64_t UtcOffsetSeconds(Instant at) const override
	{
		if (zone_ == nullptr)
			return 0;
		int64_t seconds = at / USECS_PER_SEC - (at % USECS_PER_SEC < 0 ? 1 : 0);
		pg_time_t unix_time = static_cast<pg_time_t>(
		    seconds + static_cast<int64_t>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY);
		struct pg_tm *local = pg_localtime(&unix_time, zone_);
		return local != nullptr ? local->tm_gmtoff : 0;
	}

private:
	const pg_tz *zone_ = nullptr;
};

PgTimeZone schedule_zone;

/* A GUC "extra" value (compat::GucExtraAlloc); nullptr tells the hook to fail. */
template <typename T> void *MallocExtra(const T &value)
{
	void *extra = compat::GucExtraAlloc(sizeof(T));
	if (extra != nullptr)
		*static_cast<T *>(extra) = value;
	return extra;
}

} // namespace

/* The hooks of the worker's settings (defined in guc.cpp). */

bool CheckRunAt(char **newval, void **extra, GucSource)
{
	std::optional<int> minute = ParseTimeOfDay(*newval != nullptr ? *newval : "");
	if (!minute) {
		GUC_check_errdetail(
		    "retention.run_at is a time of day written HH:MM, from 00:00 to 23:59.");
		return false;
	}
	*extra = MallocExtra(*minute);
	return *extra != nullptr;
}

void AssignRunAt(const char *, void *extra)
{
	run_at_minute = *static_cast<int *>(extra);
}

bool CheckTimeZone(char **newval, void **extra, GucSource)
{
	pg_tz *zone = *newval != nullptr ? pg_tzset(*newval) : nullptr;
	if (zone == nullptr) {
		GUC_check_errdetail("\"%s\" is not a time zone name PostgreSQL knows.",
		                    *newval != nullptr ? *newval : "");
		GUC_check_errhint("See the view pg_timezone_names, e.g. 'Europe/Paris' or 'UTC'.");
		return false;
	}
	if (!pg_tz_acceptable(zone)) {
		GUC_check_errdetail("Time zone \"%s\" appears to use leap seconds.", *newval);
		return false;
	}
	*extra = MallocExtra(zone);
	return *extra != nullptr;
}

void AssignTimeZone(const char *, void *extra)
{
	schedule_zone.Set(*static_cast<pg_tz **>(extra));
}

namespace
{

/*
 * A timestamptz literal, parsed without ereport (check hooks must not
 * throw): special values such as 'now' or 'infinity' are refused, the
 * clock has to be a definite instant.
 */
std::optional<TimestampTz> ParseClock(const char *text)
{
	char workbuf[MAXDATELEN + MAXDATEFIELDS];
	char *field[MAXDATEFIELDS];
	int ftype[MAXDATEFIELDS];
	int nf = 0;
	int dtype = 0;
	int tz = 0;
	struct pg_tm tm;
	fsec_t fsec = 0;
	Timestamp result = 0;
	if (!isdigit(static_cast<unsigned char>(text[0])))
		return std::nullopt;
	if (ParseDateTime(text, workbuf, sizeof(workbuf), field, ftype, MAXDATEFIELDS, &nf) != 0 ||
	    compat::DecodeDateTime(field, ftype, nf, &dtype, &tm, &fsec, &tz) != 0 ||
	    dtype != DTK_DATE || tm2timestamp(&tm, fsec, &tz, &result) != 0 ||
	    !IS_VALID_TIMESTAMP(result))
		return std::nullopt;
	return result;
}

} // namespace

bool CheckTestClock(char **newval, void **extra, GucSource)
{
	TestClock clock = {false, 0};
	if (*newval != nullptr && (*newval)[0] != '\0') {
		std::optional<TimestampTz> value = ParseClock(*newval);
		if (!value) {
			GUC_check_errdetail("retention.test_clock is empty (the real clock) or a timestamp "
			                    "with time zone, such as '2030-01-15 03:00:00+00'.");
			return false;
		}
		clock = {true, *value};
	}
	*extra = MallocExtra(clock);
	return *extra != nullptr;
}

void AssignTestClock(const char *, void *extra)
{
	test_clock = *static_cast<TestClock *>(extra);
}

bool WorkerEnabled()
{
	return worker_enabled;
}

int MaxConcurrentWorkers()
{
	return max_workers;
}

DailySchedule CurrentSchedule()
{
	DailySchedule schedule;
	schedule.minute_of_day = run_at_minute;
	schedule.window = static_cast<int64_t>(max_run_minutes) * kMicrosPerMinute;
	schedule.retry_base_delay = static_cast<int64_t>(retry_base_seconds) * kMicrosPerSecond;
	schedule.retry_limit = retry_limit;
	return schedule;
}

const TimeZoneRules &ScheduleZone()
{
	return schedule_zone;
}

std::string ScheduleFingerprint()
{
	return std::string(worker_enabled ? "on " : "off ") + FormatTimeOfDay(run_at_minute) + " " +
	       (time_zone_setting != nullptr ? time_zone_setting : "") + " " +
	       std::to_string(max_run_minutes) + " " + std::to_string(retry_base_seconds) + " " +
	       std::to_string(retry_limit) + " " +
	       (test_clock.set ? std::to_string(test_clock.value) : "real");
}

TimestampTz RetentionNow()
{
	return test_clock.set ? test_clock.value : GetCurrentTimestamp();
}

bool TestClockSet()
{
	return test_clock.set;
}

std::string TimestampText(TimestampTz ts)
{
	return PgCall([ts] { return timestamptz_to_str(ts); });
}

TimestampTz ParseTimestamp(const std::string &text)
{
	return PgCall([&] {
		return DatumGetTimestampTz(
		    DirectFunctionCall3(timestamptz_in, CStringGetDatum(text.c_str()),
		                        ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	});
}

} // namespace pg_retention::pg
