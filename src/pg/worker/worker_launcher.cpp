/*-------------------------------------------------------------------------
 *
 * worker_launcher.cpp
 *		The launcher: one background worker for the cluster that starts a
 *		short-lived worker in each database when it has something to do.
 *
 *		It connects to no database (like the logical replication launcher)
 *		and reads the shared catalog pg_database once a minute.  Each
 *		database it can connect to is examined once by a worker, which says
 *		whether pg_retention is installed there and, if so, when its next
 *		run is due; the launcher starts it again at that time.  Messages on
 *		the queue (worker_queue.cpp) wake it earlier: CREATE EXTENSION, or
 *		retention.run_now().  A reload that changes the schedule has every
 *		database with the extension examined again.
 *
 *		It starts after recovery (BgWorkerStart_RecoveryFinished): nothing
 *		of pg_retention runs on a standby; the postmaster starts the
 *		launcher when the standby is promoted.  When no slot of
 *		max_worker_processes is free, it logs why and what to raise, and
 *		retries every minute and whenever one of its workers exits.
 *
 * IDENTIFICATION
 *		src/pg/worker/worker_launcher.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>
#include <map>
#include <string>

#include "schedule/schedule.hpp"

#include "boundary/guard.hpp"
#include "module.hpp"
#include "worker/worker.hpp"
#include "worker/worker_settings.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/tableam.h"
#include "catalog/pg_database.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace pg_retention::pg
{

namespace
{

/* pg_database is read this often, so a new database is noticed within a minute. */
constexpr long kScanIntervalMs = 60 * 1000;
/* While no worker slot is free, the shortage is logged again this often. */
constexpr long kSlotShortageLogIntervalMs = 10 * 60 * 1000;
/* A worker that exits without a report (it failed) is retried after 1, 2, 4... minutes. */
constexpr int64 kSilentExitFirstDelayMs = 60 * 1000;
constexpr int64 kSilentExitMaxDelayMs = 60 * 60 * 1000;
/* How long the launcher waits before the postmaster restarts it after an error. */
constexpr int kLauncherRestartSeconds = 10;

static_assert(sizeof(WorkerStartArgs) <= BGW_EXTRALEN, "bgw_extra holds the start arguments");

enum class Extension { Unknown, Installed, NotInstalled };

/* What the launcher knows of one database. */
struct Database {
	std::string name;
	Extension extension = Extension::Unknown;
	TimestampTz next_start = 0;    /* start a worker then (worker clock); DT_NOEND: when asked */
	bool run_now = false;          /* retention.run_now() is waiting */
	bool waiting_for_slot = false; /* due, but no worker slot was free */
	BackgroundWorkerHandle *worker = nullptr;
	bool reported = false; /* the running worker already said when to come back */
	int silent_exits = 0;  /* consecutive workers that exited without a report */
	bool seen = false;     /* in the last read of pg_database */
};

/* One row of pg_database, copied out of the catalog scan. */
struct DatabaseRow {
	Oid oid;
	NameData name;
};

void ClearLauncherLatch(int, Datum)
{
	RegisterLauncherLatch(nullptr);
}

class Launcher
{
public:
	Launcher() : fingerprint_(ScheduleFingerprint()) {}

	/* The main loop: returns only through proc_exit (SIGTERM, postmaster death). */
	[[noreturn]] void Run()
	{
		PgCall([] {
			RegisterLauncherLatch(MyLatch);
			before_shmem_exit(ClearLauncherLatch, 0);
		});
		for (;;) {
			ReloadConfigIfAsked();
			ReceiveMessages();
			ReapWorkers();
			if (WorkerEnabled()) {
				if (GetCurrentTimestamp() >= next_scan_)
					ScanDatabases();
				StartDueWorkers();
			}
			Sleep(SleepMs());
		}
	}

private:
	std::map<Oid, Database> databases_;
	std::string fingerprint_;
	TimestampTz next_scan_ = 0; /* real clock */
	bool slot_shortage_ = false;
	TimestampTz shortage_logged_at_ = 0;

	/* The entry of a database, created (and pg_database read soon) if new. */
	Database &Entry(Oid dboid)
	{
		auto [it, inserted] = databases_.try_emplace(dboid);
		if (inserted)
			next_scan_ = 0;
		return it->second;
	}

	/* A schedule change (or re-enabling) has every database with the extension looked at again. */
	void ReloadConfigIfAsked()
	{
		if (!ConfigReloadPending)
			return;
		ConfigReloadPending = false;
		PgCall([] { ProcessConfigFile(PGC_SIGHUP); });
		std::string fingerprint = ScheduleFingerprint();
		if (fingerprint == fingerprint_)
			return;
		fingerprint_ = fingerprint;
		for (auto &[dboid, db] : databases_)
			if (db.extension != Extension::NotInstalled)
				db.next_start = 0;
		next_scan_ = 0;
	}

	void ReceiveMessages()
	{
		LauncherQueueEntry messages[kLauncherQueueCapacity];
		bool lost = false;
		int count = ReceiveLauncherMessages(messages, lost);
		for (int i = 0; i < count; i++) {
			Database &db = Entry(messages[i].dboid);
			switch (messages[i].message) {
			case LauncherMessage::CheckDatabase:
				db.extension = Extension::Unknown;
				db.next_start = 0;
				break;
			case LauncherMessage::RunNow:
				db.run_now = true;
				break;
			case LauncherMessage::NextCheck:
				db.extension = Extension::Installed;
				db.next_start = messages[i].when;
				db.reported = true;
				db.silent_exits = 0;
				break;
			case LauncherMessage::ExtensionNotInstalled:
				db.extension = Extension::NotInstalled;
				db.next_start = DT_NOEND;
				db.reported = true;
				db.silent_exits = 0;
				break;
			}
		}
		if (lost)
			for (auto &[dboid, db] : databases_)
				db.next_start = 0;
	}

	/* Forgets the workers that exited; one that exited without a report failed: back off. */
	void ReapWorkers()
	{
		for (auto &[dboid, db] : databases_) {
			if (db.worker == nullptr)
				continue;
			pid_t pid;
			BackgroundWorkerHandle *handle = db.worker;
			BgwHandleStatus status = PgCall([&] { return GetBackgroundWorkerPid(handle, &pid); });
			if (status == BGWH_POSTMASTER_DIED)
				PgCall([] { proc_exit(1); });
			if (status != BGWH_STOPPED)
				continue;
			PgCall([handle] { pfree(handle); });
			db.worker = nullptr;
			if (!db.reported) {
				int64 delay = kSilentExitFirstDelayMs << std::min(db.silent_exits, 10);
				db.silent_exits++;
				db.next_start = TimestampTzPlusMilliseconds(RetentionNow(),
				                                            std::min(delay, kSilentExitMaxDelayMs));
			}
		}
	}

	/* Reads the databases one can connect to from pg_database (a shared catalog). */
	void ScanDatabases()
	{
		DatabaseRow *rows = nullptr;
		int count = 0;
		PgCall([&] {
			int capacity = 16;
			SetCurrentStatementStartTimestamp();
			StartTransactionCommand();
			(void)GetTransactionSnapshot();
			rows = static_cast<DatabaseRow *>(
			    MemoryContextAlloc(TopMemoryContext, sizeof(DatabaseRow) * capacity));
			Relation rel = table_open(DatabaseRelationId, AccessShareLock);
			TableScanDesc scan = table_beginscan_catalog(rel, 0, NULL);
			HeapTuple tuple;
			while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL) {
				Form_pg_database form = (Form_pg_database)GETSTRUCT(tuple);
				if (!form->datallowconn || form->datistemplate)
					continue;
				if (count == capacity) {
					capacity *= 2;
					rows =
					    static_cast<DatabaseRow *>(repalloc(rows, sizeof(DatabaseRow) * capacity));
				}
				rows[count].oid = form->oid;
				rows[count].name = form->datname;
				count++;
			}
			table_endscan(scan);
			table_close(rel, AccessShareLock);
			CommitTransactionCommand();
		});
		for (auto &[dboid, db] : databases_)
			db.seen = false;
		for (int i = 0; i < count; i++) {
			Database &db = databases_[rows[i].oid];
			db.name = NameStr(rows[i].name);
			db.seen = true;
		}
		PgCall([rows] { pfree(rows); });
		for (auto it = databases_.begin(); it != databases_.end();)
			it = !it->second.seen && it->second.worker == nullptr ? databases_.erase(it) : ++it;
		next_scan_ = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), kScanIntervalMs);
	}

	int RunningWorkers() const
	{
		return static_cast<int>(std::count_if(databases_.begin(), databases_.end(),
		                                      [](const auto &e) { return e.second.worker; }));
	}

	static bool Due(const Database &db, TimestampTz now)
	{
		return db.worker == nullptr && db.seen &&
		       (db.run_now || db.waiting_for_slot ||
		        (db.next_start != DT_NOEND && db.next_start <= now));
	}

	/* Starts the workers that are due, within retention.max_workers and the free slots. */
	void StartDueWorkers()
	{
		TimestampTz now = RetentionNow();
		int running = RunningWorkers();
		for (auto &[dboid, db] : databases_) {
			if (!Due(db, now))
				continue;
			if (running >= MaxConcurrentWorkers())
				return; /* the next exit wakes us */
			if (!StartWorker(dboid, db)) {
				NoFreeSlot(db);
				return;
			}
			running++;
		}
	}

	bool StartWorker(Oid dboid, Database &db)
	{
		BackgroundWorker worker;
		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = BGW_NEVER_RESTART;
		strlcpy(worker.bgw_library_name, "pg_retention", BGW_MAXLEN);
		strlcpy(worker.bgw_function_name, "pg_retention_worker_main", BGW_MAXLEN);
		snprintf(worker.bgw_name, BGW_MAXLEN, "pg_retention worker for database %s",
		         db.name.c_str());
		strlcpy(worker.bgw_type, "pg_retention worker", BGW_MAXLEN);
		worker.bgw_main_arg = ObjectIdGetDatum(dboid);
		WorkerStartArgs args{db.run_now};
		memcpy(worker.bgw_extra, &args, sizeof(args));
		worker.bgw_notify_pid = MyProcPid;

		BackgroundWorkerHandle *handle = nullptr;
		bool started = PgCall([&] {
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
			bool registered = RegisterDynamicBackgroundWorker(&worker, &handle);
			MemoryContextSwitchTo(old);
			return registered;
		});
		if (!started)
			return false;
		db.worker = handle;
		db.reported = false;
		db.run_now = false;
		db.waiting_for_slot = false;
		if (slot_shortage_) {
			slot_shortage_ = false;
			PgCall([] {
				ereport(LOG, (errmsg("pg_retention launcher: background worker slots are free "
				                     "again")));
			});
		}
		return true;
	}

	/* Logs the shortage once, then every ten minutes while it lasts. */
	void NoFreeSlot(Database &db)
	{
		db.waiting_for_slot = true;
		TimestampTz real_now = GetCurrentTimestamp();
		if (slot_shortage_ &&
		    !TimestampDifferenceExceeds(shortage_logged_at_, real_now, kSlotShortageLogIntervalMs))
			return;
		slot_shortage_ = true;
		shortage_logged_at_ = real_now;
		int waiting =
		    static_cast<int>(std::count_if(databases_.begin(), databases_.end(), [](const auto &e) {
			    return e.second.waiting_for_slot;
		    }));
		const char *name = db.name.c_str();
		PgCall([&] {
			ereport(LOG,
			        (errmsg("pg_retention launcher: no background worker slot is free to "
			                "process database \"%s\"",
			                name),
			         errdetail("All %d slots of max_worker_processes are taken; %d database(s) "
			                   "waiting.",
			                   max_worker_processes, waiting),
			         errhint("Raise max_worker_processes (it takes a restart): pg_retention "
			                 "needs one slot for its launcher and one per database it "
			                 "processes at a time (retention.max_workers).  The launcher "
			                 "retries every minute and whenever a slot frees up.")));
		});
	}

	/*
	 * Until the next read of pg_database, or the next start that is not yet
	 * due; databases due but held back wait for a worker to exit (which sets
	 * the latch) or for the next minute.  -1: sleep until woken.
	 */
	long SleepMs() const
	{
		if (!WorkerEnabled())
			return -1;
		long ms = std::max(0L, TimestampDifferenceMilliseconds(GetCurrentTimestamp(), next_scan_));
		TimestampTz now = RetentionNow();
		for (const auto &[dboid, db] : databases_)
			if (db.worker == nullptr && db.next_start != DT_NOEND && db.next_start > now)
				ms = std::min(ms, TimestampDifferenceMilliseconds(now, db.next_start) + 1);
		return std::min(ms, kScanIntervalMs);
	}

	static void Sleep(long timeout_ms)
	{
		PgCall([timeout_ms] {
			int events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | (timeout_ms >= 0 ? WL_TIMEOUT : 0);
			(void)WaitLatch(MyLatch, events, timeout_ms, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		});
	}
};

void LauncherMain()
{
	PgCall([] {
		pqsignal(SIGHUP, SignalHandlerForConfigReload);
		pqsignal(SIGTERM, die);
		BackgroundWorkerUnblockSignals();
		BackgroundWorkerInitializeConnection(NULL, NULL, 0);
		pgstat_report_appname("pg_retention launcher");
	});
	Launcher().Run();
}

} // namespace

/*
 * Shared memory and the launcher, from _PG_init (the settings: guc.cpp).  The launcher
 * is registered even when retention.worker_enabled is off: it idles then,
 * and a reload that turns the setting on needs no restart.
 */
void RegisterWorkers()
{
	InstallWorkerSharedMemory();
	BackgroundWorker launcher;
	memset(&launcher, 0, sizeof(launcher));
	launcher.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	launcher.bgw_start_time = BgWorkerStart_RecoveryFinished;
	launcher.bgw_restart_time = kLauncherRestartSeconds;
	strlcpy(launcher.bgw_library_name, "pg_retention", BGW_MAXLEN);
	strlcpy(launcher.bgw_function_name, "pg_retention_launcher_main", BGW_MAXLEN);
	strlcpy(launcher.bgw_name, "pg_retention launcher", BGW_MAXLEN);
	strlcpy(launcher.bgw_type, "pg_retention launcher", BGW_MAXLEN);
	PgCall([&] { RegisterBackgroundWorker(&launcher); });
}

} // namespace pg_retention::pg

void pg_retention_launcher_main(Datum)
{
	pg_retention::pg::InvokeGuarded("pg_retention launcher", pg_retention::pg::LauncherMain);
}
