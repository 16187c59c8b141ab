/*-------------------------------------------------------------------------
 *
 * schedule.cpp
 *		Scheduling arithmetic of the background worker (see schedule.hpp).
 *
 * IDENTIFICATION
 *		src/core/schedule/schedule.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>
#include <cstdio>

#include "schedule/schedule.hpp"

namespace pg_retention
{

namespace
{

/* Multiplier between consecutive retry delays: 1, 5, 25 minutes for a 1-minute base. */
constexpr int64_t kRetryFactor = 5;
/* No single retry delay is longer than this (the next slot comes first anyway). */
constexpr int64_t kMaxRetryDelay = 7 * kMicrosPerDay;

int64_t FloorDiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The local wall-clock reading at `at`, as microseconds since local 2000-01-01 00:00. */
Instant LocalWallClock(Instant at, const TimeZoneRules &zone)
{
	return at + zone.UtcOffsetSeconds(at) * kMicrosPerSecond;
}

} // namespace

std::optional<int> ParseTimeOfDay(std::string_view text)
{
	auto digit = [](char c) { return c >= '0' && c <= '9'; };
	size_t colon = text.find(':');
	if (colon == std::string_view::npos || colon == 0 || colon > 2 || text.size() != colon + 3)
		return std::nullopt;
	for (size_t i = 0; i < text.size(); i++)
		if (i != colon && !digit(text[i]))
			return std::nullopt;
	int hours = 0;
	for (size_t i = 0; i < colon; i++)
		hours = hours * 10 + (text[i] - '0');
	int minutes = (text[colon + 1] - '0') * 10 + (text[colon + 2] - '0');
	if (hours > 23 || minutes > 59)
		return std::nullopt;
	return hours * 60 + minutes;
}

std::string FormatTimeOfDay(int minute_of_day)
{
	char text[16];
	std::snprintf(text, sizeof(text), "%02d:%02d", minute_of_day / 60, minute_of_day % 60);
	return text;
}

int64_t LocalDay(Instant at, const TimeZoneRules &zone)
{
	return FloorDiv(LocalWallClock(at, zone), kMicrosPerDay);
}

/*
 * A wall-clock reading maps to zero, one or two instants.  The candidates
 * are the readings under each offset in effect within a day and a half
 * around it (transitions are rare: at most one is assumed in that span);
 * a candidate is real when the zone's offset at that instant gives back
 * the reading.  Two real ones: the clock fell back, take the first.  None:
 * the clock jumped over the reading; the first instant past it is found by
 * bisection over whole seconds, where the wall clock only moves forward.
 */
Instant LocalTimeToInstant(int64_t local_day, int minute_of_day, const TimeZoneRules &zone)
{
	const Instant reading = local_day * kMicrosPerDay + minute_of_day * kMicrosPerMinute;
	const int64_t offsets[] = {zone.UtcOffsetSeconds(reading - 36 * kMicrosPerHour),
	                           zone.UtcOffsetSeconds(reading),
	                           zone.UtcOffsetSeconds(reading + 36 * kMicrosPerHour)};
	std::optional<Instant> first;
	for (int64_t offset : offsets) {
		Instant candidate = reading - offset * kMicrosPerSecond;
		if (LocalWallClock(candidate, zone) == reading && (!first || candidate < *first))
			first = candidate;
	}
	if (first)
		return *first;

	const auto [low_offset, high_offset] = std::minmax({offsets[0], offsets[1], offsets[2]});
	Instant before = reading - high_offset * kMicrosPerSecond; /* wall clock still short of it */
	Instant after = reading - low_offset * kMicrosPerSecond;   /* wall clock past it */
	if (!(LocalWallClock(before, zone) < reading && LocalWallClock(after, zone) >= reading))
		return reading - offsets[1] * kMicrosPerSecond; /* rules we do not understand */
	while (after - before > kMicrosPerSecond) {
		Instant middle = before + (after - before) / kMicrosPerSecond / 2 * kMicrosPerSecond;
		if (LocalWallClock(middle, zone) >= reading)
			after = middle;
		else
			before = middle;
	}
	return after;
}

Instant SlotAtOrBefore(Instant now, const DailySchedule &schedule, const TimeZoneRules &zone)
{
	int64_t day = LocalDay(now, zone);
	Instant slot = LocalTimeToInstant(day, schedule.minute_of_day, zone);
	return slot <= now ? slot : LocalTimeToInstant(day - 1, schedule.minute_of_day, zone);
}

Instant SlotAfter(Instant now, const DailySchedule &schedule, const TimeZoneRules &zone)
{
	int64_t day = LocalDay(now, zone);
	Instant slot = LocalTimeToInstant(day, schedule.minute_of_day, zone);
	return slot > now ? slot : LocalTimeToInstant(day + 1, schedule.minute_of_day, zone);
}

std::optional<Instant> RetryAt(int failures, Instant last_failure, const DailySchedule &schedule)
{
	if (failures > schedule.retry_limit)
		return std::nullopt;
	int64_t delay = schedule.retry_base_delay;
	for (int i = 1; i < failures && delay < kMaxRetryDelay; i++)
		delay *= kRetryFactor;
	delay = std::min(delay, kMaxRetryDelay);
	return last_failure == kNoInstant ? kNoInstant : last_failure + delay;
}

/*
 * The slot that matters is the latest one at or before `now`; a state
 * about an older slot (or a newer one: the clock went back) starts afresh.
 */
RunPlan PlanRun(Instant now, const DailySchedule &schedule, const TimeZoneRules &zone,
                const SlotState &state)
{
	RunPlan plan;
	const Instant slot = SlotAtOrBefore(now, schedule, zone);
	plan.state = state.slot == slot ? state : SlotState{slot, false, 0, kNoInstant};
	const Instant window_end = slot + schedule.window;
	const Instant next_slot = SlotAfter(now, schedule, zone);
	plan.next_check = next_slot;

	if (plan.state.done) {
		plan.reason = "the scheduled run completed";
		return plan;
	}
	if (now >= window_end) {
		plan.reason = "outside the run window";
		return plan;
	}
	if (plan.state.failures > 0) {
		std::optional<Instant> retry =
		    RetryAt(plan.state.failures, plan.state.last_failure, schedule);
		if (!retry) {
			plan.reason = "retries used up until the next scheduled run";
			return plan;
		}
		if (now < *retry) {
			if (*retry < window_end)
				plan.next_check = *retry;
			plan.reason = *retry < window_end ? "waiting to retry a failed run"
			                                  : "the next retry would fall outside the run window";
			return plan;
		}
		plan.reason = "retrying a failed run";
	} else {
		plan.reason = "the scheduled run is due";
	}
	plan.run = true;
	plan.deadline = window_end;
	plan.next_check = kNoInstant;
	return plan;
}

SlotState AfterRun(SlotState state, RunOutcome outcome, Instant now)
{
	switch (outcome) {
	case RunOutcome::Completed:
		state.done = true;
		state.failures = 0;
		break;
	case RunOutcome::Stopped:
		break;
	case RunOutcome::Failed:
		state.failures++;
		state.last_failure = now;
		break;
	}
	return state;
}

} // namespace pg_retention
