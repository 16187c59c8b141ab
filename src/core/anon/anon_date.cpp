/*-------------------------------------------------------------------------
 *
 * anon_date.cpp
 *		Date and timestamp kernels: generalize (to year, month, decade or
 *		month_day) and jitter (a random shift within a range).
 *
 *		Dates are day numbers since 1970-01-01 and timestamps microseconds
 *		since 1970-01-01 00:00 (calendar.hpp); the glue converts from
 *		PostgreSQL's 2000-01-01 epoch.  Arithmetic is done in 128 bits and
 *		saturated, so no value can overflow.
 *
 * IDENTIFICATION
 *		src/core/anon/anon_date.cpp
 *-------------------------------------------------------------------------
 */
#include "anon/anon.hpp"

#include "schedule/calendar.hpp"
#include "anon/anon_internal.hpp"
#include "base/error.hpp"
#include "crypto/random.hpp"

namespace pg_retention
{

namespace
{

constexpr int64_t kMicrosPerDay = INT64_C(86400000000);
constexpr int64_t kDaysPerMonth = 30; /* as PostgreSQL compares intervals */

/*
 * Day numbers whose year fits comfortably in int64 arithmetic; beyond this
 * (hundreds of millions of years, never a PostgreSQL date) values are
 * returned unchanged.
 */
constexpr int64_t kMaxCalendarDays = INT64_C(1) << 40;

/* A range (30 * months + days) days + micros, in the unit of `unit_micros`, checked >= 0. */
__int128 RangeOf(int32_t months, int32_t days, int64_t micros, int64_t unit_micros)
{
	const __int128 total =
	    (static_cast<__int128>(months) * kDaysPerMonth + days) * kMicrosPerDay + micros;
	if (total < 0)
		throw Error(ErrorKind::InvalidParameterValue, "jitter range must not be negative",
		            "The range given is " + std::to_string(months) + " months " +
		                std::to_string(days) + " days " + std::to_string(micros) +
		                " microseconds.");
	return total / unit_micros;
}

/* value + a uniform offset in [-range, +range], saturated to [min_value, max_value]. */
int64_t Jitter(int64_t value, __int128 range, int64_t min_value, int64_t max_value)
{
	const int64_t r = SaturateToRange(range, 0, INT64_MAX);
	const int64_t offset = RandomInRange(-r, r);
	return SaturateToRange(static_cast<__int128>(value) + offset, min_value, max_value);
}

/* The first day of the period containing `days` (before any lower bound). */
int64_t GeneralizeDays(int64_t days, DateGranularity granularity)
{
	if (days > kMaxCalendarDays || days < -kMaxCalendarDays)
		return days;
	const CivilDate date = CivilFromDays(days);
	switch (granularity) {
	case DateGranularity::Year:
		return DaysFromCivil(date.year, 1, 1);
	case DateGranularity::Month:
		return DaysFromCivil(date.year, date.month, 1);
	case DateGranularity::Decade: {
		int64_t decade = date.year - date.year % 10;
		if (date.year % 10 < 0)
			decade -= 10; /* toward -infinity: 45 BC (year -44) is in the decade -50 */
		return DaysFromCivil(decade, 1, 1);
	}
	case DateGranularity::MonthDay:
		return DaysFromCivil(4, date.month, date.day);
	}
	return days;
}

} // namespace

std::optional<DateGranularity> ParseDateGranularity(std::string_view name)
{
	static constexpr std::string_view kNames[] = {"year", "month", "decade", "month_day"};
	return EnumFromName<DateGranularity>(kNames, name);
}

int64_t GeneralizeDate(int64_t days, DateGranularity granularity, int64_t min_days)
{
	const int64_t result = GeneralizeDays(days, granularity);
	return result < min_days ? min_days : result;
}

int64_t GeneralizeTimestamp(int64_t micros, DateGranularity granularity, int64_t min_micros)
{
	if (micros == INT64_MIN || micros == INT64_MAX)
		return micros;
	const int64_t day = GeneralizeDays(FloorDiv(micros, kMicrosPerDay), granularity);
	return SaturateToRange(static_cast<__int128>(day) * kMicrosPerDay, min_micros, INT64_MAX - 1);
}

int64_t JitterDate(int64_t days, int32_t months, int32_t days_range, int64_t min_days,
                   int64_t max_days)
{
	return Jitter(days, RangeOf(months, days_range, 0, kMicrosPerDay), min_days, max_days);
}

int64_t JitterTimestamp(int64_t micros, int32_t months, int32_t days, int64_t range_micros,
                        int64_t min_micros, int64_t max_micros)
{
	const __int128 range = RangeOf(months, days, range_micros, 1);
	if (micros == INT64_MIN || micros == INT64_MAX)
		return micros;
	return Jitter(micros, range, min_micros, max_micros);
}

} // namespace pg_retention
