/*-------------------------------------------------------------------------
 *
 * worker.hpp
 *		The background worker: one launcher for the cluster, one short-lived
 *		worker per database when that database has something to do.
 *
 *		The launcher (worker_launcher.cpp) connects to no database, like
 *		PostgreSQL's logical replication launcher: it reads the shared
 *		catalog pg_database, so it never blocks DROP DATABASE.  It starts a
 *		worker (worker.cpp) in a database when the database is new to it,
 *		when its next run is due, when retention.run_now() asks, or when
 *		CREATE EXTENSION pg_retention commits there.  The worker checks the
 *		extension, runs the lifecycle if the schedule says so, tells the
 *		launcher when to start it next, and exits: no slot of
 *		max_worker_processes is held while nothing is due.
 *
 *		They talk through a small queue in shared memory (worker_queue.cpp);
 *		the launcher's latch wakes it.  docs/worker.md tells the whole story.
 *
 * IDENTIFICATION
 *		src/pg/worker/worker.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include "boundary/pg_headers.hpp"

namespace pg_retention::pg
{

/* What a message on the launcher's queue says about database `dboid`. */
enum class LauncherMessage : uint8 {
	CheckDatabase,        /* the extension was created there: start a worker to look */
	RunNow,               /* retention.run_now(): start a run at once */
	NextCheck,            /* from the worker: start me again at `when` */
	ExtensionNotInstalled /* from the worker: nothing to do there */
};

struct LauncherQueueEntry {
	Oid dboid;
	LauncherMessage message;
	TimestampTz when;
};

/* Installs the hooks that reserve and attach the queue's shared memory (from _PG_init). */
void InstallWorkerSharedMemory();

/*
 * Queues a message for the launcher and wakes it.  Never ereports (it is
 * called from a commit callback); false when the queue is full (the
 * launcher then re-examines every database).
 */
bool SendToLauncher(Oid dboid, LauncherMessage message, TimestampTz when) noexcept;

/* Messages the queue holds at most. */
constexpr int kLauncherQueueCapacity = 128;

/*
 * The launcher's side: registers its latch (nullptr when it exits), and
 * takes every queued message into `out`, which has room for
 * kLauncherQueueCapacity; returns how many.  `lost` is set when messages
 * were dropped because the queue was full.
 */
void RegisterLauncherLatch(Latch *latch) noexcept;
int ReceiveLauncherMessages(LauncherQueueEntry *out, bool &lost) noexcept;

/* What the launcher tells a worker through bgw_extra. */
struct WorkerStartArgs {
	bool run_now; /* retention.run_now() asked for a run, whatever the schedule says */
};

} // namespace pg_retention::pg

extern "C" {
/* Background worker entry points, named in BackgroundWorker.bgw_function_name. */
PGDLLEXPORT void pg_retention_launcher_main(Datum arg);
PGDLLEXPORT void pg_retention_worker_main(Datum arg);
}
