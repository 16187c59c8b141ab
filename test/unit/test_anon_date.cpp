/*-------------------------------------------------------------------------
 *
 * test_anon_date.cpp
 *		Unit tests of generalize and jitter on dates and timestamps
 *		(anon_date.cpp).
 *
 * IDENTIFICATION
 *		test/unit/test_anon_date.cpp
 *-------------------------------------------------------------------------
 */
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <set>

#include "anon/anon.hpp"
#include "schedule/calendar.hpp"
#include "base/error.hpp"

using namespace pg_retention;

namespace
{

constexpr int64_t kMicrosPerDay = INT64_C(86400000000);
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

constexpr int64_t Day(int64_t y, unsigned m, unsigned d)
{
	return DaysFromCivil(y, m, d);
}

constexpr int64_t Timestamp(int64_t y, unsigned m, unsigned d, int64_t hh, int64_t mm, int64_t ss,
                            int64_t us = 0)
{
	return Day(y, m, d) * kMicrosPerDay + ((hh * 60 + mm) * 60 + ss) * 1000000 + us;
}

constexpr DateGranularity kAllGranularities[] = {DateGranularity::Year, DateGranularity::Month,
                                                 DateGranularity::Decade,
                                                 DateGranularity::MonthDay};

} // namespace

TEST(AnonGeneralizeDate, KeepsTheStartOfTheYearMonthOrDecade)
{
	const int64_t d = Day(2023, 7, 14);
	EXPECT_EQ(GeneralizeDate(d, DateGranularity::Year), Day(2023, 1, 1));
	EXPECT_EQ(GeneralizeDate(d, DateGranularity::Month), Day(2023, 7, 1));
	EXPECT_EQ(GeneralizeDate(d, DateGranularity::Decade), Day(2020, 1, 1));
}

TEST(AnonGeneralizeDate, MonthDayMovesToYear4SoFebruary29Survives)
{
	EXPECT_EQ(GeneralizeDate(Day(2023, 7, 14), DateGranularity::MonthDay), Day(4, 7, 14));
	EXPECT_EQ(GeneralizeDate(Day(2024, 2, 29), DateGranularity::MonthDay), Day(4, 2, 29));
	EXPECT_EQ(GeneralizeDate(Day(2023, 2, 28), DateGranularity::MonthDay), Day(4, 2, 28));
	EXPECT_EQ(GeneralizeDate(Day(2023, 3, 1), DateGranularity::MonthDay), Day(4, 3, 1));
	EXPECT_EQ(GeneralizeDate(Day(1900, 12, 31), DateGranularity::MonthDay), Day(4, 12, 31));
}

TEST(AnonGeneralizeDate, HandlesDatesBefore1970)
{
	EXPECT_EQ(GeneralizeDate(-1, DateGranularity::Year), Day(1969, 1, 1));
	EXPECT_EQ(GeneralizeDate(-1, DateGranularity::Month), Day(1969, 12, 1));
	EXPECT_EQ(GeneralizeDate(-1, DateGranularity::Decade), Day(1960, 1, 1));
}

TEST(AnonGeneralizeDate, HandlesBoundaryYears)
{
	EXPECT_EQ(GeneralizeDate(Day(4, 2, 29), DateGranularity::Year), Day(4, 1, 1));
	EXPECT_EQ(GeneralizeDate(Day(4, 2, 29), DateGranularity::Decade), Day(0, 1, 1));
	EXPECT_EQ(GeneralizeDate(Day(9999, 12, 31), DateGranularity::Month), Day(9999, 12, 1));
	EXPECT_EQ(GeneralizeDate(Day(9999, 12, 31), DateGranularity::Decade), Day(9990, 1, 1));
	/* 45 BC is year -44: its decade starts in year -50, toward -infinity */
	EXPECT_EQ(GeneralizeDate(Day(-44, 3, 15), DateGranularity::Decade), Day(-50, 1, 1));
	EXPECT_EQ(GeneralizeDate(Day(-44, 3, 15), DateGranularity::Year), Day(-44, 1, 1));
}

TEST(AnonGeneralizeDate, IsRaisedToTheLowerBound)
{
	/* PostgreSQL's first date, 4714-11-24 BC, is proleptic year -4713 */
	const int64_t first = Day(-4713, 11, 24);
	EXPECT_EQ(GeneralizeDate(first + 3, DateGranularity::Year, first), first);
	EXPECT_EQ(GeneralizeDate(first + 3, DateGranularity::Decade, first), first);
	EXPECT_EQ(GeneralizeDate(first + 3, DateGranularity::Month, first), first);
	EXPECT_EQ(GeneralizeDate(first + 10, DateGranularity::Month, first), Day(-4713, 12, 1));
}

TEST(AnonGeneralizeDate, IsIdempotent)
{
	for (int64_t d = Day(1999, 12, 1); d < Day(2001, 3, 1); d += 3)
		for (DateGranularity g : kAllGranularities)
			EXPECT_EQ(GeneralizeDate(GeneralizeDate(d, g), g), GeneralizeDate(d, g));
}

TEST(AnonGeneralizeDate, LeavesAbsurdDayNumbersAlone)
{
	EXPECT_EQ(GeneralizeDate(kMax, DateGranularity::Year), kMax);
	EXPECT_EQ(GeneralizeDate(kMin, DateGranularity::Decade), kMin);
}

TEST(AnonGeneralizeDate, ParsesTheGranularitiesOfTheMethodTable)
{
	EXPECT_EQ(ParseDateGranularity("year"), DateGranularity::Year);
	EXPECT_EQ(ParseDateGranularity("month"), DateGranularity::Month);
	EXPECT_EQ(ParseDateGranularity("decade"), DateGranularity::Decade);
	EXPECT_EQ(ParseDateGranularity("month_day"), DateGranularity::MonthDay);
	EXPECT_EQ(ParseDateGranularity("week"), std::nullopt);
}

TEST(AnonGeneralizeTimestamp, TruncatesTheDateAndResetsTheTime)
{
	const int64_t ts = Timestamp(2023, 7, 14, 13, 45, 12, 345678);
	EXPECT_EQ(GeneralizeTimestamp(ts, DateGranularity::Year), Timestamp(2023, 1, 1, 0, 0, 0));
	EXPECT_EQ(GeneralizeTimestamp(ts, DateGranularity::Month), Timestamp(2023, 7, 1, 0, 0, 0));
	EXPECT_EQ(GeneralizeTimestamp(ts, DateGranularity::Decade), Timestamp(2020, 1, 1, 0, 0, 0));
	EXPECT_EQ(GeneralizeTimestamp(ts, DateGranularity::MonthDay), Timestamp(4, 7, 14, 0, 0, 0));
}

TEST(AnonGeneralizeTimestamp, UsesTheCalendarDayOfTimestampsBefore1970)
{
	const int64_t ts = Timestamp(1969, 12, 31, 23, 59, 59);
	EXPECT_LT(ts, 0);
	EXPECT_EQ(GeneralizeTimestamp(ts, DateGranularity::Month), Timestamp(1969, 12, 1, 0, 0, 0));
	EXPECT_EQ(GeneralizeTimestamp(ts, DateGranularity::MonthDay), Timestamp(4, 12, 31, 0, 0, 0));
}

TEST(AnonGeneralizeTimestamp, KeepsInfinitiesAndSaturates)
{
	EXPECT_EQ(GeneralizeTimestamp(kMin, DateGranularity::Year), kMin);
	EXPECT_EQ(GeneralizeTimestamp(kMax, DateGranularity::Year), kMax);
	EXPECT_EQ(GeneralizeTimestamp(kMin + 1, DateGranularity::Decade), kMin + 1);
	const int64_t first = Timestamp(-4713, 11, 24, 0, 0, 0);
	EXPECT_EQ(GeneralizeTimestamp(first + 5, DateGranularity::Year, first), first);
}

TEST(AnonJitterDate, StaysWithinTheRangeAndCoversIt)
{
	const int64_t d = Day(2024, 2, 29);
	std::set<int64_t> seen;
	for (int i = 0; i < 2000; i++) {
		const int64_t j = JitterDate(d, 0, 7);
		EXPECT_GE(j, d - 7);
		EXPECT_LE(j, d + 7);
		seen.insert(j);
	}
	EXPECT_EQ(seen.size(), 15u);
}

TEST(AnonJitterDate, CountsAMonthAsThirtyDays)
{
	const int64_t d = Day(2000, 1, 1);
	int64_t widest = 0;
	for (int i = 0; i < 2000; i++) {
		const int64_t offset = JitterDate(d, 1, 2) - d;
		EXPECT_LE(std::abs(offset), 32);
		widest = std::max<int64_t>(widest, std::abs(offset));
	}
	EXPECT_GT(widest, 20);
	/* 1 month - 3 days is 27 days */
	for (int i = 0; i < 200; i++)
		EXPECT_LE(std::abs(JitterDate(d, 1, -3) - d), 27);
}

TEST(AnonJitterDate, ZeroRangeLeavesTheDate)
{
	EXPECT_EQ(JitterDate(-12345, 0, 0), -12345);
}

TEST(AnonJitterDate, RejectsANegativeRange)
{
	EXPECT_THROW(JitterDate(0, 0, -1), Error);
	EXPECT_THROW(JitterDate(0, -1, 29), Error);
	try {
		JitterDate(0, -1, 0);
	} catch (const Error &e) {
		EXPECT_EQ(e.kind(), ErrorKind::InvalidParameterValue);
	}
}

TEST(AnonJitterDate, IsClampedToTheBoundsEvenForHugeRanges)
{
	const int64_t lo = Day(-4713, 11, 24), hi = Day(5874897, 12, 31);
	for (int i = 0; i < 500; i++) {
		const int64_t j = JitterDate(hi, INT32_MAX, INT32_MAX, lo, hi);
		EXPECT_GE(j, lo);
		EXPECT_LE(j, hi);
		const int64_t k = JitterDate(kMax, 0, 10);
		EXPECT_GE(k, kMax - 10);
	}
}

TEST(AnonJitterTimestamp, StaysWithinTheRangeIncludingItsTimePart)
{
	const int64_t ts = Timestamp(2023, 7, 14, 12, 0, 0);
	const int64_t two_hours = INT64_C(2) * 3600 * 1000000;
	std::set<int64_t> seen;
	for (int i = 0; i < 1000; i++) {
		const int64_t j = JitterTimestamp(ts, 0, 0, two_hours);
		EXPECT_GE(j, ts - two_hours);
		EXPECT_LE(j, ts + two_hours);
		seen.insert(j);
	}
	EXPECT_GE(seen.size(), 990u);
	for (int i = 0; i < 1000; i++)
		EXPECT_LE(std::abs(JitterTimestamp(ts, 0, 1, 0) - ts), kMicrosPerDay);
}

TEST(AnonJitterTimestamp, KeepsInfinitiesAndNeverCreatesThem)
{
	EXPECT_EQ(JitterTimestamp(kMin, 0, 7, 0), kMin);
	EXPECT_EQ(JitterTimestamp(kMax, 0, 7, 0), kMax);
	for (int i = 0; i < 500; i++) {
		const int64_t j = JitterTimestamp(kMax - 1, INT32_MAX, INT32_MAX, kMax);
		EXPECT_GT(j, kMin);
		EXPECT_LT(j, kMax);
	}
	EXPECT_THROW(JitterTimestamp(0, 0, 0, -1), Error);
}
