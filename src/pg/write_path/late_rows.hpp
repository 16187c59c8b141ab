/*-------------------------------------------------------------------------
 *
 * late_rows.hpp
 *		Rows written already due: a backdated INSERT, a new clear value in
 *		a row whose age is past its anonymize delay, an age moved backwards.
 *		The lifecycle finds due rows behind a watermark (docs/lifecycle.md),
 *		so such rows could fall behind it unseen; the write trigger queues
 *		them in retention.late_row and the next run processes them.
 *
 * IDENTIFICATION
 *		src/pg/write_path/late_rows.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <string>

#include "catalog/policy_store.hpp"

extern "C" {
#include "commands/trigger.h"
}

namespace pg_retention::pg
{

/* Whether a declaration has watermarked stages (anonymize, purge value) the trigger must watch. */
bool HasWatermarkedStages(const DeclaredTable &table);

/*
 * While alive, the statements this backend begins at the current trigger
 * depth are not queued: the lifecycle's own updates are the processing,
 * not late writes.  A statement an application's trigger runs meanwhile
 * (one deeper) is queued as always.  Nests; its destructor only resets a
 * counter (no PostgreSQL call).
 */
class SuppressLateRowQueue
{
public:
	SuppressLateRowQueue() noexcept;
	~SuppressLateRowQueue();
	SuppressLateRowQueue(const SuppressLateRowQueue &) = delete;
	SuppressLateRowQueue &operator=(const SuppressLateRowQueue &) = delete;

private:
	int depth_; /* the trigger depth it began at (its slot) */
};

/*
 * Installs the ExecutorStart hook that leaves retention_late_rows out of
 * the statements the engine runs (SuppressLateRowQueue alive): _PG_init.
 */
void InstallEngineWriteHook();

/* Queues `written` (the row as stored) when it is due already; called by the write trigger. */
void QueueLateRow(TriggerData *trigger, HeapTuple written);

/*
 * The text styles a value is printed in for its digest (DateStyle ISO, YMD,
 * TimeZone UTC, ...), so the shard's trigger and the coordinator's run print
 * it alike: Pin returns the GUC nest level Unpin restores (a subtransaction's
 * abort restores it too).  Both run inside PgCall.
 */
int PinDigestStyles();
void UnpinDigestStyles(int nest);

/* retention.late_row.value_digest of a value printed as `text`: md5, hex; inside PgCall. */
void TextDigest(const char *text, char (&hex)[33]);

} // namespace pg_retention::pg
