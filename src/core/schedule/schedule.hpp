/*-------------------------------------------------------------------------
 *
 * schedule.hpp
 *		Scheduling arithmetic of the background worker: when the daily run
 *		is due, in a time zone's wall-clock time, and when a failed run is
 *		retried.
 *
 *		The worker runs once a day at a local time of day ("run at 02:30
 *		Europe/Paris"), inside a window of a maximum duration.  Each day's
 *		scheduled instant opens a *slot*; the slot is done when a run in it
 *		completes.  A run that fails (or crashes) is retried with backoff
 *		(base, base x 5, base x 25, ...) while the window is open, up to a
 *		retry limit; then the worker waits for the next slot.  A run stopped
 *		by its window closing resumes in the next slot.
 *
 *		Everything here is pure arithmetic on instants, so it is unit-tested
 *		with fake time zones and an injected "now".  Time zone rules come
 *		through TimeZoneRules: the glue layer answers with PostgreSQL's own
 *		zone database (pg_localtime), tests with hand-made rules.
 *
 * IDENTIFICATION
 *		src/core/schedule/schedule.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "base/cpp_only.hpp"

namespace pg_retention
{

/* An instant: microseconds since 2000-01-01 00:00:00 UTC (PostgreSQL's TimestampTz). */
using Instant = int64_t;
/* "No such instant": never scheduled, never happened. */
constexpr Instant kNoInstant = std::numeric_limits<int64_t>::min();

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

/* The offset of local wall-clock time from UTC, as a function of time. */
class TimeZoneRules
{
public:
	virtual ~TimeZoneRules() = default;
	/* Local time minus UTC, in seconds, in effect at `at` (east of Greenwich is positive). */
	virtual int64_t UtcOffsetSeconds(Instant at) const = 0;
};

/* A zone that never changes its offset (UTC, or a fixed "+05:30"). */
class FixedOffsetZone : public TimeZoneRules
{
public:
	explicit FixedOffsetZone(int64_t offset_seconds) : offset_(offset_seconds) {}
	int64_t UtcOffsetSeconds(Instant) const override { return offset_; }

private:
	int64_t offset_;
};

/* "HH:MM" (or "H:MM"), 00:00 to 23:59 -> minutes after midnight; nullopt if malformed. */
std::optional<int> ParseTimeOfDay(std::string_view text);

/* Minutes after midnight -> "HH:MM". */
std::string FormatTimeOfDay(int minute_of_day);

/* The local calendar day of an instant: days since 2000-01-01 on the local wall clock. */
int64_t LocalDay(Instant at, const TimeZoneRules &zone);

/*
 * The first instant at which the local wall clock of `local_day` shows
 * `minute_of_day` or later.  On a day the clock jumps over that time
 * (spring forward), that is the instant of the jump; on a day it shows it
 * twice (fall back), the first time.
 */
Instant LocalTimeToInstant(int64_t local_day, int minute_of_day, const TimeZoneRules &zone);

struct DailySchedule {
	int minute_of_day = 3 * 60;                  /* run at 03:00 local time */
	int64_t window = 4 * kMicrosPerHour;         /* a run must end this long after its slot opens */
	int64_t retry_base_delay = kMicrosPerMinute; /* first retry after a failure */
	int retry_limit = 3;                         /* retries per slot after the first failure */
};

/* The latest scheduled instant at or before `now`. */
Instant SlotAtOrBefore(Instant now, const DailySchedule &schedule, const TimeZoneRules &zone);
/* The first scheduled instant after `now`. */
Instant SlotAfter(Instant now, const DailySchedule &schedule, const TimeZoneRules &zone);

/* What the worker remembers about the current slot (one row per database). */
struct SlotState {
	Instant slot = kNoInstant;         /* the slot the fields below describe */
	bool done = false;                 /* a run of this slot completed */
	int failures = 0;                  /* consecutive failed or crashed runs in this slot */
	Instant last_failure = kNoInstant; /* when the last of them ended */
};

/* How a run ended, for the schedule. */
enum class RunOutcome {
	Completed, /* succeeded, or went through with some tables failing: the slot is done */
	Stopped,   /* stopped between batches (window closed, SIGTERM, disabled): resumes later */
	Failed     /* failed or crashed: retried with backoff */
};

/* What to do now. */
struct RunPlan {
	bool run = false;                /* start a run now */
	Instant deadline = kNoInstant;   /* when run: stop between batches after this instant */
	Instant next_check = kNoInstant; /* when not run: when to look again */
	SlotState state;                 /* the state, moved on to the current slot */
	std::string reason;              /* why, in words, for logs and status */
};

/* Decides whether a scheduled run is due at `now`, given what happened in earlier runs. */
RunPlan PlanRun(Instant now, const DailySchedule &schedule, const TimeZoneRules &zone,
                const SlotState &state);

/* The state after a run of the slot `state.slot` ended at `now` with `outcome`. */
SlotState AfterRun(SlotState state, RunOutcome outcome, Instant now);

/*
 * When a slot with `failures` (>= 1) failures, the last ending at
 * `last_failure`, may be retried; nullopt when the retries are used up.
 */
std::optional<Instant> RetryAt(int failures, Instant last_failure, const DailySchedule &schedule);

} // namespace pg_retention
