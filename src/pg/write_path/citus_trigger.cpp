/*-------------------------------------------------------------------------
 *
 * citus_trigger.cpp
 *		The write trigger on a Citus cluster.
 *
 *		Citus refuses to distribute a table that has a trigger, and refuses
 *		CREATE TRIGGER on a distributed table, unless
 *		citus.enable_unsafe_triggers -- but it ignores internal triggers
 *		(those it creates itself, and the foreign keys').  Rows of a
 *		distributed or reference table live in its shards, where a trigger
 *		on the Citus table never fires.  So, where Citus is installed:
 *
 *		- a plain table gets retention_write as an internal trigger: it
 *		  minimizes writes while the table is plain and does not stop
 *		  create_distributed_table or create_reference_table;
 *		- each shard gets its own internal retention_write, created on the
 *		  node that holds it when the shard's labels are replayed there (a
 *		  label set before distribution is replayed on every shard, also by
 *		  shard moves and splits) or when a label of its Citus table changes
 *		  (Citus forwards it to every node's shell table, not to the shards);
 *		- the trigger on a shard applies the rules of its Citus table -- the
 *		  coordinator's table or the node's shell table, which Citus keeps
 *		  current -- never the copy replayed on the shard itself
 *		  (FindDeclaredTable resolves a shard to its Citus table).
 *
 *		PostgreSQL names an internal trigger after its oid
 *		("retention_write_16412").  pg_dump leaves internal triggers out;
 *		restoring the labels creates them again.
 *
 * IDENTIFICATION
 *		src/pg/write_path/citus_trigger.cpp
 *-------------------------------------------------------------------------
 */
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "label/policy.hpp"

#include "boundary/guard.hpp"
#include "boundary/spi_query.hpp"
#include "write_path/citus_trigger.hpp"
#include "write_path/minimize.hpp"

extern "C" {
#include "catalog/dependency.h"
#include "catalog/pg_trigger.h"
#include "commands/extension.h"
#include "catalog/pg_inherits.h"
#include "commands/trigger.h"
#include "nodes/makefuncs.h"
#include "utils/lsyscache.h"
}

namespace pg_retention::pg
{

namespace
{

/*
 * The table's write trigger (its own, not one a partition inherits): found
 * by its function, since PostgreSQL names an internal trigger
 * "retention_write_<oid>".
 */
Oid WriteTriggerOid(Oid relid)
{
	SqlValue oid = Sql("SELECT oid::text FROM pg_catalog.pg_trigger WHERE tgrelid = $1::oid "
	                   "AND tgfoid = 'retention.write_trigger()'::pg_catalog.regprocedure "
	                   "AND tgparentid = 0 ORDER BY tgisinternal DESC LIMIT 1",
	                   {std::to_string(relid)})
	                   .Scalar();
	return oid ? static_cast<Oid>(std::stoul(*oid)) : InvalidOid;
}

void DropWriteTrigger(Oid relid)
{
	Oid trigger = WriteTriggerOid(relid);
	if (!OidIsValid(trigger))
		return;
	PgCall([&] {
		ObjectAddress address;
		ObjectAddressSet(address, TriggerRelationId, trigger);
		performDeletion(&address, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
		CommandCounterIncrement();
	});
}

/*
 * BEFORE INSERT OR UPDATE FOR EACH ROW EXECUTE FUNCTION
 * retention.write_trigger(), internal; on a partition, as the clone of its
 * parent's (parent_trigger).
 */
void CreateWriteTrigger(Oid relid, Oid parent_trigger)
{
	Oid trigger = PgCall([&] {
		CreateTrigStmt *stmt = makeNode(CreateTrigStmt);
		stmt->trigname = pstrdup(kLegacyWriteTrigger);
		stmt->relation =
		    makeRangeVar(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid), -1);
		stmt->funcname =
		    list_make2(makeString(pstrdup("retention")), makeString(pstrdup("write_trigger")));
		stmt->row = true;
		stmt->timing = TRIGGER_TYPE_BEFORE;
		stmt->events = TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE;
		ObjectAddress created =
		    CreateTrigger(stmt, nullptr, relid, InvalidOid, InvalidOid, InvalidOid, InvalidOid,
		                  parent_trigger, nullptr, true, OidIsValid(parent_trigger));
		CommandCounterIncrement();
		return created.objectId;
	});
	/* PostgreSQL does not recurse for an internal trigger: clone it to each partition */
	List *partitions = PgCall([&] {
		return get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE
		           ? find_inheritance_children(relid, ShareRowExclusiveLock)
		           : NIL;
	});
	ListCell *lc;
	foreach (lc, partitions)
		CreateWriteTrigger(lfirst_oid(lc), trigger);
}

/* Drops the table's ordinary write triggers (created before Citus was installed). */
void DropOrdinaryWriteTriggers(Oid relid)
{
	SqlResult ordinary = Sql("SELECT oid::text FROM pg_catalog.pg_trigger WHERE tgrelid = $1::oid "
	                         "AND tgfoid = 'retention.write_trigger()'::pg_catalog.regprocedure "
	                         "AND tgparentid = 0 AND NOT tgisinternal",
	                         {std::to_string(relid)});
	for (const SqlRow &row : ordinary.rows)
		PgCall([&] {
			ObjectAddress address;
			ObjectAddressSet(address, TriggerRelationId, static_cast<Oid>(std::stoul(*row[0])));
			performDeletion(&address, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
			CommandCounterIncrement();
		});
}

/* Returns whether it created one (false: the table had its internal trigger). */
bool CreateInternalWriteTrigger(Oid relid)
{
	Oid existing = WriteTriggerOid(relid);
	if (OidIsValid(existing)) {
		/* one created before Citus was installed would stop create_distributed_table */
		if (Sql("SELECT tgisinternal FROM pg_catalog.pg_trigger WHERE oid = $1::oid",
		        {std::to_string(existing)})
		        .Scalar() == SqlValue("t"))
			return false;
		DropOrdinaryWriteTriggers(relid);
	}
	CreateWriteTrigger(relid, InvalidOid);
	return true;
}

/* Every shard of the Citus table that this node holds gets the trigger; returns those created. */
int64_t TriggerLocalShards(Oid logical_relid)
{
	int64_t created = 0;
	for (Oid shard : LocalShardsOf(logical_relid))
		created += CreateInternalWriteTrigger(shard) ? 1 : 0;
	return created;
}

/* The relations of the partition tree of relid (relid itself when not partitioned). */
std::vector<Oid> PartitionTree(Oid relid)
{
	std::vector<Oid> tree;
	for (const SqlRow &row :
	     Sql("SELECT relid::oid::text FROM pg_catalog.pg_partition_tree($1::oid) "
	         "ORDER BY level, relid::oid",
	         {std::to_string(relid)})
	         .rows)
		tree.push_back(static_cast<Oid>(std::stoul(*row[0])));
	/* pg_partition_tree lists nothing for a table that is neither partitioned nor a partition */
	if (tree.empty())
		tree.push_back(relid);
	return tree;
}

} // namespace

void SyncCitusWriteTriggers(const DeclaredTable &table, bool wanted)
{
	Oid relid = table.info.relid;
	CitusRelation citus = CitusRelationOf(relid);
	if (citus.kind == CitusKind::None) {
		if (wanted)
			CreateInternalWriteTrigger(relid);
		else
			DropWriteTrigger(relid);
		return;
	}
	/*
	 * A Citus table: the trigger fires on the shards.  One left from before
	 * distribution never fires; a shard's trigger without rules does
	 * nothing, so shards keep theirs when the rules go.
	 */
	if (wanted)
		TriggerLocalShards(relid);
}

void InheritWriteTrigger(Oid partition)
{
	if (!CitusPresent())
		return;
	Oid parent = PgCall([&] {
		CommandCounterIncrement();
		return get_rel_relispartition(partition) ? get_partition_parent(partition, true)
		                                         : InvalidOid;
	});
	if (!OidIsValid(parent))
		return;
	/* the parent's internal one (itself a clone when the parent is a partition) */
	SqlResult r =
	    Sql("SELECT (SELECT oid::text FROM pg_catalog.pg_trigger WHERE tgrelid = $1::oid "
	        "AND tgfoid = 'retention.write_trigger()'::pg_catalog.regprocedure AND tgisinternal), "
	        "EXISTS (SELECT FROM pg_catalog.pg_trigger WHERE tgrelid = $2::oid "
	        "AND tgfoid = 'retention.write_trigger()'::pg_catalog.regprocedure)::text",
	        {std::to_string(parent), std::to_string(partition)});
	if (r.rows[0][0] && r.rows[0][1] == SqlValue("false"))
		CreateWriteTrigger(partition, static_cast<Oid>(std::stoul(*r.rows[0][0])));
}

void SyncReplayedWriteTriggers(Oid relid, const CitusRelation &citus)
{
	if (citus.kind == CitusKind::Shard)
		CreateInternalWriteTrigger(relid);
	else
		TriggerLocalShards(relid);
}

std::vector<std::string> MissingWriteTriggers(const DeclaredTable &table)
{
	std::vector<std::string> missing;
	if (!table.problem.empty() || !WantsWriteTrigger(table))
		return missing;
	const char *count = "SELECT count(*) FROM pg_catalog.pg_trigger WHERE tgrelid = '%s'"
	                    "::pg_catalog.regclass AND tgfoid = 'retention.write_trigger()'"
	                    "::pg_catalog.regprocedure";
	bool citus = CitusRelationOf(table.info.relid).kind != CitusKind::None;
	for (Oid relid : PartitionTree(table.info.relid)) {
		if (!citus) {
			SqlValue name =
			    Sql("SELECT $1::oid::pg_catalog.regclass::text WHERE NOT EXISTS (SELECT "
			        "FROM pg_catalog.pg_trigger WHERE tgrelid = $1::oid AND tgfoid = "
			        "'retention.write_trigger()'::pg_catalog.regprocedure)",
			        {std::to_string(relid)})
			        .Scalar();
			if (name)
				missing.push_back(*name);
			continue;
		}
		/* a Citus table: its rows are written in its shards, on the nodes that hold them */
		SqlResult placements =
		    Sql("SELECT 'shard ' || shardid || ' on ' || nodename || ':' || nodeport || CASE WHEN "
		        "success THEN '' ELSE ' (' || result || ')' END FROM "
		        "pg_catalog.run_command_on_placements($1::oid::pg_catalog.regclass, $2) "
		        "WHERE NOT success OR result = '0' ORDER BY shardid, nodename, nodeport",
		        {std::to_string(relid), std::string(count)});
		for (const SqlRow &row : placements.rows)
			missing.push_back(
			    Sql("SELECT $1::oid::pg_catalog.regclass::text", {std::to_string(relid)})
			        .Scalar()
			        .value_or("?") +
			    " " + row[0].value_or("?"));
	}
	return missing;
}

int64_t RepairWriteTriggers()
{
	int64_t created = 0;
	DeclaredTables tables = AllDeclaredTables();
	if (!CitusPresent()) {
		for (const DeclaredTable &t : *tables) {
			size_t missing = MissingWriteTriggers(t).size();
			if (missing > 0)
				SyncWriteTrigger(t);
			created += static_cast<int64_t>(missing);
		}
		return created;
	}
	for (const DeclaredTable &t : *tables) {
		if (!t.problem.empty() || !WantsWriteTrigger(t))
			continue;
		if (CitusRelationOf(t.info.relid).kind == CitusKind::None)
			created += CreateInternalWriteTrigger(t.info.relid) ? 1 : 0;
		else
			created += TriggerLocalShards(t.info.relid);
	}
	if (!IsCitusCoordinator()) {
		/* a worker node: the shards of the Citus tables it holds (their rules are on the shells) */
		for (const SqlRow &row :
		     Sql("SELECT logicalrelid::oid::text FROM pg_catalog.pg_dist_partition ORDER BY 1")
		         .rows) {
			Oid relid = static_cast<Oid>(std::stoul(*row[0]));
			std::optional<DeclaredTable> t = FindDeclaredTable(relid);
			if (t && t->info.relid == relid && t->problem.empty() && WantsWriteTrigger(*t))
				created += TriggerLocalShards(relid);
		}
		return created;
	}
	/* the coordinator: then every worker, for the shards it holds */
	SqlResult workers =
	    Sql("SELECT nodename || ':' || nodeport, success::text, result FROM "
	        "pg_catalog.run_command_on_workers('SELECT retention.repair_triggers()') "
	        "ORDER BY 1");
	std::string failed;
	for (const SqlRow &row : workers.rows) {
		if (row[1] == SqlValue("true"))
			created += std::stoll(row[2].value_or("0"));
		else
			failed +=
			    (failed.empty() ? "" : "; ") + row[0].value_or("?") + ": " + row[2].value_or("");
	}
	if (!failed.empty())
		throw Error(ErrorKind::ObjectNotInPrerequisiteState,
		            "could not repair the write triggers on every Citus worker", failed,
		            "call retention.repair_triggers() again once every worker is reachable");
	return created;
}

void ConvertWriteTriggersForCitus()
{
	if (!PgCall([] { return OidIsValid(get_extension_oid("pg_retention", true)); }))
		return;
	InvalidatePolicyCache();
	DeclaredTables tables = AllDeclaredTables();
	for (const DeclaredTable &t : *tables) {
		DropOrdinaryWriteTriggers(t.info.relid);
		if (t.problem.empty() && WantsWriteTrigger(t))
			SyncWriteTrigger(t);
	}
}

/*
 * retention.repair_triggers() -> triggers created: gives every declared
 * table (on a Citus cluster: every shard, on every node) the write trigger
 * it lacks.  pg_upgrade does not restore internal triggers.
 */
PGR_FUNCTION(retention_repair_triggers)
{
	return Int64GetDatum(RepairWriteTriggers());
}

} // namespace pg_retention::pg
