/*-------------------------------------------------------------------------
 *
 * worker.cpp
 *		The per-database worker: started by the launcher, it checks the
 *		schedule and, when a run is due, carries out the approved erasure
 *		requests and runs the lifecycle; then it tells the launcher when to
 *		start it next, and exits.
 *
 *		What it remembers between starts is in retention.worker_state, a
 *		one-row table of the database: the current slot of the schedule
 *		(src/core/schedule.hpp), whether its run completed, the failures
 *		so far, and whether a run is under way.  That last flag is
 *		committed before the run starts: if it is still set when the worker
 *		starts again, the previous run crashed (kill -9, immediate
 *		shutdown); MarkCrashedRuns() marks it "crashed" in run_history and
 *		the work resumes from the last committed batch.
 *
 *		SIGTERM sets a flag that the engine reads between batches, so the
 *		run stops cleanly (status "stopped"); a second SIGTERM stops it at
 *		once.  A cancel (pg_cancel_backend) stops the batch under way: the
 *		engine records the run "stopped", and the worker does nothing more
 *		(no run after canceled erasures, no vacuum) and comes back no sooner
 *		than after a SIGTERM.  An error escaping the engine is caught, its
 *		transaction rolled back, the run marked failed, and retried with
 *		backoff.  The entry point runs under InvokeGuarded: no C++ exception
 *		reaches the postmaster, an error ends the worker with exit code 1,
 *		which never sends the cluster into crash recovery.
 *
 * IDENTIFICATION
 *		src/pg/worker/worker.cpp
 *-------------------------------------------------------------------------
 */
#include <csignal>
#include <optional>
#include <string>

#include "schedule/schedule.hpp"

#include "rights/erasure.hpp"
#include "boundary/guard.hpp"
#include "lifecycle/lifecycle.hpp"
#include "boundary/spi_query.hpp"
#include "worker/worker.hpp"
#include "worker/worker_settings.hpp"
#include "catalog/schema_version.hpp"

extern "C" {
#include "access/xlog.h"
#include "commands/dbcommands.h"
#include "commands/vacuum.h"
#include "parser/parse_node.h"
#include "parser/parser.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/pmsignal.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace pg_retention::pg
{

namespace
{

/* The advisory lock that keeps one worker per database: "pgrt" "wrkr". */
constexpr uint32 kWorkerLockKey1 = 0x70677274;
constexpr uint32 kWorkerLockKey2 = 0x77726b72;
/* After a SIGTERM, the launcher starts the worker again no sooner than this. */
constexpr int64 kPauseAfterStopMs = 60 * 1000;

volatile sig_atomic_t stop_requested = false;

/* First SIGTERM: stop between batches.  Second one: stop now (die). */
void HandleSigterm(SIGNAL_ARGS)
{
	int save_errno = errno;
	if (stop_requested)
		die(postgres_signal_arg);
	stop_requested = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

void BeginTransaction()
{
	PgCall([] {
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
	});
}

void CommitTransaction()
{
	PgCall([] {
		if (ActiveSnapshotSet())
			PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_stat(false);
	});
}

/* Rolls back whatever is open, subtransactions included, after an error. */
void RollbackTransaction()
{
	PgCall([] { AbortOutOfAnyTransaction(); });
}

void ReportActivity(const char *what)
{
	PgCall([what] { pgstat_report_activity(STATE_RUNNING, what); });
}

/* The engine commits between batches through this. */
class WorkerTransactions final : public TransactionControl
{
public:
	void CommitAndContinue() override
	{
		CommitTransaction();
		PgCall([] { CHECK_FOR_INTERRUPTS(); });
		BeginTransaction();
	}
};

/* The message of the exception being handled; never throws. */
std::string CurrentExceptionMessage() noexcept
{
	try {
		throw;
	} catch (const std::exception &e) {
		return e.what();
	} catch (...) {
		return "unknown error";
	}
}

/* Whether the exception being handled is a cancel or a termination (guard.hpp). */
bool CurrentExceptionIsInterrupt() noexcept
{
	try {
		throw;
	} catch (const PgError &e) {
		return IsInterrupt(e);
	} catch (...) {
		return false;
	}
}

std::optional<std::string> TimestampParam(TimestampTz ts)
{
	return ts == kNoInstant ? std::nullopt : std::optional<std::string>(TimestampText(ts));
}

TimestampTz TimestampValue(const SqlValue &value)
{
	return value ? ParseTimestamp(*value) : kNoInstant;
}

/* retention.worker_state, in memory. */
struct StoredState {
	SlotState slot;
	std::string attempt; /* "scheduled", "run_now", or "" when no run is under way */
	std::string last_status;
	TimestampTz next_run = kNoInstant;
};

StoredState LoadState()
{
	SqlResult r = Sql("SELECT slot_start, slot_done, failures, last_failure_at, attempt, "
	                  "last_status FROM retention.worker_state");
	StoredState state;
	if (r.rows.empty()) {
		Sql("INSERT INTO retention.worker_state DEFAULT VALUES ON CONFLICT DO NOTHING");
		return state;
	}
	const SqlRow &row = r.rows[0];
	state.slot.slot = TimestampValue(row[0]);
	state.slot.done = row[1].value_or("f") == "t";
	state.slot.failures = std::stoi(row[2].value_or("0"));
	state.slot.last_failure = TimestampValue(row[3]);
	state.attempt = row[4].value_or("");
	state.last_status = row[5].value_or("");
	return state;
}

void SaveState(const StoredState &state)
{
	Sql("UPDATE retention.worker_state SET slot_start = $1::timestamptz, slot_done = $2::boolean, "
	    "failures = $3::int, last_failure_at = $4::timestamptz, attempt = $5, last_status = $6, "
	    "next_run_at = $7::timestamptz, updated_at = clock_timestamp()",
	    {TimestampParam(state.slot.slot), state.slot.done ? "true" : "false",
	     std::to_string(state.slot.failures), TimestampParam(state.slot.last_failure),
	     state.attempt.empty() ? SqlValue() : SqlValue(state.attempt),
	     state.last_status.empty() ? SqlValue() : SqlValue(state.last_status),
	     TimestampParam(state.next_run)});
}

class DatabaseWorker
{
public:
	explicit DatabaseWorker(bool run_now) : run_now_(run_now) {}

	void Run()
	{
		ReportActivity("pg_retention: checking the schedule");
		BeginTransaction();
		if (!ExtensionInstalled()) {
			CommitTransaction();
			SendToLauncher(MyDatabaseId, LauncherMessage::ExtensionNotInstalled, 0);
			return;
		}
		const char *name = PgCall([] { return get_database_name(MyDatabaseId); });
		database_ = name != nullptr ? name : std::to_string(MyDatabaseId);
		if (!SchemaIsCurrent()) {
			/* ALTER EXTENSION ... UPDATE tells the launcher to come back */
			CommitTransaction();
			SendToLauncher(MyDatabaseId, LauncherMessage::ExtensionNotInstalled, 0);
			return;
		}
		if (!LockDatabase()) {
			/* another worker of ours is here (the launcher restarted): come back later */
			CommitTransaction();
			SendToLauncher(MyDatabaseId, LauncherMessage::NextCheck,
			               TimestampTzPlusMilliseconds(RetentionNow(), kPauseAfterStopMs));
			return;
		}
		Housekeeping();
		StoredState state = LoadState();
		RecordCrashedAttempt(state);
		RunPlan plan = PlanRun(RetentionNow(), CurrentSchedule(), ScheduleZone(), state.slot);
		state.slot = plan.state;
		bool scheduled = plan.run && WorkerEnabled() && !stop_requested;
		bool requested = run_now_ && WorkerEnabled() && !stop_requested;
		if (scheduled || requested)
			state.attempt = scheduled ? "scheduled" : "run_now";
		SaveState(state);
		CommitTransaction();

		if (scheduled || requested) {
			ProcessErasures();
			RunOutcome outcome = canceled_ ? RunOutcome::Stopped
			                               : Execute(scheduled, state.slot.slot, state.last_status);
			if (canceled_)
				state.last_status = "stopped";
			if (scheduled)
				state.slot = AfterRun(state.slot, outcome, RetentionNow());
			state.attempt.clear();
		}
		ScheduleNext(state);
	}

private:
	bool run_now_;
	std::string database_;
	const char *stop_reason_ = nullptr;
	bool canceled_ = false; /* pg_cancel_backend() or a timeout stopped the work */

	static bool ExtensionInstalled()
	{
		return PgCall([] { return OidIsValid(get_extension_oid("pg_retention", true)); });
	}

	/* An older version's schema (a package upgrade without ALTER EXTENSION): skip it, say why. */
	bool SchemaIsCurrent() const
	{
		std::optional<std::string> installed = OtherSchemaVersion();
		if (!installed)
			return true;
		Log("pg_retention worker: database \"" + database_ +
		    "\" is skipped: its extension is at version " + *installed +
		    ", the library at version " + LibraryVersion() +
		    "; run ALTER EXTENSION pg_retention UPDATE there");
		return false;
	}

	/* One worker per database, even across a restart of the launcher. */
	static bool LockDatabase()
	{
		LockAcquireResult result = PgCall([] {
			LOCKTAG tag;
			SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, kWorkerLockKey1, kWorkerLockKey2, 2);
			return LockAcquire(&tag, ExclusiveLock, true, true);
		});
		return result != LOCKACQUIRE_NOT_AVAIL;
	}

	/* Runs left "running" by a crash, history past retention.history_days, pauses of dropped
	 * tables. */
	void Housekeeping()
	{
		int64_t crashed = MarkCrashedRuns();
		PruneRunHistory();
		Sql("DELETE FROM retention.paused_table p WHERE NOT EXISTS "
		    "(SELECT FROM pg_catalog.pg_class c WHERE c.oid = p.table_name)");
		if (crashed > 0)
			Log("pg_retention worker: " + std::to_string(crashed) + " run(s) in database \"" +
			    database_ +
			    "\" were interrupted by a crash or an immediate shutdown and are marked "
			    "\"crashed\"; the work resumes from the last committed batch");
	}

	/* A run was under way when the worker last stopped: it crashed, count it as a failure. */
	static void RecordCrashedAttempt(StoredState &state)
	{
		if (state.attempt.empty())
			return;
		if (state.attempt == "scheduled")
			state.slot = AfterRun(state.slot, RunOutcome::Failed, RetentionNow());
		state.attempt.clear();
		state.last_status = "crashed";
	}

	/*
	 * Approved erasure requests (erasure.cpp), before each run, in their
	 * own transaction: a request that fails is marked with its error
	 * there; an error escaping it is logged, and the run goes on.
	 */
	void ProcessErasures()
	{
		if (stop_requested || !WorkerEnabled())
			return;
		ReportActivity("pg_retention: processing erasure requests");
		BeginTransaction();
		bool failed = false;
		std::string message;
		int64_t done = 0;
		try {
			done = ProcessErasureRequests();
		} catch (...) {
			failed = true;
			canceled_ = CurrentExceptionIsInterrupt();
			message = CurrentExceptionMessage();
		}
		if (failed) {
			RollbackTransaction();
			Log("pg_retention worker: processing erasure requests in database \"" + database_ +
			    "\" " + (canceled_ ? "was canceled, no run follows: " : "failed: ") + message);
			return;
		}
		CommitTransaction();
		if (done > 0)
			Log("pg_retention worker: " + std::to_string(done) +
			    " approved erasure request(s) carried out in database \"" + database_ + "\"");
	}

	/* Checked by the engine between batches. */
	bool ShouldStop(TimestampTz deadline)
	{
		if (ConfigReloadPending) {
			ConfigReloadPending = false;
			PgCall([] { ProcessConfigFile(PGC_SIGHUP); });
		}
		if (!PostmasterIsAlive())
			PgCall([] { proc_exit(1); });
		if (stop_requested)
			stop_reason_ = "the worker received SIGTERM";
		else if (!WorkerEnabled())
			stop_reason_ = "retention.worker_enabled was turned off";
		else if (RetentionNow() >= deadline)
			stop_reason_ = "its window closed (retention.max_run_duration)";
		return stop_reason_ != nullptr;
	}

	/*
	 * One lifecycle run.  The deadline is re-read at each check, so a
	 * reload that shortens retention.max_run_duration applies at once.
	 */
	RunOutcome Execute(bool scheduled, TimestampTz slot, std::string &status)
	{
		ReportActivity(scheduled ? "pg_retention: scheduled lifecycle run"
		                         : "pg_retention: lifecycle run requested by retention.run_now()");
		const TimestampTz started = RetentionNow();
		RunOptions options;
		options.started_by = "worker";
		options.notices = false;
		options.now = TestClockSet() ? started : 0;
		options.should_stop = [this, scheduled, slot, started] {
			return ShouldStop((scheduled ? slot : started) + CurrentSchedule().window);
		};
		WorkerTransactions transactions;
		RunSummary summary;
		bool failed = false;
		std::string message;
		BeginTransaction();
		try {
			summary = RunLifecycle(options, transactions);
		} catch (...) {
			failed = true;
			canceled_ = CurrentExceptionIsInterrupt();
			message = CurrentExceptionMessage();
		}
		if (failed) {
			/* a cancel: the engine recorded the run "stopped" unless it came too early */
			status = canceled_ ? "stopped" : "failed";
			RollbackTransaction();
			EndRunningRun(status, message);
			Log("pg_retention worker: the lifecycle run in database \"" + database_ + "\" " +
			    (canceled_ ? "was canceled: " : "failed: ") + message +
			    (canceled_ ? "; it resumes at the next run" : "; it is retried with backoff"));
			return canceled_ ? RunOutcome::Stopped : RunOutcome::Failed;
		}
		CommitTransaction();
		status = summary.status;
		LogSummary(summary);
		VacuumTouchedTables(summary.run_id);
		if (summary.status == "succeeded" || summary.status == "partial")
			return RunOutcome::Completed;
		return summary.status == "stopped" ? RunOutcome::Stopped : RunOutcome::Failed;
	}

	/* The engine could not record the end itself: its run row is still "running". */
	static void EndRunningRun(const std::string &status, const std::string &message)
	{
		BeginTransaction();
		Sql("UPDATE retention.run_history SET status = $2, finished_at = clock_timestamp(), "
		    "message = $1 WHERE status = 'running' AND backend_pid = pg_backend_pid()",
		    {message, status});
		CommitTransaction();
	}

	/* Saves the state and tells the launcher when to start the worker again. */
	void ScheduleNext(StoredState &state)
	{
		TimestampTz now = RetentionNow();
		RunPlan next = PlanRun(now, CurrentSchedule(), ScheduleZone(), state.slot);
		state.slot = next.state;
		state.next_run = next.run ? now : next.next_check;
		if (stop_requested || canceled_)
			state.next_run =
			    std::max(state.next_run, TimestampTzPlusMilliseconds(now, kPauseAfterStopMs));
		BeginTransaction();
		SaveState(state);
		CommitTransaction();
		ReportActivity("pg_retention: exiting");
		SendToLauncher(MyDatabaseId, LauncherMessage::NextCheck, state.next_run);
	}

	void LogSummary(const RunSummary &s)
	{
		std::string text =
		    "pg_retention worker: run " + std::to_string(s.run_id) + " in database \"" + database_ +
		    "\" " + s.status + ": " + std::to_string(s.rows_anonymized) + " anonymized, " +
		    std::to_string(s.values_purged) + " values purged, " + std::to_string(s.rows_archived) +
		    " archived, " + std::to_string(s.rows_purged) + " purged, " +
		    std::to_string(s.archive_purged) + " archived rows purged, " +
		    std::to_string(s.tables_failed) + " tables failed";
		if (s.status == "stopped" && stop_reason_ != nullptr)
			text +=
			    std::string("; stopped because ") + stop_reason_ + ", it resumes at the next run";
		Log(text);
	}

	/*
	 * Anonymizing leaves the old values in dead tuples: vacuum what the run
	 * touched.  VACUUM must run at top level, which the worker is (a
	 * procedure is not: after CALL retention.run() the DBA vacuums).
	 */
	void VacuumTouchedTables(int64_t run_id)
	{
		if (run_id <= 0 || stop_requested || canceled_)
			return;
		BeginTransaction();
		std::vector<std::string> tables;
		try {
			SqlResult touched =
			    Sql("SELECT DISTINCT table_name::text FROM retention.run_detail "
			        "WHERE run_id = $1::bigint AND vacuum_pending AND table_name IS "
			        "NOT NULL",
			        {std::to_string(run_id)});
			for (const SqlRow &row : touched.rows)
				if (row[0])
					tables.push_back(*row[0]);
		} catch (...) {
			RollbackTransaction();
			return;
		}
		CommitTransaction();
		for (const std::string &table : tables) {
			ReportActivity("pg_retention: vacuuming a table the run touched");
			std::string command = "VACUUM (ANALYZE) " + table;
			try {
				PgCall([&] {
					SetCurrentStatementStartTimestamp();
					StartTransactionCommand();
					List *parsed = raw_parser(command.c_str(), RAW_PARSE_DEFAULT);
					VacuumStmt *stmt = castNode(VacuumStmt, linitial_node(RawStmt, parsed)->stmt);
					ParseState *pstate = make_parsestate(NULL);
					ExecVacuum(pstate, stmt, true);
					CommitTransactionCommand();
				});
			} catch (...) {
				canceled_ = CurrentExceptionIsInterrupt();
				std::string message = CurrentExceptionMessage();
				RollbackTransaction();
				Log("pg_retention worker: could not vacuum " + table + ": " + message);
				if (canceled_)
					return; /* the rest stays pending for the next run */
			}
		}
		if (tables.empty())
			return;
		BeginTransaction();
		try {
			Sql("UPDATE retention.run_detail SET vacuum_pending = false WHERE run_id = $1::bigint",
			    {std::to_string(run_id)});
			CommitTransaction();
		} catch (...) {
			RollbackTransaction();
		}
	}

	static void Log(const std::string &text)
	{
		PgCall([&] { ereport(LOG, (errmsg_internal("%s", text.c_str()))); });
	}
};

void WorkerMain(Datum arg)
{
	Oid dboid = DatumGetObjectId(arg);
	WorkerStartArgs args;
	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	PgCall([dboid] {
		pqsignal(SIGTERM, HandleSigterm);
		pqsignal(SIGHUP, SignalHandlerForConfigReload);
		BackgroundWorkerUnblockSignals();
		BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
		pgstat_report_appname("pg_retention worker");
		/* like autovacuum: the server's session defaults must not break batches */
		SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
		SetConfigOption("idle_in_transaction_session_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
		SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET,
		                PGC_S_OVERRIDE);
		/*
		 * Nothing of a user's schema on the path: the VACUUM (ANALYZE) it runs
		 * evaluates index expressions as the table's owner, and PostgreSQL 15
		 * leaves them the session's search_path (17 fixes it for maintenance).
		 */
		SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	});
	if (RecoveryInProgress())
		return; /* nothing runs on a standby; the launcher does not either */
	DatabaseWorker(args.run_now).Run();
}

} // namespace

} // namespace pg_retention::pg

void pg_retention_worker_main(Datum arg)
{
	pg_retention::pg::InvokeGuarded("pg_retention worker", pg_retention::pg::WorkerMain, arg);
}
