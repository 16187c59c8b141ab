/*-------------------------------------------------------------------------
 *
 * test_delay.cpp
 *		Unit tests for delays: syntax, canonical text and the calendar
 *		ordering DelayAtMost that stage validation rests on.
 *
 *		DelayAtMost is checked against the plain definition, a day-by-day
 *		walk over a whole 400-year Gregorian cycle, for a set of pairs
 *		chosen around month lengths and month-end clamping.
 *
 * IDENTIFICATION
 *		test/unit/test_delay.cpp
 *-------------------------------------------------------------------------
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>

#include "schedule/calendar.hpp"
#include "label_test_helpers.hpp"
#include "label/policy.hpp"

namespace pg_retention
{
namespace
{

Delay Months(int32_t m)
{
	return Delay{m, 0};
}
Delay Days(int32_t d)
{
	return Delay{0, d};
}

/*
 * s + delay the way PostgreSQL computes date + interval: months first, the
 * day of the month clamped to the target month's length, then days.
 */
int64_t AddDelay(int64_t day_number, const Delay &delay)
{
	const CivilDate start = CivilFromDays(day_number);
	int64_t month_index = start.year * 12 + (start.month - 1) + delay.months;
	int64_t year = month_index >= 0 ? month_index / 12 : (month_index - 11) / 12;
	unsigned month = static_cast<unsigned>(month_index - year * 12) + 1;
	unsigned day = std::min(start.day, DaysInMonth(year, month));
	return DaysFromCivil(year, month, day) + delay.days;
}

/* The definition: a <= b when s + a <= s + b for every start date s. */
bool AtMostByWalkingEveryDay(const Delay &a, const Delay &b)
{
	const int64_t first = DaysFromCivil(2000, 1, 1);
	for (int64_t s = first; s < first + 146097; s++)
		if (AddDelay(s, a) > AddDelay(s, b))
			return false;
	return true;
}

TEST(DelayParse, YearsFoldIntoMonthsAndWeeksIntoDays)
{
	EXPECT_EQ(ParseDelay("2 years"), Months(24));
	EXPECT_EQ(ParseDelay("1 year 6 months"), Months(18));
	EXPECT_EQ(ParseDelay("90 days"), Days(90));
	EXPECT_EQ(ParseDelay("2 weeks"), Days(14));
	EXPECT_EQ(ParseDelay("1 year 2 weeks 3 days"), (Delay{12, 17}));
}

TEST(DelayParse, UnitsAreCaseInsensitiveSingularOrPlural)
{
	EXPECT_EQ(ParseDelay("1 Year 1 MONTHS 1 week 1 Days"), (Delay{13, 8}));
	EXPECT_EQ(ParseDelay("  3\tmonth\n"), Months(3));
}

TEST(DelayParse, AZeroPartIsFineWhenTheTotalIsPositive)
{
	EXPECT_EQ(ParseDelay("0 years 3 days"), Days(3));
}

TEST(DelayParse, RejectsAZeroDelay)
{
	const Error e = ErrorOf([] { ParseDelay("0 days"); });
	EXPECT_EQ(e.kind(), ErrorKind::InvalidParameterValue);
	EXPECT_STREQ(e.what(), "delay must be positive");
	EXPECT_EQ(PositionOf(e), 1u);
}

TEST(DelayParse, RejectsNegativeParts)
{
	const Error e = ErrorOf([] { ParseDelay("1 year -1 day"); });
	EXPECT_EQ(e.kind(), ErrorKind::InvalidParameterValue);
	EXPECT_STREQ(e.what(), "delay parts must not be negative");
	EXPECT_EQ(TextAtCaret(e), "-1 day");
}

TEST(DelayParse, RejectsFractions)
{
	const Error e = ErrorOf([] { ParseDelay("1.5 years"); });
	EXPECT_EQ(e.kind(), ErrorKind::InvalidParameterValue);
	EXPECT_STREQ(e.what(), "delay parts must be whole numbers");
}

TEST(DelayParse, RejectsUnknownUnitsPointingAtThem)
{
	const Error e = ErrorOf([] { ParseDelay("1 fortnight"); });
	EXPECT_EQ(e.kind(), ErrorKind::SyntaxError);
	EXPECT_STREQ(e.what(), "expected a delay unit after \"1\" but found \"fortnight\"");
	EXPECT_EQ(e.detail(), "at position 3: 1 fortnight\n" + std::string(15 + 2, ' ') + "^");
	EXPECT_EQ(e.hint(), "units are day(s), week(s), month(s) and year(s)");
}

TEST(DelayParse, RejectsMissingUnitsNumbersAndTrailingWords)
{
	EXPECT_EQ(ErrorOf([] { ParseDelay("3"); }).kind(), ErrorKind::SyntaxError);
	EXPECT_EQ(ErrorOf([] { ParseDelay("days"); }).kind(), ErrorKind::SyntaxError);
	EXPECT_EQ(ErrorOf([] { ParseDelay(""); }).kind(), ErrorKind::SyntaxError);
	const Error e = ErrorOf([] { ParseDelay("3 days ago"); });
	EXPECT_EQ(e.kind(), ErrorKind::SyntaxError);
	EXPECT_EQ(PositionOf(e), 8u);
}

TEST(DelayParse, RejectsHugeNumbersWithoutOverflow)
{
	for (const char *text : {"99999999999999999999999999 days", "9223372036854775807 years",
	                         "2147483647 months", "1000 years 1 day", "366000 days"}) {
		const Error e = ErrorOf([text] { ParseDelay(text); });
		EXPECT_EQ(e.kind(), ErrorKind::InvalidParameterValue) << text;
		EXPECT_STREQ(e.what(), "delay is too long") << text;
		EXPECT_EQ(e.hint(), "a delay may be at most 1000 years") << text;
	}
	EXPECT_EQ(ParseDelay("1000 years"), Months(12000));
}

TEST(DelayText, IsReadableAndParsesBack)
{
	EXPECT_EQ((Delay{18, 3}).ToString(), "1 year 6 months 3 days");
	EXPECT_EQ(Months(24).ToString(), "2 years");
	EXPECT_EQ(Months(1).ToString(), "1 month");
	EXPECT_EQ(Days(1).ToString(), "1 day");
	EXPECT_EQ(Days(14).ToString(), "14 days");
	EXPECT_EQ(Delay{}.ToString(), "0 days");
	for (const Delay &d : {Delay{18, 3}, Months(24), Days(1), Delay{12000, 0}, Delay{1, 1}})
		EXPECT_EQ(ParseDelay(d.ToString()), d) << d.ToString();
}

TEST(DelayText, PgIntervalCountsMonthsAndDays)
{
	EXPECT_EQ((Delay{18, 3}).ToPgInterval(), "18 months 3 days");
	EXPECT_EQ(Months(12).ToPgInterval(), "12 months 0 days");
}

TEST(DelayAtMost, OneMonthIsBetween28And31Days)
{
	EXPECT_TRUE(DelayAtMost(Days(28), Months(1)));
	EXPECT_FALSE(DelayAtMost(Months(1), Days(28)));
	EXPECT_FALSE(DelayAtMost(Days(29), Months(1)));
	EXPECT_FALSE(DelayAtMost(Months(1), Days(29)));
	EXPECT_FALSE(DelayAtMost(Days(30), Months(1)));
	EXPECT_FALSE(DelayAtMost(Months(1), Days(30)));
	EXPECT_TRUE(DelayAtMost(Months(1), Days(31)));
	EXPECT_FALSE(DelayAtMost(Days(31), Months(1)));
}

TEST(DelayAtMost, TwelveMonthsIs365Or366Days)
{
	EXPECT_TRUE(DelayAtMost(Days(365), Months(12)));
	EXPECT_FALSE(DelayAtMost(Months(12), Days(365)));
	EXPECT_TRUE(DelayAtMost(Months(12), Days(366)));
	EXPECT_FALSE(DelayAtMost(Days(366), Months(12)));
}

TEST(DelayAtMost, EqualSpellingsAreEqual)
{
	const Delay year = ParseDelay("1 year");
	const Delay months = ParseDelay("12 months");
	EXPECT_TRUE(DelayAtMost(year, months));
	EXPECT_TRUE(DelayAtMost(months, year));
	const Delay weeks = ParseDelay("2 weeks");
	const Delay days = ParseDelay("14 days");
	EXPECT_TRUE(DelayAtMost(weeks, days));
	EXPECT_TRUE(DelayAtMost(days, weeks));
	EXPECT_FALSE(DelayAtMost(ParseDelay("15 days"), weeks));
}

TEST(DelayAtMost, MonthEndClampingIsTakenIntoAccount)
{
	/* From 2023-01-31: 1 month = 02-28, so 1 month 1 day lands on 03-01, before 2 months. */
	EXPECT_TRUE(DelayAtMost(Delay{1, 1}, Months(2)));
	/* 2 months minus 1 month is a month of 28 to 31 days, clamping included. */
	EXPECT_TRUE(DelayAtMost(Months(2), Delay{1, 31}));
	EXPECT_FALSE(DelayAtMost(Months(2), Delay{1, 30}));
	EXPECT_TRUE(DelayAtMost(Delay{1, 28}, Months(2)));
	EXPECT_FALSE(DelayAtMost(Delay{1, 29}, Months(2)));
}

TEST(DelayAtMost, AgreesWithTheDefinitionOverA400YearCycle)
{
	const Delay pairs[][2] = {
	    {Months(1), Days(28)},         {Months(1), Days(31)},       {Months(2), Days(59)},
	    {Months(2), Days(62)},         {Months(12), Days(365)},     {Months(12), Days(366)},
	    {Months(48), Days(1461)},      {Months(1200), Days(36524)}, {Delay{1, 1}, Months(2)},
	    {Delay{1, 30}, Months(2)},     {Delay{11, 1}, Months(12)},  {Delay{13, 0}, Delay{12, 31}},
	    {Delay{25, 0}, Delay{24, 28}}, {Months(3), Delay{2, 30}}};
	for (const auto &pair : pairs)
		for (int order = 0; order < 2; order++) {
			const Delay &a = pair[order];
			const Delay &b = pair[1 - order];
			EXPECT_EQ(DelayAtMost(a, b), AtMostByWalkingEveryDay(a, b))
			    << a.ToString() << " <= " << b.ToString();
		}
}

TEST(DelayAtMost, ExtremeValuesGiveAnAnswerWithoutOverflow)
{
	EXPECT_FALSE(DelayAtMost(Delay{INT32_MAX, INT32_MAX}, Delay{INT32_MIN, INT32_MIN}));
	EXPECT_TRUE(DelayAtMost(Delay{INT32_MIN, INT32_MIN}, Delay{INT32_MAX, INT32_MAX}));
}

} // namespace
} // namespace pg_retention
