/*-------------------------------------------------------------------------
 *
 * archive_restore.cpp
 *		retention.restore_archived(): archived rows back into their table.
 *
 *		Two statements in one transaction, so each row is in exactly one
 *		place at every instant: the caller (retention_admin) takes the rows
 *		out of the archive and opens them; the table's owner inserts them
 *		(owner_sql.hpp), so the table's triggers and constraints run with the
 *		owner's rights, never the administrator's.  Generated columns are
 *		computed again; identity columns keep their archived values.
 *
 * IDENTIFICATION
 *		src/pg/archive/archive_restore.cpp
 *-------------------------------------------------------------------------
 */
#include <string>
#include <vector>

#include "base/error.hpp"

#include "catalog/catalog.hpp"
#include "boundary/guard.hpp"
#include "methods/method_sql.hpp"
#include "boundary/owner_sql.hpp"
#include "catalog/schema_version.hpp"

namespace pg_retention::pg
{

/* retention.restore_archived(relation regclass, ids bigint[] DEFAULT NULL) -> bigint */
PGR_FUNCTION(retention_restore_archived)
{
	RequireCurrentSchema("retention.restore_archived()");
	if (PG_ARGISNULL(0))
		throw Error(ErrorKind::NullValueNotAllowed, "restore_archived needs a table", "",
		            "call retention.restore_archived('schema.table') or with an array of "
		            "archive ids");
	Oid relid = PG_GETARG_OID(0);
	SqlValue ids;
	if (!PG_ARGISNULL(1))
		ids = std::string(
		    PgCall([&] { return OidOutputFunctionCall(F_ARRAY_OUT, PG_GETARG_DATUM(1)); }));
	TableInfo table = LoadTableInfo(relid);

	/* a forgotten subject's rows never come back (its legal-hold rows stay archived) */
	std::string chosen =
	    "a.relid = $1::oid AND ($2::bigint[] IS NULL OR a.id = ANY ($2::bigint[]))";
	std::string forgotten = "EXISTS (SELECT 1 FROM retention.erasure_log e WHERE e.subject = "
	                        "a.subject AND e.subject_hash = a.subject_hash)";
	int64_t held = Sql("SELECT count(*) FROM retention_archive.archived_row a WHERE " + chosen +
	                       " AND " + forgotten,
	                   {std::to_string(relid), ids})
	                   .ScalarInt();
	if (held > 0)
		PgCall([&] {
			ereport(NOTICE,
			        (errmsg("%lld archived rows of forgotten subjects are not restored",
			                static_cast<long long>(held)),
			         errhint("retention.erasure_log lists the erasures; "
			                 "retention.reapply_erasures() removes what is not under legal hold")));
		});
	SqlResult opened =
	    Sql("DELETE FROM retention_archive.archived_row a WHERE " + chosen + " AND NOT " +
	            forgotten + " RETURNING retention._open(a.subject, a.subject_hash, a.payload)",
	        {std::to_string(relid), ids});
	if (opened.rows.empty())
		return Int64GetDatum(0);
	std::vector<SqlValue> payloads;
	for (const SqlRow &row : opened.rows)
		payloads.push_back(row[0]);

	SqlResult columns = Sql("SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = "
	                        "$1::oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = "
	                        "'' ORDER BY a.attnum",
	                        {std::to_string(relid)});
	std::string names;
	std::string values;
	for (const SqlRow &c : columns.rows) {
		names += (names.empty() ? "" : ", ") + QuoteIdent(c[0].value());
		values += (values.empty() ? "v." : ", v.") + QuoteIdent(c[0].value());
	}
	int64_t restored = OwnerSql(relid,
	                            "INSERT INTO " + table.qualified + " (" + names +
	                                ") OVERRIDING SYSTEM VALUE SELECT " + values +
	                                " FROM pg_catalog.unnest($1::text[]) AS j(payload) CROSS JOIN "
	                                "LATERAL pg_catalog.jsonb_populate_record(NULL::" +
	                                table.qualified + ", j.payload::jsonb) AS v",
	                            {ArrayLiteral(payloads)})
	                       .processed;
	if (restored != static_cast<int64_t>(opened.rows.size()))
		throw Error(ErrorKind::Internal, "restored " + std::to_string(restored) + " of " +
		                                     std::to_string(opened.rows.size()) + " archived rows");
	return Int64GetDatum(restored);
}

} // namespace pg_retention::pg
