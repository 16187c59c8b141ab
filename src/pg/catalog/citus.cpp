/*-------------------------------------------------------------------------
 *
 * citus.cpp
 *		Citus's view of a relation, from its catalog tables (see citus.hpp).
 *
 *		pg_dist_partition lists the Citus tables, pg_dist_shard their
 *		shards, pg_dist_local_group this node's group (0: the coordinator).
 *		All are in pg_catalog, so the extension's own Sql() reads them; they
 *		are only read once get_extension_oid() has found "citus".  A shard's
 *		name is its table's name with "_<shardid>" appended (Citus shortens
 *		long names with a hash, so the id, the schema and pg_dist_shard
 *		decide, not the prefix).
 *
 * IDENTIFICATION
 *		src/pg/catalog/citus.cpp
 *-------------------------------------------------------------------------
 */
#include <string>
#include <vector>

#include "boundary/guard.hpp"
#include "boundary/spi_query.hpp"
#include "catalog/citus.hpp"

extern "C" {
#include "commands/extension.h"
}

namespace pg_retention::pg
{

namespace
{

/* The shard id a relation's name ends with ("orders_102008" -> "102008"), or "". */
std::string ShardIdSuffix(const std::string &relname)
{
	size_t underscore = relname.find_last_of('_');
	if (underscore == std::string::npos || underscore + 1 == relname.size())
		return "";
	std::string digits = relname.substr(underscore + 1);
	if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 18)
		return "";
	return digits;
}

/* The Citus table whose shard relid is, or InvalidOid. */
Oid ShardOwner(Oid relid)
{
	std::string relname;
	Oid nspid = InvalidOid;
	bool found = PgCall([&] {
		char *name = get_rel_name(relid);
		if (name == nullptr)
			return false;
		relname = name;
		nspid = get_rel_namespace(relid);
		return true;
	});
	if (!found)
		return InvalidOid;
	std::string shardid = ShardIdSuffix(relname);
	if (shardid.empty())
		return InvalidOid;
	SqlValue owner = Sql("SELECT s.logicalrelid::oid::text FROM pg_catalog.pg_dist_shard s "
	                     "JOIN pg_catalog.pg_class c ON c.oid = s.logicalrelid "
	                     "WHERE s.shardid = $1::bigint AND c.relnamespace = $2::oid",
	                     {shardid, std::to_string(nspid)})
	                     .Scalar();
	return owner ? static_cast<Oid>(std::stoul(*owner)) : InvalidOid;
}

} // namespace

bool CitusPresent()
{
	return PgCall([] {
		Oid citus = get_extension_oid("citus", true);
		/* not while CREATE EXTENSION citus runs its script: its catalog is not there yet */
		return OidIsValid(citus) && !(creating_extension && CurrentExtensionObject == citus);
	});
}

bool IsCitusCoordinator()
{
	if (!CitusPresent())
		return true;
	SqlValue group = Sql("SELECT groupid::text FROM pg_catalog.pg_dist_local_group").Scalar();
	return !group || *group == "0";
}

CitusRelation CitusRelationOf(Oid relid)
{
	CitusRelation r;
	if (!CitusPresent())
		return r;
	SqlResult dist = Sql("SELECT p.partmethod::text, p.repmodel::text, p.colocationid::text, "
	                     "CASE WHEN p.partmethod = 'h' "
	                     "THEN pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END "
	                     "FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1::oid",
	                     {std::to_string(relid)});
	if (!dist.rows.empty()) {
		const SqlRow &row = dist.rows[0];
		r.logical_relid = relid;
		r.colocation_id = row[2] ? std::stoll(*row[2]) : 0;
		r.distribution_column = row[3].value_or("");
		if (!IsCitusCoordinator())
			r.kind = CitusKind::Shell;
		else if (row[0].value_or("") == "h")
			r.kind = CitusKind::Distributed;
		else if (row[1].value_or("") == "t")
			r.kind = CitusKind::Reference;
		else
			r.kind = CitusKind::CitusLocal;
		return r;
	}
	Oid owner = ShardOwner(relid);
	if (OidIsValid(owner)) {
		r = CitusRelationOf(owner);
		r.kind = CitusKind::Shard;
		r.logical_relid = owner;
	}
	return r;
}

bool ManagedHere(Oid relid)
{
	switch (CitusRelationOf(relid).kind) {
	case CitusKind::Shard:
	case CitusKind::Shell:
		return false;
	default:
		return true;
	}
}

std::vector<Oid> LocalShardsOf(Oid logical_relid)
{
	std::vector<Oid> shards;
	if (!CitusPresent())
		return shards;
	/*
	 * Citus's own shard_name() builds the name (long names included);
	 * to_regclass, not pg_class, finds it: Citus hides shards from queries
	 * on pg_class outside its own connections.
	 */
	SqlResult found = Sql("SELECT r::oid::text FROM pg_catalog.pg_dist_shard s, "
	                      "pg_catalog.to_regclass(pg_catalog.shard_name(s.logicalrelid, s.shardid, "
	                      "false)) AS r WHERE s.logicalrelid = $1::oid AND r IS NOT NULL "
	                      "ORDER BY s.shardid",
	                      {std::to_string(logical_relid)});
	for (const SqlRow &row : found.rows)
		shards.push_back(static_cast<Oid>(std::stoul(*row[0])));
	return shards;
}

const char *CitusKindName(CitusKind kind)
{
	switch (kind) {
	case CitusKind::None:
		return "none";
	case CitusKind::Distributed:
		return "distributed";
	case CitusKind::Reference:
		return "reference";
	case CitusKind::CitusLocal:
		return "citus local";
	case CitusKind::Shell:
		return "shell";
	case CitusKind::Shard:
		return "shard";
	}
	return "none";
}

} // namespace pg_retention::pg
