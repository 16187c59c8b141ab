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
#include <string>
#include <vector>

#include "lifecycle/engine.hpp"
#include "methods/method_sql.hpp"
#include "boundary/owner_sql.hpp"
#include "rights/subject_path.hpp"
#include "archive/archive.hpp"

namespace pg_retention::pg::lifecycle
{

/*
 * Moves one batch of due rows into the archive: the table's owner
 * deletes them and hands back each row as JSON with its subject and age
 * (the owner's casts and triggers run as the owner); the extension seals
 * them and writes its archive.  `which`: the rows of the DELETE (alias r).  One subtransaction:
 * both or neither. Returns the count archived and the newest age moved, in the age's type.
 */
SqlResult Engine::ArchiveRows(const Target &t, const std::string &which,
                              const std::vector<SqlValue> &p)
{
	const DeclaredTable &d = *t.declared;
	std::string subject = d.policy->subject ? d.policy->subject->subject : "";
	std::string subject_id =
	    subject.empty() ? QuoteLiteral(d.info.qualified) + "::text" : SubjectIdSql(t, "m");
	if (!subject.empty() && !t.path.problem.empty())
		throw BatchFailed{"subject path of " + t.leaf.qualified +
		                      " does not resolve: " + t.path.problem,
		                  "55000"};
	/* m.*, never a bare m: a column named m would be sealed instead of the row */
	SqlResult moved =
	    OwnerSql(t.leaf.relid,
	             "WITH moved AS (DELETE FROM " + t.leaf.qualified + " AS r WHERE " + which +
	                 " RETURNING *) SELECT " + subject_id + ", m." + t.age_sql +
	                 "::timestamptz::text, pg_catalog.row_to_json(m.*)::text, (pg_catalog.max(m." +
	                 t.age_sql + ") OVER ())::text FROM moved m",
	             p);
	if (moved.rows.empty())
		return SqlResult{0, {{SqlValue("0"), SqlValue()}}};
	std::vector<SqlValue> ids, aged, payloads;
	for (const SqlRow &row : moved.rows) {
		ids.push_back(row[0]);
		aged.push_back(row[1]);
		payloads.push_back(row[2]);
	}
	int64_t archived = WriteArchivedRows(d.info.relid, d.info.qualified, subject, p[3], *p[2], ids,
	                                     aged, payloads);
	if (archived != static_cast<int64_t>(moved.rows.size()))
		throw BatchFailed{"archived " + Str(archived) + " of " + Str(moved.rows.size()) +
		                      " rows deleted from " + t.leaf.qualified,
		                  "XX000"};
	return SqlResult{archived, {{SqlValue(Str(archived)), moved.rows[0][3]}}};
}

} // namespace pg_retention::pg::lifecycle
