/*-------------------------------------------------------------------------
 *
 * worker_queue.cpp
 *		The launcher's message queue in shared memory, and the SQL functions
 *		that write to it: retention.run_now() and the notification that
 *		CREATE EXTENSION pg_retention sends when it commits.
 *
 *		A fixed array under a spinlock: writers append and set the
 *		launcher's latch; the launcher empties it each time it wakes.  When
 *		it is full, the message is dropped and the launcher is told to
 *		re-examine every database, so nothing is lost for good.
 *
 * IDENTIFICATION
 *		src/pg/worker/worker_queue.cpp
 *-------------------------------------------------------------------------
 */
#include "base/error.hpp"

#include "boundary/guard.hpp"
#include "worker/worker.hpp"
#include "worker/worker_settings.hpp"

extern "C" {
#include "access/xlog.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
}

namespace pg_retention::pg
{

namespace
{

struct LauncherQueue {
	slock_t mutex;
	Latch *launcher_latch; /* nullptr while no launcher runs */
	bool lost;             /* messages were dropped since the launcher last looked */
	int count;
	LauncherQueueEntry entries[kLauncherQueueCapacity];
};

LauncherQueue *queue = nullptr;
shmem_request_hook_type previous_shmem_request = nullptr;
shmem_startup_hook_type previous_shmem_startup = nullptr;

void RequestQueueMemory(void)
{
	if (previous_shmem_request != nullptr)
		previous_shmem_request();
	RequestAddinShmemSpace(MAXALIGN(sizeof(LauncherQueue)));
}

void AttachQueueMemory(void)
{
	if (previous_shmem_startup != nullptr)
		previous_shmem_startup();
	bool found = false;
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	queue = static_cast<LauncherQueue *>(
	    ShmemInitStruct("pg_retention launcher queue", sizeof(LauncherQueue), &found));
	if (!found) {
		memset(queue, 0, sizeof(LauncherQueue));
		SpinLockInit(&queue->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* CREATE EXTENSION pg_retention is in this transaction: tell the launcher at commit. */
bool notify_at_commit = false;
bool commit_callback_registered = false;

void NotifyLauncherAtCommit(XactEvent event, void *)
{
	if (!notify_at_commit)
		return;
	if (event == XACT_EVENT_COMMIT)
		SendToLauncher(MyDatabaseId, LauncherMessage::CheckDatabase, 0);
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE ||
	    event == XACT_EVENT_PARALLEL_ABORT)
		notify_at_commit = false;
}

} // namespace

void InstallWorkerSharedMemory()
{
	previous_shmem_request = shmem_request_hook;
	shmem_request_hook = RequestQueueMemory;
	previous_shmem_startup = shmem_startup_hook;
	shmem_startup_hook = AttachQueueMemory;
}

/*
 * RunNow and CheckDatabase are idempotent: one pending copy per database
 * is enough.  Reports from workers are appended in order.
 */
bool SendToLauncher(Oid dboid, LauncherMessage message, TimestampTz when) noexcept
{
	if (queue == nullptr)
		return false;
	bool queued = false;
	bool idempotent =
	    message == LauncherMessage::RunNow || message == LauncherMessage::CheckDatabase;
	SpinLockAcquire(&queue->mutex);
	for (int i = 0; idempotent && i < queue->count && !queued; i++)
		queued = queue->entries[i].dboid == dboid && queue->entries[i].message == message;
	if (!queued && queue->count < kLauncherQueueCapacity) {
		queue->entries[queue->count++] = LauncherQueueEntry{dboid, message, when};
		queued = true;
	}
	if (!queued)
		queue->lost = true;
	Latch *latch = queue->launcher_latch;
	SpinLockRelease(&queue->mutex);
	if (latch != nullptr)
		SetLatch(latch);
	return queued;
}

void RegisterLauncherLatch(Latch *latch) noexcept
{
	if (queue == nullptr)
		return;
	SpinLockAcquire(&queue->mutex);
	queue->launcher_latch = latch;
	SpinLockRelease(&queue->mutex);
}

int ReceiveLauncherMessages(LauncherQueueEntry *out, bool &lost) noexcept
{
	if (queue == nullptr)
		return 0;
	SpinLockAcquire(&queue->mutex);
	int count = queue->count;
	memcpy(out, queue->entries, sizeof(LauncherQueueEntry) * count);
	queue->count = 0;
	lost = queue->lost;
	queue->lost = false;
	SpinLockRelease(&queue->mutex);
	return count;
}

/* retention.run_now(): the worker of this database starts a run at once. */
PGR_FUNCTION(retention_run_now)
{
	if (RecoveryInProgress())
		throw Error(ErrorKind::ObjectNotInPrerequisiteState,
		            "retention.run_now() cannot be used during recovery", "",
		            "The background worker runs on the primary only.");
	if (!WorkerEnabled())
		throw Error(ErrorKind::ObjectNotInPrerequisiteState, "the background worker is disabled",
		            "retention.worker_enabled is off.",
		            "Set retention.worker_enabled = on and reload the configuration, or run "
		            "CALL retention.run() in this session.");
	if (!SendToLauncher(MyDatabaseId, LauncherMessage::RunNow, RetentionNow()))
		throw Error(ErrorKind::ObjectNotInPrerequisiteState,
		            "too many requests are waiting for the pg_retention launcher", "",
		            "Try again in a moment.");
	PG_RETURN_VOID();
}

/*
 * retention._notify_launcher(): called by the extension's install script,
 * so that the launcher looks at this database as soon as CREATE EXTENSION
 * commits (a rolled back CREATE EXTENSION sends nothing).
 */
PGR_FUNCTION(retention_notify_launcher)
{
	if (!commit_callback_registered) {
		PgCall([] { RegisterXactCallback(NotifyLauncherAtCommit, nullptr); });
		commit_callback_registered = true;
	}
	notify_at_commit = true;
	PG_RETURN_VOID();
}

} // namespace pg_retention::pg
