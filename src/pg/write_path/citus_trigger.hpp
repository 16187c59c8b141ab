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

#include <cstdint>
#include <string>
#include <vector>

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

/*
 * The relations of a declared table that should have a write trigger and
 * have none: the table and its partitions, or (a Citus table, asked on the
 * coordinator) its shard placements on every node, named.  pg_upgrade
 * does not restore internal triggers; check() reports these.
 */
std::vector<std::string> MissingWriteTriggers(const DeclaredTable &table);

/*
 * Creates the write triggers the declared tables lack, on this node and,
 * from a Citus coordinator, on every worker (their shards); returns how
 * many it created.
 */
int64_t RepairWriteTriggers();

/*
 * CREATE EXTENSION citus: the ordinary write triggers of tables labelled
 * before become internal ones, so Citus distributes those tables.
 */
void ConvertWriteTriggersForCitus();

} // namespace pg_retention::pg
