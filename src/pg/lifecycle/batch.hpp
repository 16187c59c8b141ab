/*-------------------------------------------------------------------------
 *
 * batch.hpp
 *		The batching component every lifecycle stage shares: one batch is one
 *		subtransaction (all of its work or nothing), run under the batch
 *		lock timeout, retried when an application transaction holds a row,
 *		then committed through the driver's TransactionControl; and the
 *		sizing rule that aims each next batch at retention.batch_target.
 *
 *		Usable on its own (no Engine needed): give it the commit control,
 *		whether to commit, and a check run at the end of each batch.
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/batch.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "base/error.hpp"
#include "boundary/guard.hpp"
#include "guc.hpp"
#include "lifecycle/lifecycle.hpp"
#include "boundary/subtransaction.hpp"

namespace pg_retention::pg::lifecycle
{

/* Attempts of a batch an application transaction keeps waiting. */
constexpr int kLockRetries = 5;

/* The longest the throttle sleeps after one batch, in milliseconds. */
constexpr double kMaxThrottleSleepMs = 1000.0;

/* A batch failed and its subtransaction was rolled back. */
struct BatchFailed {
	std::string message;
	std::string sqlstate;
};

/*
 * The client canceled the run, or statement_timeout or a shutdown stopped
 * it (SQLSTATE class 57): the whole run stops, the error goes on up.  The
 * subtransaction it happened in is rolled back, so the run can still record
 * that it stopped.
 */
struct RunInterrupted {
	PgError error;
};

/*
 * Runs `work` in a subtransaction (subtransaction.hpp): all of it or
 * nothing.  A PostgreSQL error becomes BatchFailed (message and SQLSTATE
 * kept), or RunInterrupted for a cancel; any other exception goes on up.
 */
template <typename Work> void InEngineSubtransaction(Work &&work)
{
	try {
		InSubtransaction(std::forward<Work>(work));
	} catch (const PgError &e) {
		ErrorData *edata = e.edata();
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION)
			throw RunInterrupted{e};
		throw BatchFailed{edata->message ? edata->message : "error",
		                  unpack_sql_state(edata->sqlerrcode)};
	}
}

/* Milliseconds since `since`. */
double Elapsed(std::chrono::steady_clock::time_point since);

class Batcher
{
public:
	/*
	 * `commit`: commit after each batch (false for a dry run, which rolls
	 * everything back at the end).  `at_end`: run inside each batch after its
	 * work, before its commit (the engine checks its run lock there); may
	 * throw to roll the batch back.
	 */
	Batcher(TransactionControl &tx, bool commit, std::function<void()> at_end = {})
	    : tx_(tx), commit_(commit), at_end_(std::move(at_end))
	{
	}

	/*
	 * Runs one batch: subtransaction, lock timeout, retries, then commit;
	 * then, when throttled, sleeps in proportion to the buffer work the
	 * batch did (Throttle).
	 */
	template <typename Work> void Run(Work &&work)
	{
		int balance = 0;
		for (int attempt = 1;; attempt++) {
			try {
				InEngineSubtransaction([&] {
					CostCharged charged(delay_ms_ > 0, balance);
					SetLockTimeout(LockTimeoutMs());
					work();
					if (at_end_)
						at_end_();
				});
				break;
			} catch (const BatchFailed &f) {
				if (!Retryable(f, attempt))
					throw;
				WaitBeforeRetry(attempt);
			}
		}
		if (commit_) {
			CommitWithoutFlush();
			tx_.CommitAndContinue();
		}
		if (delay_ms_ > 0)
			Sleep(ThrottleSleepMs(delay_ms_, limit_, balance));
	}

	/*
	 * Throttles the batches like autovacuum's cost-based delay: PostgreSQL
	 * charges every buffer a batch hits, reads and dirties to
	 * VacuumCostBalance while the batch runs (and only then), and after
	 * each batch's commit the run sleeps delay_ms x balance / limit (at
	 * most kMaxThrottleSleepMs), holding no row lock.  0 turns it off.
	 */
	void Throttle(double delay_ms, int limit)
	{
		delay_ms_ = delay_ms;
		limit_ = limit;
	}
	double throttle_delay_ms() const { return delay_ms_; }

	/* The sleep after a batch that charged `balance`. */
	static double ThrottleSleepMs(double delay_ms, int limit, int64_t balance);

	/* The first batch's size. */
	static int64_t FirstSize(int64_t preferred = 1000);
	/* Batch size for the next batch, aiming at retention.batch_target. */
	static int64_t NextSize(int64_t current, double elapsed_ms);
	/* The same within [lowest, highest]. */
	static int64_t NextSize(int64_t current, double elapsed_ms, int64_t lowest, int64_t highest);
	/* lock_timeout for the rest of the (sub)transaction, in milliseconds. */
	static void SetLockTimeout(int ms);

private:
	/*
	 * Turns PostgreSQL's buffer cost accounting on for one batch attempt
	 * and adds what it charged to `balance`; restores both variables on
	 * every exit, an error included: nothing outside the batches is
	 * charged or delayed.
	 */
	class CostCharged
	{
	public:
		CostCharged(bool on, int &balance);
		~CostCharged();
		CostCharged(const CostCharged &) = delete;
		CostCharged &operator=(const CostCharged &) = delete;

	private:
		bool on_;
		int &balance_;
		bool saved_active_;
		int saved_balance_;
	};

	TransactionControl &tx_;
	bool commit_;
	std::function<void()> at_end_;
	double delay_ms_ = 0;
	int limit_ = 200;

	static void Sleep(double ms);
	static void CommitWithoutFlush();
	static bool Retryable(const BatchFailed &f, int attempt);
	static void WaitBeforeRetry(int attempt);
};

} // namespace pg_retention::pg::lifecycle
