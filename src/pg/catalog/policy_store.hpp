/*-------------------------------------------------------------------------
 *
 * policy_store.hpp
 *		Declared tables: catalog facts joined with their parsed retention
 *		labels, cached per backend.
 *
 *		Labels are parsed once and kept until a relcache invalidation
 *		(SECURITY LABEL on a table or column, ALTER/DROP/RENAME of a table)
 *		marks the cache stale; the lifecycle and inspection functions never
 *		re-parse labels per row.
 *
 * IDENTIFICATION
 *		src/pg/catalog/policy_store.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "label/policy.hpp"

#include "catalog/catalog.hpp"

namespace pg_retention::pg
{

struct DeclaredColumn {
	ColumnInfo info;
	ColumnPolicy policy;
	std::string label;
};

struct DeclaredTable {
	TableInfo info;
	std::optional<TablePolicy> policy; /* absent when only columns are labelled */
	std::string label;
	std::vector<DeclaredColumn> columns;
	/* Set when a stored label no longer parses or validates (e.g. after ALTER COLUMN TYPE). */
	std::string problem;

	const DeclaredColumn *FindColumn(const std::string &name) const;
};

/*
 * Parses and validates the labels of one table as they would be if the
 * label of (relid, subid) were `proposed` (nullptr: removed).  Throws
 * Error on the first problem.  Used by the label provider before storing.
 */
DeclaredTable ValidateProposedLabel(Oid relid, int32 subid, const char *proposed);

using DeclaredTables = std::shared_ptr<const std::vector<DeclaredTable>>;

/*
 * Every declared table of this database that this node is in charge of
 * (on a Citus cluster: no shard, and Citus tables on the coordinator only;
 * catalog/citus.hpp), from the cache.  The snapshot
 * stays valid while held, even if the cache is rebuilt meanwhile.
 */
DeclaredTables AllDeclaredTables();

/*
 * The declaration governing relid (its partition root's; a Citus shard's
 * is its Citus table's, a shell table's included), or nullopt.
 */
std::optional<DeclaredTable> FindDeclaredTable(Oid relid);

/* Bumped at every invalidation: derived caches compare it to know they are stale. */
uint64_t PolicyGeneration() noexcept;

/* Marks the cache stale; safe to call from a cache callback. */
void InvalidatePolicyCache() noexcept;

} // namespace pg_retention::pg
