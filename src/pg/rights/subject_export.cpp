/*-------------------------------------------------------------------------
 *
 * subject_export.cpp
 *		retention.export_subject(subject, id): everything held on one
 *		subject, as one JSON document (rights of access and portability,
 *		GDPR Art. 15 and 20).
 *
 *		{ "subject": "customer", "subject_id": "42", "exported_at": ...,
 *		  "tables": { "shop.orders": {
 *		      "subject_path": "shop.orders.customer_id → shop.customer.id",
 *		      "declared": { purpose, basis, archive_after, purge_after, on_forget },
 *		      "columns": { "city": { purpose, basis, minimize, anonymize_after, ... } },
 *		      "rows": [ every live row, whole, in primary key order ],
 *		      "archived_rows": [ { "archived_at", "aged_at", "purge_after", "row" } ] } } }
 *
 *		The declarations come from retention.processing_register(), so the
 *		export and the register can never disagree.  jsonb orders keys
 *		itself and rows come in key order: the same data exports the same.
 *
 * IDENTIFICATION
 *		src/pg/rights/subject_export.cpp
 *-------------------------------------------------------------------------
 */
#include <map>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "boundary/owner_sql.hpp"

#include "boundary/guard.hpp"
#include "rights/subject_rights.hpp"
#include "catalog/schema_version.hpp"

namespace pg_retention::pg
{

namespace
{

/* What one table contributes to the export, as JSON fragments. */
struct TableExport {
	std::string declared = "{}";
	std::string columns;
	std::string path;
	std::string rows = "[]";
	std::string archived = "[]";
};

std::string RowOrder(const SubjectMember &m)
{
	if (m.primary_key.empty())
		return "to_jsonb(r.*)::text"; /* r.*, never r: a column named r would win */
	std::string order;
	for (const std::string &k : m.primary_key)
		order += (order.empty() ? "r." : ", r.") + QuoteIdent(k);
	return order;
}

/* The declarations of the members' tables and columns, from the register. */
void AddDeclarations(std::map<std::string, TableExport> &tables,
                     const std::map<std::string, std::string> &name_of, const std::string &relids)
{
	SqlResult r =
	    Sql("SELECT table_name::oid::text, column_name::text, jsonb_strip_nulls("
	        "jsonb_build_object('purpose', purpose, 'basis', basis, 'minimize', minimize, "
	        "'anonymize_after', anonymize_after::text, 'anonymize_method', "
	        "anonymize_method, 'archive_after', archive_after::text, 'purge_after', "
	        "purge_after::text, 'on_forget', on_forget))::text "
	        "FROM retention.processing_register() WHERE table_name::oid = ANY ($1::oid[])",
	        {relids});
	for (const SqlRow &row : r.rows) {
		TableExport &t = tables[name_of.at(row[0].value())];
		if (!row[1])
			t.declared = row[2].value();
		else
			t.columns +=
			    (t.columns.empty() ? "" : ", ") + JsonString(*row[1]) + ": " + row[2].value();
	}
}

} // namespace

/* retention.export_subject(subject text, id text) -> jsonb */
PGR_FUNCTION(retention_export_subject)
{
	RequireCurrentSchema("retention.export_subject()");
	ResolvedSubject resolved = SubjectArguments(fcinfo, "export");
	const SubjectScope *scope = resolved.scope.get();
	const SubjectId &sid = resolved.id;
	const std::string &subject = scope->subject();

	std::map<std::string, TableExport> tables;
	std::map<std::string, std::string> name_of; /* relid -> table name */
	std::string relids = "{";
	for (const SubjectMember &m : scope->members()) {
		const std::string &name = m.table->info.qualified;
		name_of[std::to_string(m.table->info.relid)] = name;
		relids += (relids.size() > 1 ? "," : "") + std::to_string(m.table->info.relid);
		TableExport &t = tables[name];
		t.path = scope->PathText(m);
		t.rows = OwnerSql(m.table->info.relid,
		                  "SELECT coalesce(jsonb_agg(to_jsonb(r.*) ORDER BY " + RowOrder(m) +
		                      "), '[]')::text FROM " + name + " r WHERE " + scope->RowsOf(m, "r"),
		                  sid.key)
		             .Scalar()
		             .value();
	}
	relids += "}";
	AddDeclarations(tables, name_of, relids);

	SqlResult archived = Sql(
	    "SELECT relid::text, table_name, jsonb_agg(jsonb_build_object('archived_at', archived_at, "
	    "'aged_at', aged_at, 'purge_after', purge_after, 'row', "
	    "retention._open(subject, subject_hash, payload)::jsonb) ORDER BY id)::text "
	    "FROM retention_archive.archived_row WHERE subject = $1 AND subject_hash = decode($2, "
	    "'hex') GROUP BY relid, table_name",
	    {subject, sid.HashHex()});
	for (const SqlRow &row : archived.rows) {
		auto known = name_of.find(row[0].value());
		std::string name = known != name_of.end() ? known->second : row[1].value();
		tables[name].archived = row[2].value();
	}

	std::string body;
	for (const auto &[name, t] : tables) {
		std::string entry = "\"declared\": " + t.declared + ", \"columns\": {" + t.columns +
		                    "}, \"rows\": " + t.rows + ", \"archived_rows\": " + t.archived;
		if (!t.path.empty())
			entry += ", \"subject_path\": " + JsonString(t.path);
		body += (body.empty() ? "" : ", ") + JsonString(name) + ": {" + entry + "}";
	}
	std::string exported_at = Sql("SELECT to_jsonb(now())::text", {}).Scalar().value();
	return JsonbDatum("{\"subject\": " + JsonString(subject) +
	                  ", \"subject_id\": " + JsonString(sid.text) +
	                  ", \"exported_at\": " + exported_at + ", \"tables\": {" + body + "}}");
}

} // namespace pg_retention::pg
