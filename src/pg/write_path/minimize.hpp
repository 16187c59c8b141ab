/*-------------------------------------------------------------------------
 *
 * minimize.hpp
 *		"minimize to": values are reduced on every write (INSERT, UPDATE,
 *		COPY) by a BEFORE ROW trigger, retention_write, which the label
 *		provider creates when a table gets its first minimize, anonymize or
 *		value purge rule and drops with its last (the same trigger queues
 *		rows written already due, late_rows.hpp).  Rows written before the rule are minimized by
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

/* The write trigger: minimizes values and queues rows written already due (late_rows.hpp). */
constexpr const char *kWriteTrigger = "retention_write";

/* Creates or drops the table's write trigger to match its declaration. */
void SyncWriteTrigger(const DeclaredTable &table);

/* Minimizes the rows of `relid` whose values are not minimized yet; returns how many changed. */
int64_t MinimizeExisting(Oid relid);

} // namespace pg_retention::pg
