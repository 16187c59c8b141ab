/*-------------------------------------------------------------------------
 *
 * drop_partitions.cpp
 *		Stage "drop partition": a range partition on the age column whose
 *		upper bound is past the purge delay is detached and dropped whole,
 *		before any row of the table is processed.
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/drop_partitions.cpp
 *-------------------------------------------------------------------------
 */
#include <chrono>
#include <string>

#include "catalog/catalog.hpp"
#include "lifecycle/engine.hpp"
#include "boundary/owner_sql.hpp"

namespace pg_retention::pg::lifecycle
{

/* A range partition on the age column whose upper bound has passed goes whole. */
void Engine::DropExpiredPartitions(const DeclaredTable &t, const Delay &delay)
{
	if (t.info.relkind != RELKIND_PARTITIONED_TABLE)
		return;
	SqlResult parts =
	    Sql("SELECT c.oid::text, (SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM "
	        "pg_catalog.pg_namespace n WHERE n.oid = c.relnamespace), "
	        "  substring(pg_catalog.pg_get_expr(c.relpartbound, c.oid) FROM 'TO "
	        "\\(''([^'']+)''\\)'), "
	        "  CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint::text END "
	        "FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
	        "JOIN pg_catalog.pg_partitioned_table pt ON pt.partrelid = i.inhparent "
	        "WHERE i.inhparent = $1::oid AND c.relkind = 'r' AND pt.partstrat = 'r' "
	        "AND pt.partnatts = 1 AND pt.partattrs[0] = "
	        "  (SELECT attnum FROM pg_catalog.pg_attribute WHERE attrelid = $1::oid AND "
	        "attname = $2)",
	        {Str(t.info.relid), *t.policy->age_column});
	if (!LoadReferencingKeys({t.info.relid}).empty())
		return; /* rows may be referenced: the row path checks them one by one */
	Target probe;
	probe.declared = &t;
	probe.leaf = t.info;
	const ColumnInfo *age = t.info.FindColumn(*t.policy->age_column);
	probe.age_type = TypeName(age->type_oid);
	std::string cutoff = Cutoff(probe, delay);
	auto leaf_of = [](const SqlRow &part) { return static_cast<Oid>(std::stoul(part[0].value())); };
	for (const SqlRow &part : parts.rows) {
		if (!part[2] || StopRequested())
			continue;
		bool expired =
		    OwnerSql(t.info.relid, "SELECT $1::" + probe.age_type + " <= $2::" + probe.age_type,
		             {part[2], cutoff})
		        .Scalar() == SqlValue("t");
		if (!expired)
			continue;
		StageOutcome o;
		/* the planner's estimate when there is one: counting would read the partition */
		o.due =
		    part[3]
		        ? std::stoll(*part[3])
		        : OwnerSql(leaf_of(part), "SELECT count(*) FROM " + part[1].value()).ScalarInt();
		Target target = probe;
		target.leaf = LoadTableInfo(static_cast<Oid>(std::stoul(part[0].value())));
		StartDetail(target, "", "drop partition", o.due);
		auto started = std::chrono::steady_clock::now();
		Batch([&] {
			OwnerSql(t.info.relid,
			         "ALTER TABLE " + t.info.qualified + " DETACH PARTITION " + part[1].value());
			OwnerSql(leaf_of(part), "DROP TABLE " + part[1].value());
			o.done = o.due;
			o.batches = 1;
			summary_.rows_purged += o.due;
		});
		Finish(target, "", "drop partition", o, started);
	}
}

} // namespace pg_retention::pg::lifecycle
