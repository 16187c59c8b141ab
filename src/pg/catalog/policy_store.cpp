/*-------------------------------------------------------------------------
 *
 * policy_store.cpp
 *		Declared tables and their per-backend cache (see policy_store.hpp).
 *
 * IDENTIFICATION
 *		src/pg/catalog/policy_store.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "label/policy.hpp"

#include "catalog/citus.hpp"
#include "catalog/column_values.hpp"
#include "catalog/policy_store.hpp"
#include "rights/subject_path.hpp"
#include "boundary/guard.hpp"

namespace pg_retention::pg
{

namespace
{

bool cache_valid = false;
uint64_t generation = 1;
DeclaredTables cache;   /* every declared table but Citus shards */
DeclaredTables managed; /* those this node is in charge of (citus.hpp, ManagedHere) */

/*
 * Builds a declared table from its labels.  Parse errors throw; the caller
 * decides whether they are fatal (declaring) or recorded (cache).
 */
DeclaredTable Build(const TableInfo &info, const std::vector<StoredLabel> &labels)
{
	DeclaredTable table;
	table.info = info;
	for (const StoredLabel &l : labels) {
		if (l.subid == 0) {
			table.policy = ParseTableLabel(l.label);
			table.label = l.label;
			continue;
		}
		const ColumnInfo *column = info.FindColumn(static_cast<AttrNumber>(l.subid));
		if (column == nullptr)
			continue; /* a dropped column's label goes with it */
		table.columns.push_back(DeclaredColumn{*column, ParseColumnLabel(l.label), l.label});
	}
	/* in column order, not pg_seclabel's heap order (which deletions elsewhere change) */
	std::stable_sort(table.columns.begin(), table.columns.end(),
	                 [](const DeclaredColumn &a, const DeclaredColumn &b) {
		                 return a.info.attnum < b.info.attnum;
	                 });
	return table;
}

void Validate(const DeclaredTable &table)
{
	std::vector<std::pair<std::string, ColumnPolicy>> columns;
	for (const DeclaredColumn &c : table.columns)
		columns.emplace_back(c.info.facts.name, c.policy);
	ValidateTable(table.info.Facts(), table.policy ? &*table.policy : nullptr, columns);
}

void Rebuild()
{
	std::map<Oid, std::vector<StoredLabel>> by_table;
	for (StoredLabel &l : LoadAllLabels())
		by_table[l.relid].push_back(std::move(l));

	std::vector<DeclaredTable> fresh;
	std::vector<DeclaredTable> here;
	for (const auto &[relid, labels] : by_table) {
		/* Citus's copies of the labels on shards: their Citus table's declare */
		CitusKind kind = CitusRelationOf(relid).kind;
		if (kind == CitusKind::Shard)
			continue;
		TableInfo info = LoadTableInfo(relid);
		try {
			DeclaredTable table = Build(info, labels);
			try {
				Validate(table);
			} catch (const Error &e) {
				table.problem = e.what();
			}
			if (kind != CitusKind::Shell)
				here.push_back(table);
			fresh.push_back(std::move(table));
		} catch (const Error &e) {
			DeclaredTable broken;
			broken.info = info;
			broken.problem = e.what();
			if (kind != CitusKind::Shell)
				here.push_back(broken);
			fresh.push_back(std::move(broken));
		}
	}
	cache = std::make_shared<const std::vector<DeclaredTable>>(std::move(fresh));
	managed = std::make_shared<const std::vector<DeclaredTable>>(std::move(here));
	cache_valid = true;
}

} // namespace

const DeclaredColumn *DeclaredTable::FindColumn(const std::string &name) const
{
	for (const DeclaredColumn &c : columns)
		if (c.info.facts.name == name)
			return &c;
	return nullptr;
}

DeclaredTable ValidateProposedLabel(Oid relid, int32 subid, const char *proposed)
{
	TableInfo info = LoadTableInfo(relid);
	std::vector<StoredLabel> labels;
	for (StoredLabel &l : LoadLabelsOf(relid))
		if (l.subid != subid)
			labels.push_back(std::move(l));
	if (proposed != nullptr)
		labels.push_back(StoredLabel{relid, subid, proposed});

	DeclaredTable table = Build(info, labels);
	Validate(table);
	/* values depend on the column alone: try those of the column being labelled */
	if (proposed != nullptr && subid != 0)
		CheckDeclaredValues(table, static_cast<AttrNumber>(subid));
	CheckSubjectDeclaration(table);
	return table;
}

DeclaredTables AllDeclaredTables()
{
	if (!cache_valid)
		Rebuild();
	return managed;
}

std::optional<DeclaredTable> FindDeclaredTable(Oid relid)
{
	Oid root = PartitionRoot(relid);
	CitusRelation citus = CitusRelationOf(root);
	if (citus.kind == CitusKind::Shard)
		root = PartitionRoot(citus.logical_relid);
	if (!cache_valid)
		Rebuild();
	DeclaredTables tables = cache;
	for (const DeclaredTable &t : *tables)
		if (t.info.relid == root)
			return t;
	return std::nullopt;
}

void InvalidatePolicyCache() noexcept
{
	cache_valid = false;
	generation++;
}

uint64_t PolicyGeneration() noexcept
{
	return generation;
}

} // namespace pg_retention::pg
