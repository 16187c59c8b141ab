/*-------------------------------------------------------------------------
 *
 * minimize.hpp
 *		"minimize to": values are reduced on every write (INSERT, UPDATE,
 *		COPY) by a BEFORE ROW trigger, retention_minimize, which the label
 *		provider creates when a table gets its first minimize rule and drops
 *		with its last.  Rows written already due are queued by a second
 *		trigger, retention_late_rows (AFTER ROW, late_rows.hpp); both call
 *		retention.write_trigger() and are kept in step by SyncWriteTrigger.
 *		Rows written before the rule are minimized by
 *		retention.minimize_existing() (and by the lifecycle).
 *
 * IDENTIFICATION
 *		src/pg/write_path/minimize.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include "catalog/policy_store.hpp"

namespace pg_retention::pg
{

/* BEFORE INSERT OR UPDATE OF the minimized columns, FOR EACH ROW: minimizes values. */
constexpr const char *kMinimizeTrigger = "retention_minimize";
/* AFTER INSERT OR UPDATE OF the age and watched columns, FOR EACH ROW WHEN the row may be due. */
constexpr const char *kLateRowTrigger = "retention_late_rows";
/* 0.1.0's single BEFORE trigger doing both: replaced by the two above. */
constexpr const char *kLegacyWriteTrigger = "retention_write";

/* Whether `name` is one of the triggers above (pg_restore replays them: see label_provider). */
bool IsWriteTriggerName(const char *name);

/* Does the table need a write trigger (minimize on write, or late rows queued)? */
bool WantsWriteTrigger(const DeclaredTable &table);
/* Creates, replaces or drops the table's write triggers to match its declaration. */
void SyncWriteTrigger(const DeclaredTable &table);

/*
 * ALTER TABLE ... ALTER COLUMN TYPE or DROP COLUMN of a labelled table: the
 * triggers name its columns (UPDATE OF, WHEN), which PostgreSQL then
 * refuses to alter or drop, so they are dropped before the statement and
 * re-created after it.  The first returns the labelled table (InvalidOid
 * when `relid` is not labelled), for the second.
 */
Oid DropWriteTriggersBeforeAlter(Oid relid);
void RecreateWriteTriggersAfterAlter(Oid root);

/* Minimizes the rows of `relid` whose values are not minimized yet; returns how many changed. */
int64_t MinimizeExisting(Oid relid);

} // namespace pg_retention::pg
