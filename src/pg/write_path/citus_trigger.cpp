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
#include <string>

#include "label/policy.hpp"

#include "boundary/guard.hpp"
#include "boundary/spi_query.hpp"
#include "write_path/citus_trigger.hpp"
#include "write_path/minimize.hpp"

extern "C" {
#include "catalog/pg_trigger.h"
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

void CreateInternalWriteTrigger(Oid relid)
{
	Oid existing = WriteTriggerOid(relid);
	if (OidIsValid(existing)) {
		/* one created before Citus was installed would stop create_distributed_table */
		if (Sql("SELECT tgisinternal FROM pg_catalog.pg_trigger WHERE oid = $1::oid",
		        {std::to_string(existing)})
		        .Scalar() == SqlValue("t"))
			return;
		DropWriteTrigger(relid);
	}
	CreateWriteTrigger(relid, InvalidOid);
}

/* Every shard of the Citus table that this node holds gets the trigger. */
void TriggerLocalShards(Oid logical_relid)
{
	for (Oid shard : LocalShardsOf(logical_relid))
		CreateInternalWriteTrigger(shard);
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

} // namespace pg_retention::pg
