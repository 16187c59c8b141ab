/*-------------------------------------------------------------------------
 *
 * lifecycle.hpp
 *		The lifecycle engine: applies every declared stage that is due, in
 *		batches committed one by one (see docs/lifecycle.md).
 *
 *		Two drivers call it: the procedure retention.run() (commits through
 *		SPI_commit) and the background worker (commits through
 *		CommitTransactionCommand).  The engine never commits by itself: it
 *		asks its TransactionControl, so each driver keeps its own rules.
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/lifecycle.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "boundary/pg_headers.hpp"

namespace pg_retention::pg
{

/* How the engine commits between batches; provided by the driver. */
class TransactionControl
{
public:
	virtual ~TransactionControl() = default;
	/* Commits the current transaction and starts a new one (with a snapshot). */
	virtual void CommitAndContinue() = 0;
};

struct RunOptions {
	bool dry_run = false;
	std::string started_by = "manual"; /* "manual", "worker", ... recorded in run_history */
	TimestampTz deadline = 0;          /* stop between batches after this instant (0: none) */
	TimestampTz now = 0;               /* the run's clock (0: the current time); tests inject it */
	/* Checked between batches: true stops the run cleanly (status "stopped"). */
	std::function<bool()> should_stop;
	/* Progress NOTICEs to the client (the procedure), not for the worker. */
	bool notices = true;
	/* A dry run writes its counts to run_history unless this is false (preview()). */
	bool record_history = true;
};

struct RunSummary {
	int64_t run_id = 0;
	std::string status; /* succeeded, partial (a table failed or left due rows), stopped, failed */
	int64_t rows_minimized = 0;
	int64_t rows_anonymized = 0;
	int64_t values_purged = 0;
	int64_t rows_archived = 0;
	int64_t rows_purged = 0;
	int64_t archive_purged = 0;
	int64_t rows_blocked = 0;
	int tables_failed = 0;
	int tables_partial = 0; /* tables that ended a stage with due rows left undone */
};

/*
 * Runs the lifecycle once over every declared table of the current
 * database.  Must be called inside a transaction that the
 * TransactionControl can commit; returns inside a (new) transaction.
 * A table that fails is recorded and skipped; the run goes on.
 */
RunSummary RunLifecycle(const RunOptions &options, TransactionControl &transactions);

/*
 * Marks runs left "running" by a crash (their backend is gone) as
 * "crashed"; returns how many.  The next run resumes from the stage
 * watermarks, which commit with each batch.
 */
int64_t MarkCrashedRuns();

/* Deletes run history older than retention.history_days; returns how many runs. */
int64_t PruneRunHistory();

} // namespace pg_retention::pg
