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

extern "C" {
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/wait_event.h"
}

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
	return NextSize(current, elapsed_ms, 10, batch_max_rows);
}

int64_t Batcher::NextSize(int64_t current, double elapsed_ms, int64_t lowest, int64_t highest)
{
	double scaled = current * (BatchTargetMs() / std::max(elapsed_ms, 1.0));
	scaled = std::min(scaled, current * 4.0);
	return std::clamp<int64_t>(static_cast<int64_t>(scaled), lowest, std::max(lowest, highest));
}

void Batcher::SetLockTimeout(int ms)
{
	Sql("SELECT pg_catalog.set_config('lock_timeout', $1, true)", {std::to_string(ms) + "ms"});
}

/*
 * A batch's commit does not wait for its WAL to reach the disk
 * (synchronous_commit = off for that transaction alone); the stage's last
 * commit and the run's do, and flush every batch before them.  A crash in
 * between loses the last batches whole, their work with their progress
 * record and watermark (the WAL is replayed in order), and the next run
 * does them again: the same as a crash in the middle of a batch.
 */
void Batcher::CommitWithoutFlush()
{
	Sql("SELECT pg_catalog.set_config('synchronous_commit', 'off', true)", {});
}

/*
 * bufmgr.c adds VacuumCostPageHit/Miss/Dirty to VacuumCostBalance while
 * VacuumCostActive is set (15 to 18 alike).  A vacuum_delay_point() reached
 * inside the batch (a GIN pending-list cleanup) may reset the balance:
 * the batch is then charged less, never more.
 */
Batcher::CostCharged::CostCharged(bool on, int &balance)
    : on_(on), balance_(balance), saved_active_(VacuumCostActive), saved_balance_(VacuumCostBalance)
{
	if (!on_)
		return;
	VacuumCostActive = true;
	VacuumCostBalance = 0;
}

Batcher::CostCharged::~CostCharged()
{
	if (!on_)
		return;
	balance_ += VacuumCostBalance;
	VacuumCostActive = saved_active_;
	VacuumCostBalance = saved_balance_;
}

double Batcher::ThrottleSleepMs(double delay_ms, int limit, int64_t balance)
{
	if (delay_ms <= 0 || limit <= 0 || balance <= 0)
		return 0;
	return std::min(delay_ms * static_cast<double>(balance) / limit, kMaxThrottleSleepMs);
}

/*
 * Sleeps, interruptibly: a cancel or a shutdown request ends the sleep at
 * once (the run stops at its next check), and so does the postmaster's death.
 */
void Batcher::Sleep(double ms)
{
	if (ms < 1)
		return;
	PgCall([&] {
		(void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
		                static_cast<long>(ms), WAIT_EVENT_VACUUM_DELAY);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	});
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
