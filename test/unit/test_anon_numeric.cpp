/*-------------------------------------------------------------------------
 *
 * test_anon_numeric.cpp
 *		Unit tests of noise and generalize on numbers (anon_numeric.cpp).
 *
 *		Random kernels are checked on bounds, which hold for every draw,
 *		and on variation over many draws (failing only with negligible
 *		probability).
 *
 * IDENTIFICATION
 *		test/unit/test_anon_numeric.cpp
 *-------------------------------------------------------------------------
 */
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>

#include "anon/anon.hpp"
#include "base/error.hpp"

using namespace pg_retention;

namespace
{

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int kDraws = 2000;

} // namespace

TEST(AnonNoise, IntegersStayWithinRatioOfTheirValue)
{
	std::set<int64_t> seen;
	for (int i = 0; i < kDraws; i++) {
		const int64_t v = NoiseInteger(1000, 0.1);
		EXPECT_GE(v, 900);
		EXPECT_LE(v, 1100);
		seen.insert(v);
	}
	EXPECT_GE(seen.size(), 100u);
}

TEST(AnonNoise, NegativeIntegersStayWithinRatioOfTheirMagnitude)
{
	for (int i = 0; i < kDraws; i++) {
		const int64_t v = NoiseInteger(-1000, 0.25);
		EXPECT_GE(v, -1250);
		EXPECT_LE(v, -750);
	}
}

TEST(AnonNoise, ZeroRatioAndZeroValueAreUnchanged)
{
	EXPECT_EQ(NoiseInteger(1234, 0), 1234);
	EXPECT_EQ(NoiseInteger(0, 5), 0);
	EXPECT_EQ(NoiseDouble(12.5, 0), 12.5);
	EXPECT_EQ(NoiseDouble(0.0, 3), 0.0);
}

TEST(AnonNoise, IntegersAreClampedToTheirTypesRange)
{
	constexpr int64_t kInt4Min = std::numeric_limits<int32_t>::min();
	constexpr int64_t kInt4Max = std::numeric_limits<int32_t>::max();
	bool reached_max = false;
	for (int i = 0; i < kDraws; i++) {
		const int64_t v = NoiseInteger(kInt4Max, 10, kInt4Min, kInt4Max);
		EXPECT_GE(v, kInt4Min);
		EXPECT_LE(v, kInt4Max);
		reached_max |= v == kInt4Max;
	}
	EXPECT_TRUE(reached_max);
}

TEST(AnonNoise, Int64ExtremesNeverOverflow)
{
	constexpr int64_t kQuarter = INT64_C(1) << 62; /* half of |int64 min| */
	bool clamped_low = false, clamped_high = false;
	for (int i = 0; i < kDraws; i++) {
		const int64_t low = NoiseInteger(kMin, 0.5);
		EXPECT_LE(low, kMin + kQuarter);
		clamped_low |= low == kMin;
		const int64_t high = NoiseInteger(kMax, 0.5);
		EXPECT_GE(high, kMax - kQuarter);
		clamped_high |= high == kMax;
		/* a ratio of 10 can cross the whole range: clamped, never wrapped */
		(void)NoiseInteger(kMin, 10);
		(void)NoiseInteger(kMax, 10);
	}
	EXPECT_TRUE(clamped_low);
	EXPECT_TRUE(clamped_high);
}

TEST(AnonNoise, DoublesStayWithinRatioAndVary)
{
	std::set<double> seen;
	for (int i = 0; i < kDraws; i++) {
		const double v = NoiseDouble(-50.0, 0.5);
		EXPECT_GE(v, -75.0);
		EXPECT_LE(v, -25.0);
		seen.insert(v);
	}
	EXPECT_GE(seen.size(), 1900u);
}

TEST(AnonNoise, DoublesNeverBecomeInfiniteAndKeepNanAndInfinities)
{
	for (int i = 0; i < 100; i++) {
		EXPECT_TRUE(std::isfinite(NoiseDouble(DBL_MAX, 10)));
		EXPECT_TRUE(std::isfinite(NoiseDouble(-DBL_MAX, 10)));
	}
	EXPECT_TRUE(std::isnan(NoiseDouble(NAN, 0.1)));
	EXPECT_EQ(NoiseDouble(INFINITY, 0.1), INFINITY);
	EXPECT_EQ(NoiseDouble(-INFINITY, 0.1), -INFINITY);
}

TEST(AnonNoise, RejectsNegativeOrNonFiniteRatios)
{
	for (double ratio : {-0.1, double(NAN), double(INFINITY)}) {
		EXPECT_THROW(NoiseInteger(1, ratio), Error) << ratio;
		EXPECT_THROW(NoiseDouble(1, ratio), Error) << ratio;
	}
	try {
		NoiseInteger(1, -1);
	} catch (const Error &e) {
		EXPECT_EQ(e.kind(), ErrorKind::InvalidParameterValue);
	}
}

TEST(AnonGeneralizeNumber, FloorsIntegersToAMultipleOfTheStep)
{
	EXPECT_EQ(GeneralizeInteger(17, 5), 15);
	EXPECT_EQ(GeneralizeInteger(15, 5), 15);
	EXPECT_EQ(GeneralizeInteger(0, 5), 0);
	EXPECT_EQ(GeneralizeInteger(4, 5), 0);
	EXPECT_EQ(GeneralizeInteger(1234567, 1000), 1234000);
}

TEST(AnonGeneralizeNumber, FloorsNegativeIntegersTowardMinusInfinity)
{
	EXPECT_EQ(GeneralizeInteger(-7, 5), -10);
	EXPECT_EQ(GeneralizeInteger(-10, 5), -10);
	EXPECT_EQ(GeneralizeInteger(-1, 5), -5);
}

TEST(AnonGeneralizeNumber, StaysWithinTheTypesRangeAtTheExtremes)
{
	EXPECT_EQ(GeneralizeInteger(kMax, 10), 9223372036854775800);
	EXPECT_EQ(GeneralizeInteger(kMin, 10),
	          kMin); /* floor is below int64: the bucket starts at min */
	EXPECT_EQ(GeneralizeInteger(kMin + 1, 10), kMin);
	EXPECT_EQ(GeneralizeInteger(kMax, kMax), kMax);
	EXPECT_EQ(GeneralizeInteger(-1, kMax), -kMax);
	EXPECT_EQ(GeneralizeInteger(-kMax, kMax), -kMax);
	EXPECT_EQ(GeneralizeInteger(kMin, kMax), kMin); /* bucket [-2 * max, -max) starts below int64 */
	EXPECT_EQ(GeneralizeInteger(-32768, 10, -32768, 32767), -32768); /* int2 */
}

TEST(AnonGeneralizeNumber, IsIdempotent)
{
	for (int64_t v : {kMin, kMin + 3, int64_t(-17), int64_t(0), int64_t(99), kMax})
		for (int64_t step : {int64_t(1), int64_t(7), int64_t(1000), kMax})
			EXPECT_EQ(GeneralizeInteger(GeneralizeInteger(v, step), step),
			          GeneralizeInteger(v, step));
}

TEST(AnonGeneralizeNumber, RejectsANonPositiveStep)
{
	EXPECT_THROW(GeneralizeInteger(1, 0), Error);
	EXPECT_THROW(GeneralizeInteger(1, -5), Error);
	EXPECT_THROW(GeneralizeDouble(1, 0), Error);
	EXPECT_THROW(GeneralizeDouble(1, -0.5), Error);
	EXPECT_THROW(GeneralizeDouble(1, NAN), Error);
	EXPECT_THROW(GeneralizeDouble(1, INFINITY), Error);
}

TEST(AnonGeneralizeNumber, FloorsDoublesToAMultipleOfTheStep)
{
	EXPECT_EQ(GeneralizeDouble(17.5, 5), 15.0);
	EXPECT_EQ(GeneralizeDouble(-0.05, 0.1), -0.1);
	EXPECT_EQ(GeneralizeDouble(-7, 5), -10.0);
	EXPECT_EQ(GeneralizeDouble(0.29, 0.1), 0.2);
}

TEST(AnonGeneralizeNumber, AbsorbsTheRoundingErrorOfDecimalSteps)
{
	EXPECT_DOUBLE_EQ(GeneralizeDouble(0.3, 0.1), 0.3);
	EXPECT_DOUBLE_EQ(GeneralizeDouble(0.7, 0.1), 0.7);
	EXPECT_DOUBLE_EQ(GeneralizeDouble(1.1, 0.1), 1.1);
	for (double v : {0.3, 0.7, 1.1, 123.456, -0.3, -42.42})
		EXPECT_EQ(GeneralizeDouble(GeneralizeDouble(v, 0.1), 0.1), GeneralizeDouble(v, 0.1));
}

TEST(AnonGeneralizeNumber, KeepsNanInfinitiesAndValuesBeyondTheStepsPrecision)
{
	EXPECT_TRUE(std::isnan(GeneralizeDouble(NAN, 1)));
	EXPECT_EQ(GeneralizeDouble(INFINITY, 1), INFINITY);
	EXPECT_EQ(GeneralizeDouble(-INFINITY, 1), -INFINITY);
	EXPECT_EQ(GeneralizeDouble(DBL_MAX, 1e-300), DBL_MAX);
	EXPECT_EQ(GeneralizeDouble(1e300, 0.5), 1e300);
}
