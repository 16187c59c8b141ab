/*-------------------------------------------------------------------------
 *
 * citus_trigger.hpp
 *		The write trigger where Citus is installed (see citus_trigger.cpp).
 *
 * IDENTIFICATION
 *		src/pg/write_path/citus_trigger.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include "catalog/policy_store.hpp"
#include "catalog/citus.hpp"

namespace pg_retention::pg
{

/*
 * SyncWriteTrigger's Citus branch: the table's trigger created as an
 * internal trigger (Citus then distributes the table), none on a Citus
 * table itself, and one on each of its shards this node holds.
 */
void SyncCitusWriteTriggers(const DeclaredTable &table, bool wanted);

/*
 * PostgreSQL clones a partitioned table's row triggers to a partition
 * created or attached later, but not its internal ones: after CREATE TABLE
 * ... PARTITION OF and ATTACH PARTITION, the partition gets a clone of its
 * parent's internal write trigger (shards of partitions included).
 */
void InheritWriteTrigger(Oid partition);

/*
 * A label Citus replayed on a shard or a shell table: gives the shards this
 * node holds their write trigger (it reads the Citus table's rules).
 */
void SyncReplayedWriteTriggers(Oid relid, const CitusRelation &citus);

} // namespace pg_retention::pg
