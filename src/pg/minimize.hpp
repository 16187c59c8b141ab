/*-------------------------------------------------------------------------
 *
 * minimize.hpp
 *		"minimize to": values are reduced on every write (INSERT, UPDATE,
 *		COPY) by a BEFORE ROW trigger, retention_minimize, which the label
 *		provider creates when a table gets its first minimize rule and drops
 *		with its last.  Rows written before the rule are minimized by
 *		retention.minimize_existing() (and by the lifecycle).
 *
 * IDENTIFICATION
 *		src/pg/minimize.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include "policy_store.hpp"

namespace pg_retention::pg
{

constexpr const char *kMinimizeTrigger = "retention_minimize";

/* Creates or drops the table's minimize trigger to match its declaration. */
void SyncMinimizeTrigger(const DeclaredTable &table);

/* Minimizes the rows of `relid` whose values are not minimized yet; returns how many changed. */
int64_t MinimizeExisting(Oid relid);

} // namespace pg_retention::pg
