/*-------------------------------------------------------------------------
 *
 * calendar.hpp
 *		Proleptic Gregorian calendar arithmetic on day numbers.
 *
 *		Dates are counted as days since 1970-01-01 (negative before it), the
 *		same arithmetic for every component that reasons about dates: delay
 *		ordering (interval.cpp), generalize and jitter (anonymization
 *		kernels).  The glue layer converts PostgreSQL's epoch (2000-01-01)
 *		with kPgEpochOffsetDays.
 *
 * IDENTIFICATION
 *		src/core/schedule/calendar.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstdint>

#include "base/cpp_only.hpp"

namespace pg_retention
{

struct CivilDate {
	int64_t year;
	unsigned month; /* 1..12 */
	unsigned day;   /* 1..31 */
};

/* Days from 1970-01-01 to 2000-01-01, PostgreSQL's date epoch. */
constexpr int64_t kPgEpochOffsetDays = 10957;

/* Day number of a civil date (days since 1970-01-01). */
constexpr int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) noexcept
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = static_cast<unsigned>(y - era * 400);
	const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

/* Civil date of a day number (inverse of DaysFromCivil). */
constexpr CivilDate CivilFromDays(int64_t z) noexcept
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = static_cast<unsigned>(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const int64_t y = static_cast<int64_t>(yoe) + era * 400;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	const unsigned d = doy - (153 * mp + 2) / 5 + 1;
	const unsigned m = mp < 10 ? mp + 3 : mp - 9;
	return CivilDate{y + (m <= 2), m, d};
}

constexpr bool IsLeapYear(int64_t y) noexcept
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

constexpr unsigned DaysInMonth(int64_t y, unsigned m) noexcept
{
	constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

static_assert(DaysFromCivil(1970, 1, 1) == 0, "epoch");
static_assert(DaysFromCivil(2000, 1, 1) == kPgEpochOffsetDays, "PostgreSQL epoch");

} // namespace pg_retention
