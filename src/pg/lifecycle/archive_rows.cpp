/*-------------------------------------------------------------------------
 *
 * archive_rows.cpp
 *		One archive batch: the due rows deleted as the table's owner, sealed
 *		and written into retention_archive.archived_row by the extension.
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/archive_rows.cpp
 *-------------------------------------------------------------------------
 */
#include <iterator>
#include <string>
#include <vector>

#include "lifecycle/engine.hpp"
#include "methods/method_sql.hpp"
#include "boundary/owner_sql.hpp"
#include "rights/subject_path.hpp"
#include "archive/archive.hpp"
#include "boundary/guard.hpp"

extern "C" {
#include "catalog/pg_collation.h"
#include "utils/typcache.h"
}

namespace pg_retention::pg::lifecycle
{

namespace
{

/*
 * The text of the greatest non-null value of column `column` (in its own
 * type and btree order, as max() would give it), or nullopt.
 */
SqlValue MaxOf(const DatumResult &rows, size_t column)
{
	const char *greatest = nullptr;
	PgCall([&] {
		Oid type = rows.types[column];
		TypeCacheEntry *entry = lookup_type_cache(type, TYPECACHE_CMP_PROC_FINFO);
		if (!OidIsValid(entry->cmp_proc))
			elog(ERROR, "pg_retention: no btree ordering for the age's type %u", type);
		Oid collation = type_is_collatable(type) ? DEFAULT_COLLATION_OID : InvalidOid;
		bool found = false;
		Datum best = 0;
		for (size_t i = 0; i < rows.Rows(); i++) {
			if (rows.IsNull(i, column))
				continue;
			Datum d = rows.Cell(i, column);
			if (!found ||
			    DatumGetInt32(FunctionCall2Coll(&entry->cmp_proc_finfo, collation, d, best)) > 0)
				best = d;
			found = true;
		}
		if (found) {
			Oid output;
			bool varlena;
			getTypeOutputInfo(type, &output, &varlena);
			greatest = OidOutputFunctionCall(output, best);
		}
	});
	return greatest == nullptr ? SqlValue() : SqlValue(greatest);
}

} // namespace

/*
 * Moves one batch of due rows into the archive: the table's owner
 * deletes them and hands back each row as JSON with its subject and age
 * (the owner's casts and triggers run as the owner), in binary (DatumResult:
 * nothing printed or parsed between the two statements); the extension
 * seals them and writes its archive.  `which`: the rows of the DELETE
 * (alias r).  One subtransaction: both or neither. Returns the count
 * archived and the newest age moved, in the age's type.
 */
SqlResult Engine::ArchiveRows(const Target &t, const std::string &which,
                              const std::vector<SqlValue> &p, bool window_bound)
{
	const DeclaredTable &d = *t.declared;
	std::string subject = d.policy->subject ? d.policy->subject->subject : "";
	if (!subject.empty() && !t.path.problem.empty())
		throw BatchFailed{"subject path of " + t.leaf.qualified +
		                      " does not resolve: " + t.path.problem,
		                  "55000"};
	/* the subject id (text), the age (timestamptz), the row (json), the age in its type */
	auto columns = [&](const std::string &alias) {
		std::string id = subject.empty() ? QuoteLiteral(d.info.qualified) : SubjectIdSql(t, alias);
		return "(" + id + ")::text, " + alias + "." + t.age_sql + "::timestamptz, " +
		       "pg_catalog.row_to_json(" + alias + ".*), " + alias + "." + t.age_sql;
	};
	/*
	 * r.*, never a bare r: a column named r would be sealed instead of the
	 * row.  RETURNING, not a CTE and a window for the newest age: the rows
	 * are not stored twice on their way out.  On a Citus table the shards
	 * return the rows whole (RETURNING *) and the coordinator computes the
	 * rest: no STABLE cast or function of a column pushed to the shards.
	 */
	std::string sql = "DELETE FROM " + t.leaf.qualified + " AS r WHERE " + which;
	if (t.citus == CitusKind::None)
		sql += " RETURNING " + columns("r");
	else
		sql = "WITH moved AS (" + sql + " RETURNING *) SELECT " + columns("m") + " FROM moved m";
	/*
	 * The batch's parameters in their types (the callers' layout: cutoff,
	 * batch size or the key path's window bound, run id, purge delay,
	 * watermark or window bound): `$1::date` then costs nothing per row,
	 * where a text parameter is cast again at every row.
	 */
	Oid age = OidIsValid(t.age_type_oid) ? t.age_type_oid : TEXTOID;
	const Oid layout[] = {age, window_bound ? age : INT8OID, INT8OID, INTERVALOID, age};
	std::vector<unsigned int> types;
	for (size_t i = 0; i < p.size(); i++)
		types.push_back(i < std::size(layout) ? layout[i] : TEXTOID);
	DatumResult moved = OwnerDatumSql(t.leaf.relid, sql, p, types);
	if (moved.Rows() == 0)
		return SqlResult{0, {{SqlValue("0"), SqlValue()}}};
	int64_t archived =
	    WriteArchivedRows(d.info.relid, d.info.qualified, subject, p[3], *p[2], moved);
	if (archived != static_cast<int64_t>(moved.Rows()))
		throw BatchFailed{"archived " + Str(archived) + " of " + Str(moved.Rows()) +
		                      " rows deleted from " + t.leaf.qualified,
		                  "XX000"};
	return SqlResult{archived, {{SqlValue(Str(archived)), MaxOf(moved, 3)}}};
}

} // namespace pg_retention::pg::lifecycle
