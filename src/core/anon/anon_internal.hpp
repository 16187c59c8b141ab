/*-------------------------------------------------------------------------
 *
 * anon_internal.hpp
 *		Small helpers shared by the anonymization kernels (anon_*.cpp):
 *		overflow-free integer arithmetic and keyword lookup.
 *
 *		Internal to src/core: the public API is anon.hpp.
 *
 * IDENTIFICATION
 *		src/core/anon/anon_internal.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/cpp_only.hpp"

namespace pg_retention
{

/* value clamped to [min_value, max_value]; 128 bits so that no caller can overflow. */
inline int64_t SaturateToRange(__int128 value, int64_t min_value, int64_t max_value) noexcept
{
	if (value < min_value)
		return min_value;
	if (value > max_value)
		return max_value;
	return static_cast<int64_t>(value);
}

/* Division rounding toward -infinity; divisor > 0. */
inline int64_t FloorDiv(int64_t dividend, int64_t divisor) noexcept
{
	int64_t quotient = dividend / divisor;
	if (dividend % divisor < 0)
		quotient--;
	return quotient;
}

/*
 * The enumerator whose name is `name`, for enums numbered 0..N-1 in the
 * order of `names` (the SQL and label keywords of a method argument).
 */
template <typename Enum, size_t N>
std::optional<Enum> EnumFromName(const std::string_view (&names)[N], std::string_view name) noexcept
{
	for (size_t i = 0; i < N; i++)
		if (names[i] == name)
			return static_cast<Enum>(i);
	return std::nullopt;
}

} // namespace pg_retention
