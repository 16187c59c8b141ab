/*-------------------------------------------------------------------------
 *
 * session.hpp
 *		The session around a run: the fixed date style and lock timeout its
 *		statements see, and how each SQL-callable driver commits between
 *		batches (the worker has its own, worker.cpp).
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/session.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <string>

#include "boundary/guard.hpp"
#include "lifecycle/lifecycle.hpp"

namespace pg_retention::pg::lifecycle
{

/*
 * Values cross the engine as text (watermarks, cutoffs): a run renders them
 * in one fixed style, whatever the session's, so a watermark written by the
 * worker (UTC) reads back the same in a session set to another time zone.
 */
class FixedDateStyle
{
public:
	FixedDateStyle();
	void Restore();

private:
	std::string datestyle_;
	std::string timezone_;
	std::string lock_timeout_;

	static std::string Setting(const char *name);
	static void Set(const char *name, const char *value);
};

/* Commits through SPI: the procedure runs non-atomically. */
class ProcedureTransactions : public TransactionControl
{
public:
	explicit ProcedureTransactions(bool atomic) : atomic_(atomic) {}
	void CommitAndContinue() override;

private:
	bool atomic_;
};

/* preview(): a dry run, inside the caller's transaction, never commits. */
class NoCommits : public TransactionControl
{
public:
	void CommitAndContinue() override {}
};

} // namespace pg_retention::pg::lifecycle
