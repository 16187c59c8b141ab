/*-------------------------------------------------------------------------
 *
 * batch.cpp
 *		The lifecycle's batches (see batch.hpp).
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/batch.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>

#include "lifecycle/batch.hpp"
#include "boundary/spi_query.hpp"

namespace pg_retention::pg::lifecycle
{

double Elapsed(std::chrono::steady_clock::time_point since)
{
	return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
	    .count();
}

int64_t Batcher::FirstSize(int64_t preferred)
{
	return std::min<int64_t>(preferred, batch_max_rows);
}

int64_t Batcher::NextSize(int64_t current, double elapsed_ms)
{
	double scaled = current * (BatchTargetMs() / std::max(elapsed_ms, 1.0));
	scaled = std::min(scaled, current * 4.0);
	return std::clamp<int64_t>(static_cast<int64_t>(scaled), 10, batch_max_rows);
}

void Batcher::SetBatchLockTimeout()
{
	Sql("SELECT pg_catalog.set_config('lock_timeout', $1, true)",
	    {std::to_string(LockTimeoutMs()) + "ms"});
}

bool Batcher::Retryable(const BatchFailed &f, int attempt)
{
	/* lock_not_available: an application transaction holds a row; retry */
	/* foreign_key_violation: a referencing row committed during the statement */
	return (f.sqlstate == "55P03" || f.sqlstate == "23503") && attempt < kLockRetries;
}

void Batcher::WaitBeforeRetry(int attempt)
{
	PgCall([&] { pg_usleep(100000L * attempt); });
}

} // namespace pg_retention::pg::lifecycle
