/*-------------------------------------------------------------------------
 *
 * test_schedule.cpp
 *		Unit tests for the worker's schedule: time of day, wall-clock time
 *		in zones with daylight saving time, slots, windows and retries.
 *
 *		The zones are hand-made rules with known transitions (a Paris-like
 *		zone with the EU rules, a zone that skips a whole day like Samoa in
 *		2011), so the expected instants can be stated in UTC.
 *
 * IDENTIFICATION
 *		test/unit/test_schedule.cpp
 *-------------------------------------------------------------------------
 */
#include <gtest/gtest.h>

#include "schedule/calendar.hpp"
#include "schedule/schedule.hpp"

namespace pg_retention
{
namespace
{

/* Days since 2000-01-01 of a civil date. */
int64_t Day(int64_t y, unsigned m, unsigned d)
{
	return DaysFromCivil(y, m, d) - kPgEpochOffsetDays;
}

/* A UTC instant. */
Instant Utc(int64_t y, unsigned m, unsigned d, int hh, int mm)
{
	return Day(y, m, d) * kMicrosPerDay + hh * kMicrosPerHour + mm * kMicrosPerMinute;
}

/* The EU rules: UTC+1, UTC+2 from the last Sunday of March to the last of October, 01:00 UTC. */
class ParisLikeZone : public TimeZoneRules
{
public:
	int64_t UtcOffsetSeconds(Instant at) const override
	{
		int64_t day = at / kMicrosPerDay + kPgEpochOffsetDays;
		int64_t year = CivilFromDays(day).year;
		Instant summer = LastSunday(year, 3) * kMicrosPerDay + kMicrosPerHour;
		Instant winter = LastSunday(year, 10) * kMicrosPerDay + kMicrosPerHour;
		return at >= summer && at < winter ? 7200 : 3600;
	}

private:
	/* Days since 2000-01-01 of the last Sunday of a month with 31 days. */
	static int64_t LastSunday(int64_t year, unsigned month)
	{
		int64_t last = DaysFromCivil(year, month, 31);
		int64_t weekday = ((last + 4) % 7 + 7) % 7; /* 1970-01-01 was a Thursday; 0 = Sunday */
		return last - weekday - kPgEpochOffsetDays;
	}
};

/* Samoa moved across the date line: 2011-12-29 was followed by 2011-12-31. */
class SamoaLikeZone : public TimeZoneRules
{
public:
	int64_t UtcOffsetSeconds(Instant at) const override
	{
		return at < Utc(2011, 12, 30, 10, 0) ? -10 * 3600 : 14 * 3600;
	}
};

const FixedOffsetZone kUtc(0);
const ParisLikeZone kParis;

DailySchedule At(int hh, int mm)
{
	DailySchedule s;
	s.minute_of_day = hh * 60 + mm;
	s.window = 4 * kMicrosPerHour;
	s.retry_base_delay = kMicrosPerMinute;
	s.retry_limit = 3;
	return s;
}

TEST(ScheduleTimeOfDay, AcceptsHoursAndMinutes)
{
	EXPECT_EQ(ParseTimeOfDay("03:00"), 180);
	EXPECT_EQ(ParseTimeOfDay("3:00"), 180);
	EXPECT_EQ(ParseTimeOfDay("00:00"), 0);
	EXPECT_EQ(ParseTimeOfDay("23:59"), 23 * 60 + 59);
	EXPECT_EQ(ParseTimeOfDay("02:30"), 150);
}

TEST(ScheduleTimeOfDay, RejectsAnythingElse)
{
	for (const char *bad : {"", "24:00", "03:60", "0300", "03:0", "003:00", "ab:cd", "03:00:00",
	                        " 03:00", "03:00 ", "-1:00", ":30", "03:"})
		EXPECT_FALSE(ParseTimeOfDay(bad).has_value()) << bad;
}

TEST(ScheduleTimeOfDay, FormatsWithTwoDigits)
{
	EXPECT_EQ(FormatTimeOfDay(150), "02:30");
	EXPECT_EQ(FormatTimeOfDay(0), "00:00");
	EXPECT_EQ(FormatTimeOfDay(23 * 60 + 59), "23:59");
}

TEST(ScheduleWallClock, UtcIsTheLocalTime)
{
	EXPECT_EQ(LocalTimeToInstant(Day(2025, 6, 1), 180, kUtc), Utc(2025, 6, 1, 3, 0));
	EXPECT_EQ(LocalDay(Utc(2025, 6, 1, 23, 59), kUtc), Day(2025, 6, 1));
}

TEST(ScheduleWallClock, FixedOffsetEastOfGreenwichIsEarlierInUtc)
{
	FixedOffsetZone kolkata(5 * 3600 + 1800);
	EXPECT_EQ(LocalTimeToInstant(Day(2025, 6, 1), 180, kolkata), Utc(2025, 5, 31, 21, 30));
	EXPECT_EQ(LocalDay(Utc(2025, 5, 31, 21, 30), kolkata), Day(2025, 6, 1));
}

TEST(ScheduleWallClock, DatesBefore2000Work)
{
	FixedOffsetZone new_york(-5 * 3600);
	EXPECT_EQ(LocalTimeToInstant(Day(1999, 12, 31), 22 * 60, new_york), Utc(2000, 1, 1, 3, 0));
	EXPECT_EQ(LocalDay(Utc(1999, 12, 31, 12, 0), kUtc), -1);
}

TEST(ScheduleWallClock, FollowsSummerAndWinterTime)
{
	EXPECT_EQ(LocalTimeToInstant(Day(2025, 1, 15), 150, kParis), Utc(2025, 1, 15, 1, 30));
	EXPECT_EQ(LocalTimeToInstant(Day(2025, 7, 1), 150, kParis), Utc(2025, 7, 1, 0, 30));
}

TEST(ScheduleWallClock, ATimeSkippedBySpringForwardRunsWhenTheClockJumps)
{
	/* 2025-03-30: 02:00 CET is followed by 03:00 CEST, at 01:00 UTC. */
	EXPECT_EQ(LocalTimeToInstant(Day(2025, 3, 30), 150, kParis), Utc(2025, 3, 30, 1, 0));
	/* times around the gap are unaffected */
	EXPECT_EQ(LocalTimeToInstant(Day(2025, 3, 30), 90, kParis), Utc(2025, 3, 30, 0, 30));
	EXPECT_EQ(LocalTimeToInstant(Day(2025, 3, 30), 210, kParis), Utc(2025, 3, 30, 1, 30));
}

TEST(ScheduleWallClock, ATimeRepeatedByFallBackIsTakenTheFirstTime)
{
	/* 2025-10-26: 03:00 CEST is followed by 02:00 CET: 02:30 happens at 00:30 and 01:30 UTC. */
	EXPECT_EQ(LocalTimeToInstant(Day(2025, 10, 26), 150, kParis), Utc(2025, 10, 26, 0, 30));
}

TEST(ScheduleWallClock, ASkippedDayRunsWhenTheClockJumpsOverIt)
{
	SamoaLikeZone samoa;
	EXPECT_EQ(LocalTimeToInstant(Day(2011, 12, 29), 180, samoa), Utc(2011, 12, 29, 13, 0));
	EXPECT_EQ(LocalTimeToInstant(Day(2011, 12, 30), 180, samoa), Utc(2011, 12, 30, 10, 0));
	EXPECT_EQ(LocalTimeToInstant(Day(2011, 12, 31), 180, samoa), Utc(2011, 12, 30, 13, 0));
}

TEST(ScheduleSlots, TheSlotOpensAtTheTimeOfDay)
{
	DailySchedule s = At(3, 0);
	EXPECT_EQ(SlotAtOrBefore(Utc(2025, 6, 2, 2, 59), s, kUtc), Utc(2025, 6, 1, 3, 0));
	EXPECT_EQ(SlotAtOrBefore(Utc(2025, 6, 2, 3, 0), s, kUtc), Utc(2025, 6, 2, 3, 0));
	EXPECT_EQ(SlotAfter(Utc(2025, 6, 2, 2, 59), s, kUtc), Utc(2025, 6, 2, 3, 0));
	EXPECT_EQ(SlotAfter(Utc(2025, 6, 2, 3, 0), s, kUtc), Utc(2025, 6, 3, 3, 0));
}

TEST(ScheduleSlots, SlotsKeepTheirLocalTimeAcrossDaylightSavingChanges)
{
	DailySchedule s = At(3, 30);
	/* 03:30 CET on Saturday, 03:30 CEST on Sunday: 23 hours apart */
	Instant saturday = SlotAfter(Utc(2025, 3, 29, 0, 0), s, kParis);
	Instant sunday = SlotAfter(saturday, s, kParis);
	EXPECT_EQ(saturday, Utc(2025, 3, 29, 2, 30));
	EXPECT_EQ(sunday, Utc(2025, 3, 30, 1, 30));
	EXPECT_EQ(SlotAtOrBefore(sunday + kMicrosPerMinute, s, kParis), sunday);
}

TEST(ScheduleSlots, ALocalEveningSlotCanBeOnThePreviousUtcDay)
{
	DailySchedule s = At(23, 0);
	FixedOffsetZone tokyo(9 * 3600);
	EXPECT_EQ(SlotAfter(Utc(2025, 6, 1, 13, 0), s, tokyo), Utc(2025, 6, 1, 14, 0));
	EXPECT_EQ(SlotAtOrBefore(Utc(2025, 6, 1, 13, 0), s, tokyo), Utc(2025, 5, 31, 14, 0));
}

TEST(SchedulePlan, NothingIsDueBeforeTheTimeOfDay)
{
	RunPlan p = PlanRun(Utc(2025, 6, 2, 2, 59), At(3, 0), kUtc, SlotState{});
	EXPECT_FALSE(p.run);
	/* yesterday's window closed; next look at today's slot */
	EXPECT_EQ(p.next_check, Utc(2025, 6, 2, 3, 0));
}

TEST(SchedulePlan, TheRunIsDueAtTheTimeOfDayUntilTheWindowCloses)
{
	RunPlan p = PlanRun(Utc(2025, 6, 2, 3, 0), At(3, 0), kUtc, SlotState{});
	EXPECT_TRUE(p.run);
	EXPECT_EQ(p.deadline, Utc(2025, 6, 2, 7, 0));
	EXPECT_EQ(p.state.slot, Utc(2025, 6, 2, 3, 0));

	p = PlanRun(Utc(2025, 6, 2, 6, 59), At(3, 0), kUtc, SlotState{});
	EXPECT_TRUE(p.run) << "a server started late in the window still runs";
	EXPECT_EQ(p.deadline, Utc(2025, 6, 2, 7, 0));

	p = PlanRun(Utc(2025, 6, 2, 7, 0), At(3, 0), kUtc, SlotState{});
	EXPECT_FALSE(p.run) << "a missed window is not caught up outside it";
	EXPECT_EQ(p.next_check, Utc(2025, 6, 3, 3, 0));
}

TEST(SchedulePlan, ACompletedSlotWaitsForTheNextOne)
{
	SlotState done{Utc(2025, 6, 2, 3, 0), true, 0, kNoInstant};
	RunPlan p = PlanRun(Utc(2025, 6, 2, 3, 40), At(3, 0), kUtc, done);
	EXPECT_FALSE(p.run);
	EXPECT_EQ(p.next_check, Utc(2025, 6, 3, 3, 0));

	p = PlanRun(Utc(2025, 6, 3, 3, 0), At(3, 0), kUtc, done);
	EXPECT_TRUE(p.run) << "the next day's slot starts afresh";
	EXPECT_FALSE(p.state.done);
	EXPECT_EQ(p.state.slot, Utc(2025, 6, 3, 3, 0));
}

TEST(SchedulePlan, AStoppedRunResumesWhileTheWindowIsOpen)
{
	SlotState s{Utc(2025, 6, 2, 3, 0), false, 0, kNoInstant};
	s = AfterRun(s, RunOutcome::Stopped, Utc(2025, 6, 2, 3, 20));
	EXPECT_TRUE(PlanRun(Utc(2025, 6, 2, 3, 25), At(3, 0), kUtc, s).run);
	EXPECT_FALSE(PlanRun(Utc(2025, 6, 2, 7, 0), At(3, 0), kUtc, s).run);
}

TEST(SchedulePlan, FailuresAreRetriedWithGrowingDelays)
{
	DailySchedule sched = At(3, 0);
	SlotState s{Utc(2025, 6, 2, 3, 0), false, 0, kNoInstant};
	Instant t = Utc(2025, 6, 2, 3, 10);
	const int64_t delays[] = {1, 5, 25};
	for (int64_t minutes : delays) {
		s = AfterRun(s, RunOutcome::Failed, t);
		RunPlan early = PlanRun(t + minutes * kMicrosPerMinute - 1, sched, kUtc, s);
		EXPECT_FALSE(early.run) << minutes;
		EXPECT_EQ(early.next_check, t + minutes * kMicrosPerMinute);
		t += minutes * kMicrosPerMinute;
		EXPECT_TRUE(PlanRun(t, sched, kUtc, s).run) << minutes;
	}
	s = AfterRun(s, RunOutcome::Failed, t);
	RunPlan p = PlanRun(t + 3 * kMicrosPerHour, sched, kUtc, s);
	EXPECT_FALSE(p.run) << "after the retry limit, wait for the next slot";
	EXPECT_EQ(p.next_check, Utc(2025, 6, 3, 3, 0));
}

TEST(SchedulePlan, ARetryThatWouldMissTheWindowWaitsForTheNextSlot)
{
	DailySchedule sched = At(3, 0);
	sched.retry_base_delay = kMicrosPerHour;
	SlotState s = AfterRun(SlotState{Utc(2025, 6, 2, 3, 0), false, 0, kNoInstant},
	                       RunOutcome::Failed, Utc(2025, 6, 2, 6, 30));
	RunPlan p = PlanRun(Utc(2025, 6, 2, 6, 31), sched, kUtc, s);
	EXPECT_FALSE(p.run);
	EXPECT_EQ(p.next_check, Utc(2025, 6, 3, 3, 0));
}

TEST(SchedulePlan, ARetryLimitOfZeroDoesNotRetry)
{
	DailySchedule sched = At(3, 0);
	sched.retry_limit = 0;
	SlotState s = AfterRun(SlotState{Utc(2025, 6, 2, 3, 0), false, 0, kNoInstant},
	                       RunOutcome::Failed, Utc(2025, 6, 2, 3, 5));
	EXPECT_FALSE(PlanRun(Utc(2025, 6, 2, 4, 0), sched, kUtc, s).run);
}

TEST(SchedulePlan, AStateFromAnotherSlotStartsAfresh)
{
	SlotState old{Utc(2025, 6, 1, 3, 0), false, 9, Utc(2025, 6, 1, 4, 0)};
	RunPlan p = PlanRun(Utc(2025, 6, 2, 3, 5), At(3, 0), kUtc, old);
	EXPECT_TRUE(p.run);
	EXPECT_EQ(p.state.failures, 0);

	/* the clock went back (an injected clock, or a badly set one) */
	SlotState future{Utc(2025, 6, 9, 3, 0), true, 0, kNoInstant};
	EXPECT_TRUE(PlanRun(Utc(2025, 6, 2, 3, 5), At(3, 0), kUtc, future).run);
}

TEST(SchedulePlan, ChangingTheTimeOfDayMovesTheSlot)
{
	/* run at 03:00 completed today; moved to 05:00, today's 05:00 run is a new slot */
	SlotState done{Utc(2025, 6, 2, 3, 0), true, 0, kNoInstant};
	RunPlan p = PlanRun(Utc(2025, 6, 2, 4, 0), At(5, 0), kUtc, done);
	EXPECT_FALSE(p.run);
	EXPECT_EQ(p.next_check, Utc(2025, 6, 2, 5, 0));
	EXPECT_TRUE(PlanRun(Utc(2025, 6, 2, 5, 0), At(5, 0), kUtc, done).run);
}

TEST(ScheduleRetry, DelaysGrowFiveFoldUpToTheLimit)
{
	DailySchedule s = At(3, 0);
	Instant t = Utc(2025, 6, 2, 3, 0);
	EXPECT_EQ(RetryAt(1, t, s), t + kMicrosPerMinute);
	EXPECT_EQ(RetryAt(2, t, s), t + 5 * kMicrosPerMinute);
	EXPECT_EQ(RetryAt(3, t, s), t + 25 * kMicrosPerMinute);
	EXPECT_FALSE(RetryAt(4, t, s).has_value());
}

TEST(ScheduleRetry, LongDelaysAreCappedInsteadOfOverflowing)
{
	DailySchedule s = At(3, 0);
	s.retry_limit = 100;
	s.retry_base_delay = kMicrosPerDay;
	Instant t = Utc(2025, 6, 2, 3, 0);
	EXPECT_EQ(RetryAt(100, t, s), t + 7 * kMicrosPerDay);
}

TEST(ScheduleRetry, AfterRunRecordsOutcomes)
{
	SlotState s{Utc(2025, 6, 2, 3, 0), false, 0, kNoInstant};
	SlotState failed = AfterRun(s, RunOutcome::Failed, Utc(2025, 6, 2, 3, 7));
	EXPECT_EQ(failed.failures, 1);
	EXPECT_EQ(failed.last_failure, Utc(2025, 6, 2, 3, 7));
	SlotState stopped = AfterRun(failed, RunOutcome::Stopped, Utc(2025, 6, 2, 3, 9));
	EXPECT_EQ(stopped.failures, 1) << "a stop is neither a success nor a failure";
	SlotState completed = AfterRun(failed, RunOutcome::Completed, Utc(2025, 6, 2, 3, 9));
	EXPECT_TRUE(completed.done);
	EXPECT_EQ(completed.failures, 0);
}

} // namespace
} // namespace pg_retention
