/*-------------------------------------------------------------------------
 *
 * citus.hpp
 *		What Citus makes of a relation, read from Citus's catalog tables by
 *		name (no Citus header: Citus may be absent, and is absent from most
 *		installations).  The one place in pg_retention that knows Citus.
 *
 *		Every function is cheap when the extension "citus" is not installed
 *		in the database (one syscache-backed lookup of pg_extension) and then
 *		answers as for a plain PostgreSQL server: no Citus table, and this
 *		node is the coordinator.
 *
 *		Vocabulary (Citus's): a Citus table (distributed, reference or
 *		citus-local) is the logical table users query, recorded in
 *		pg_dist_partition; on the coordinator it holds no rows once
 *		distributed.  Its shards (placements) are plain tables named
 *		<table>_<shardid> on the nodes that hold its rows -- the coordinator
 *		too, for a reference table's copy or a citus-local table.  A worker
 *		node with metadata also has the Citus table itself, as a "shell"
 *		table: statements on it reach the whole cluster.
 *
 * IDENTIFICATION
 *		src/pg/catalog/citus.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "boundary/pg_headers.hpp"

namespace pg_retention::pg
{

enum class CitusKind {
	None,        /* a plain table (or Citus absent) */
	Distributed, /* hash-distributed Citus table, on the coordinator */
	Reference,   /* reference table, on the coordinator */
	CitusLocal,  /* citus-local table (added to the metadata), on the coordinator */
	Shell, /* a Citus table of any of the kinds above, seen on a node that is not the coordinator */
	Shard, /* a shard or placement of a Citus table, on any node */
};

struct CitusRelation {
	CitusKind kind = CitusKind::None;
	/* Distributed, Reference, CitusLocal, Shell: relid itself; Shard: its Citus table */
	Oid logical_relid = InvalidOid;
	/* the distribution column (Distributed, or a Shell of one); empty otherwise */
	std::string distribution_column;
	/* pg_dist_partition.colocationid (0 when none or not a Citus table) */
	int64_t colocation_id = 0;
};

/* Is the extension citus installed in this database? */
bool CitusPresent();

/*
 * Is this node the coordinator of its Citus cluster?  True when Citus is
 * absent, and on a node whose group is the coordinator's (0) -- also a node
 * not added to a cluster yet.
 */
bool IsCitusCoordinator();

/* What Citus makes of relid (see CitusRelation). */
CitusRelation CitusRelationOf(Oid relid);

/*
 * Is relid's data and declaration pg_retention's business on this node?
 * False for shards and placements everywhere, and for Citus tables on a
 * node that is not the coordinator; true otherwise (plain tables
 * everywhere, Citus tables on the coordinator).
 */
bool ManagedHere(Oid relid);

/* The shards and placements of a Citus table held by this node (none when it holds none). */
std::vector<Oid> LocalShardsOf(Oid logical_relid);

/* A name for the kind, for messages and retention.policies(). */
const char *CitusKindName(CitusKind kind);

} // namespace pg_retention::pg
