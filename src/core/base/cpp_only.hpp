/*-------------------------------------------------------------------------
 *
 * cpp_only.hpp
 *		Include last in every src/core header: src/core must stay free of
 *		PostgreSQL headers so it can be unit-tested, fuzzed and benchmarked
 *		on its own.
 *
 * IDENTIFICATION
 *		src/core/base/cpp_only.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#ifdef POSTGRES_H
static_assert(false,
              "src/core must not see PostgreSQL headers: include core headers before postgres.h");
#endif
