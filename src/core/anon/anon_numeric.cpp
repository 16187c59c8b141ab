/*-------------------------------------------------------------------------
 *
 * anon_numeric.cpp
 *		Number kernels: noise (random, bounded relative perturbation) and
 *		generalize with a step (floor to a multiple of the step).
 *
 *		Integer kernels work in 128-bit arithmetic so that no input,
 *		int64 min and max included, can overflow; results are clamped to
 *		the bounds of the column's type, which the glue passes.
 *
 * IDENTIFICATION
 *		src/core/anon/anon_numeric.cpp
 *-------------------------------------------------------------------------
 */
#include "anon/anon.hpp"

#include <cfloat>
#include <cmath>

#include "anon/anon_internal.hpp"
#include "base/error.hpp"
#include "crypto/random.hpp"

namespace pg_retention
{

namespace
{

void CheckRatio(double ratio)
{
	if (!(ratio >= 0) || !std::isfinite(ratio))
		throw Error(ErrorKind::InvalidParameterValue,
		            "noise ratio must be a finite number greater than or equal to 0",
		            "The ratio given is " + std::to_string(ratio) + ".");
}

/* A uniform offset in [-ratio * |value|, +ratio * |value|), in double. */
double NoiseOffset(double value, double ratio)
{
	return (2.0 * RandomUnit() - 1.0) * ratio * std::fabs(value);
}

} // namespace

int64_t NoiseInteger(int64_t value, double ratio, int64_t min_value, int64_t max_value)
{
	CheckRatio(ratio);
	const double offset = std::round(NoiseOffset(static_cast<double>(value), ratio));
	/* |offset| <= 10 * 2^63 for the ratios labels allow; clamp before converting */
	constexpr double kLimit = 0x1.0p100;
	const double bounded = std::fmax(-kLimit, std::fmin(kLimit, offset));
	return SaturateToRange(static_cast<__int128>(value) + static_cast<__int128>(bounded), min_value,
	                       max_value);
}

double NoiseDouble(double value, double ratio)
{
	CheckRatio(ratio);
	if (!std::isfinite(value))
		return value;
	const double result = value + NoiseOffset(value, ratio);
	return std::fmax(-DBL_MAX, std::fmin(DBL_MAX, result));
}

int64_t GeneralizeInteger(int64_t value, int64_t step, int64_t min_value, int64_t max_value)
{
	if (step <= 0)
		throw Error(ErrorKind::InvalidParameterValue, "generalize step must be greater than 0",
		            "The step given is " + std::to_string(step) + ".");
	return SaturateToRange(static_cast<__int128>(FloorDiv(value, step)) * step, min_value,
	                       max_value);
}

double GeneralizeDouble(double value, double step)
{
	if (!(step > 0) || !std::isfinite(step))
		throw Error(ErrorKind::InvalidParameterValue,
		            "generalize step must be a finite number greater than 0",
		            "The step given is " + std::to_string(step) + ".");
	if (!std::isfinite(value))
		return value;
	double quotient = value / step;
	if (!std::isfinite(quotient) || std::fabs(quotient) >= 0x1.0p53)
		return value;
	/* absorb the rounding error of the division: 0.3 / 0.1 is 2.9999999999999996 */
	const double nearest = std::nearbyint(quotient);
	if (std::fabs(quotient - nearest) <= 4 * DBL_EPSILON * std::fmax(1.0, std::fabs(quotient)))
		quotient = nearest;
	return std::floor(quotient) * step;
}

} // namespace pg_retention
