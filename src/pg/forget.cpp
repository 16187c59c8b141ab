/*-------------------------------------------------------------------------
 *
 * forget.cpp
 *		retention.forget_subject(subject, id, reason) and
 *		retention.verify_forgotten(subject, id) (see forget.hpp).
 *
 *		Everything runs in the caller's transaction, so a forget is all or
 *		nothing.  It first locks the subject's rows that other rows may
 *		reference, parents first: an application inserting a new row for
 *		the subject waits for the forget and then fails its foreign key
 *		check, instead of the forget failing or leaving the new row behind.
 *
 * IDENTIFICATION
 *		src/pg/forget.cpp
 *-------------------------------------------------------------------------
 */
#include <map>
#include <string>
#include <vector>

#include "error.hpp"

#include "archive.hpp"
#include "forget.hpp"
#include "guard.hpp"
#include "owner_sql.hpp"
#include "method_sql.hpp"
#include "spi_query.hpp"
#include "result_set.hpp"

namespace pg_retention::pg
{

namespace
{

std::string Str(int64_t v)
{
	return std::to_string(v);
}

/* What forgetting did to one table. */
struct TableOutcome {
	std::string action; /* on forget of the table, "" for a table only unlinked */
	int64_t deleted = 0;
	int64_t anonymized = 0;
	int64_t kept = 0;
	int64_t unlinked = 0; /* rows whose reference to the subject was set to NULL */
	std::string held_by;  /* legal-hold tables whose rows keep rows of this one */
};

/* "c.a = r.x AND c.b = r.y" */
std::string JoinOn(const std::string &child, const std::vector<std::string> &child_columns,
                   const std::string &parent, const std::vector<std::string> &parent_columns)
{
	std::string sql;
	for (size_t i = 0; i < child_columns.size(); i++)
		sql += (i > 0 ? " AND " : "") + child + "." + QuoteIdent(child_columns[i]) + " = " +
		       parent + "." + QuoteIdent(parent_columns[i]);
	return sql;
}

std::string Referenced(const IncomingReference &ref, const std::string &alias)
{
	return "EXISTS (SELECT 1 FROM " + ref.child_qualified + " retention_c WHERE " +
	       JoinOn("retention_c", ref.child_columns, alias, ref.parent_columns) + ")";
}

/* "(EXISTS ... OR EXISTS ...)" over the references `pick` keeps; "" when none. */
std::string AnyReference(const SubjectMember &m, const std::string &alias,
                         bool (IncomingReference::*pick)() const)
{
	std::string sql;
	for (const IncomingReference &ref : m.references)
		if ((ref.*pick)())
			sql += (sql.empty() ? "" : " OR ") + Referenced(ref, alias);
	return sql.empty() ? "" : "(" + sql + ")";
}

/* A row referenced by rows of a legal-hold table. */
std::string HeldCondition(const SubjectMember &m, const std::string &alias)
{
	return AnyReference(m, alias, &IncomingReference::Holds);
}

/* A row that cannot be deleted: held, or referenced through a key that cannot be cleared. */
std::string MustStay(const SubjectMember &m, const std::string &alias)
{
	return AnyReference(m, alias, &IncomingReference::KeepsInPlace);
}

std::string HeldBy(const SubjectMember &m)
{
	std::string tables;
	for (const IncomingReference &ref : m.references)
		if (ref.Holds() && tables.find(ref.child_qualified) == std::string::npos)
			tables += (tables.empty() ? "" : ", ") + ref.child_qualified;
	return tables;
}

/*
 * "col = method(col), other = NULL" for the declared columns of a table:
 * each column's anonymize method, NULL for the others (personal, purge or
 * minimize only).  A NOT NULL column without a method cannot be forgotten
 * in place: said before anything is changed.
 */
std::string AnonymizeSets(const SubjectMember &m)
{
	std::string sets;
	for (const DeclaredColumn &c : m.table->columns) {
		std::string q = QuoteIdent(c.info.facts.name);
		std::string expression;
		if (c.policy.anonymize_using)
			expression = MethodSql(*c.policy.anonymize_using, q, c.info);
		else if (c.info.facts.not_null)
			throw Error(ErrorKind::ObjectNotInPrerequisiteState,
			            "cannot anonymize column " + q + " of " + m.table->info.qualified +
			                " when forgetting a subject",
			            "the column is NOT NULL and declares no anonymize method",
			            "declare \"anonymize after ... using METHOD\" on the column, or allow NULL "
			            "in it");
		else
			expression = "NULL::" + TypeNameOf(c.info.type_oid);
		sets += (sets.empty() ? "" : ", ") + q + " = " + expression;
	}
	return sets;
}

class Forgetter
{
public:
	Forgetter(const SubjectScope &scope, const SubjectId &id) : scope_(scope), id_(id) {}

	std::string Run(const SqlValue &reason, const SqlValue &request_id)
	{
		if (!id_.key.empty()) {
			LockReferencedRows();
			for (const SubjectMember &m : scope_.members())
				ForgetRows(m);
		}
		return ForgetArchiveAndRecord(reason, request_id);
	}

private:
	const SubjectScope &scope_;
	const SubjectId &id_;
	std::map<std::string, TableOutcome> outcomes_;

	/*
	 * Parents first, so concurrent inserts of children wait behind the
	 * forget: one statement, its CTEs locking in the order they are read.
	 */
	void LockReferencedRows()
	{
		/* one statement per table, each as that table's owner, in the same order */
		const std::vector<SubjectMember> &members = scope_.members();
		for (auto it = members.rbegin(); it != members.rend(); ++it) {
			if (it->action == ForgetAction::Keep || it->references.empty())
				continue;
			OwnerPreparedSql(it->table->info.relid,
			                 "SELECT count(*) FROM (SELECT 1 FROM " + it->table->info.qualified +
			                     " r WHERE " + scope_.RowsOf(*it, "r") + " FOR UPDATE OF r) l",
			                 id_.key);
		}
	}

	void ForgetRows(const SubjectMember &m)
	{
		const std::string &table = m.table->info.qualified;
		const Oid relid = m.table->info.relid;
		TableOutcome &o = outcomes_[table];
		o.action = ForgetActionName(m.action);
		std::string rows = scope_.RowsOf(m, "r");
		if (m.action == ForgetAction::Keep) {
			o.kept = OwnerPreparedSql(relid, "SELECT count(*) FROM " + table + " r WHERE " + rows,
			                          id_.key)
			             .ScalarInt();
			return;
		}
		if (m.action == ForgetAction::Anonymize) {
			std::string sets = AnonymizeSets(m);
			o.anonymized =
			    sets.empty()
			        ? OwnerPreparedSql(relid, "SELECT count(*) FROM " + table + " r WHERE " + rows,
			                           id_.key)
			              .ScalarInt()
			        : OwnerPreparedSql(
			              relid, "UPDATE " + table + " r SET " + sets + " WHERE " + rows, id_.key)
			              .processed;
			return;
		}

		/* references that accept NULL are cleared: the referencing rows stay, unlinked */
		for (const IncomingReference &ref : m.references) {
			if (!ref.Unlinkable())
				continue;
			std::string nulls;
			for (const std::string &c : ref.child_columns)
				nulls += (nulls.empty() ? "" : ", ") + QuoteIdent(c) + " = NULL";
			outcomes_[ref.child_qualified].unlinked +=
			    OwnerPreparedSql(
			        ref.child_relid,
			        "UPDATE " + ref.child_qualified + " retention_c SET " + nulls + " FROM " +
			            table + " r WHERE " + rows + " AND " +
			            JoinOn("retention_c", ref.child_columns, "r", ref.parent_columns),
			        id_.key)
			        .processed;
		}
		std::string stays = MustStay(m, "r");
		o.deleted = OwnerPreparedSql(relid,
		                             "DELETE FROM " + table + " r WHERE " + rows +
		                                 (stays.empty() ? "" : " AND NOT " + stays),
		                             id_.key)
		                .processed;
		if (stays.empty())
			return;
		/* rows other rows still point at are anonymized in place instead */
		std::string sets = AnonymizeSets(m);
		std::string held = HeldCondition(m, "r");
		std::string flag = held.empty() ? "false" : held;
		SqlResult kept =
		    sets.empty()
		        ? OwnerPreparedSql(relid, "SELECT " + flag + " FROM " + table + " r WHERE " + rows,
		                           id_.key)
		        : OwnerPreparedSql(relid,
		                           "UPDATE " + table + " r SET " + sets + " WHERE " + rows +
		                               " RETURNING " + flag,
		                           id_.key);
		o.anonymized = static_cast<int64_t>(kept.rows.size());
		for (const SqlRow &row : kept.rows)
			if (row[0] == SqlValue("t"))
				o.held_by = HeldBy(m);
	}

	std::string ReceiptJson(const SqlValue &request_id) const
	{
		std::string tables;
		std::string holds;
		int64_t total = 0;
		for (const auto &[name, o] : outcomes_) {
			std::string entry;
			if (!o.action.empty())
				entry = "\"on_forget\": " + JsonString(o.action) +
				        ", \"deleted\": " + Str(o.deleted) +
				        ", \"anonymized\": " + Str(o.anonymized) + ", \"kept\": " + Str(o.kept);
			if (o.unlinked > 0)
				entry +=
				    (entry.empty() ? "" : ", ") + std::string("\"unlinked\": ") + Str(o.unlinked);
			if (!o.held_by.empty())
				entry += ", \"held_by\": " + JsonString(o.held_by);
			tables += (tables.empty() ? "" : ", ") + JsonString(name) + ": {" + entry + "}";
			if (o.kept > 0)
				holds += (holds.empty() ? "" : ", ") + JsonString(name) + ": " + Str(o.kept);
			total += o.deleted + o.anonymized;
		}
		return "{\"subject\": " + JsonString(scope_.subject()) +
		       ", \"subject_hash\": " + JsonString(id_.HashHex()) +
		       ", \"request_id\": " + (request_id ? *request_id : "null") + ", \"tables\": {" +
		       tables + "}, \"legal_hold\": {" + holds + "}, \"rows_forgotten\": " + Str(total) +
		       "}";
	}

	/*
	 * The archive and the log, in one statement: the subject's archived rows
	 * go (those of legal-hold tables stay, and so does the key that opens
	 * them), its data key is destroyed, and the receipt, completed with
	 * what happened in the archive, is recorded in the erasure log.
	 */
	std::string ForgetArchiveAndRecord(const SqlValue &reason, const SqlValue &request_id)
	{
		std::string keep = "{";
		for (const SubjectMember &m : scope_.members())
			if (m.action == ForgetAction::Keep)
				keep += (keep.size() > 1 ? "," : "") + Str(m.table->info.relid);
		keep += "}";
		std::string receipt =
		    PreparedSql(
		        "WITH gone AS (DELETE FROM retention_archive.archived_row WHERE subject = $1 "
		        "  AND subject_hash = decode($2, 'hex') AND relid <> ALL ($3::oid[]) RETURNING 1), "
		        "held AS (SELECT count(*) AS n FROM retention_archive.archived_row WHERE subject = "
		        "$1 "
		        "  AND subject_hash = decode($2, 'hex') AND relid = ANY ($3::oid[])), "
		        "key AS (DELETE FROM retention_archive.data_key WHERE subject = $1 "
		        "  AND subject_hash = decode($2, 'hex') AND (SELECT n FROM held) = 0 RETURNING 1), "
		        "e AS (SELECT nextval('retention.erasure_log_erasure_id_seq') AS id, now() AS at) "
		        "INSERT INTO retention.erasure_log (erasure_id, subject, subject_hash, erased_at, "
		        "reason, receipt, request_id) "
		        "SELECT e.id, $1, decode($2, 'hex'), e.at, $4, $5::jsonb || jsonb_build_object("
		        "'erasure_id', e.id, 'erased_at', e.at, 'archive', jsonb_build_object("
		        "'rows_deleted', (SELECT count(*) FROM gone), 'rows_kept', (SELECT n FROM held), "
		        "'data_key_destroyed', EXISTS (SELECT 1 FROM key))), $6::bigint FROM e "
		        "RETURNING receipt::text",
		        {scope_.subject(), id_.HashHex(), keep, reason, ReceiptJson(request_id),
		         request_id})
		        .Scalar()
		        .value();
		/* this backend's copy of the key goes too (other backends drop theirs at their next run) */
		ClearDataKeyCache();
		return receipt;
	}
};

/* verify_forgotten rows: (table_name, column_name, rows, status) */
void Leftover(ResultSet &out, const std::string &table, const SqlValue &column, int64_t rows,
              const char *status)
{
	if (rows > 0)
		out.Add({table, column ? Value(*column) : Value(), rows, std::string(status)});
}

int64_t Count(const SubjectMember &m, const std::string &where, const SubjectId &id)
{
	return OwnerSql(m.table->info.relid,
	                "SELECT count(*) FROM " + m.table->info.qualified + " r WHERE " + where, id.key)
	    .ScalarInt();
}

/* Declared columns left with a value where forgetting sets NULL. */
void ReportValues(ResultSet &out, const SubjectMember &m, const std::string &where,
                  const SubjectId &id)
{
	for (const DeclaredColumn &c : m.table->columns)
		if (!c.policy.anonymize_using)
			Leftover(
			    out, m.table->info.qualified, c.info.facts.name,
			    Count(m, where + " AND r." + QuoteIdent(c.info.facts.name) + " IS NOT NULL", id),
			    "leftover");
}

} // namespace

std::string ForgetSubject(const SubjectScope &scope, const SubjectId &id, const SqlValue &reason,
                          const SqlValue &request_id)
{
	return Forgetter(scope, id).Run(reason, request_id);
}

/* retention.forget_subject(subject text, id text, reason text) -> jsonb */
PGR_FUNCTION(retention_forget_subject)
{
	ResolvedSubject subject = SubjectArguments(fcinfo, "forget");
	return JsonbDatum(
	    ForgetSubject(*subject.scope, subject.id, OptionalText(fcinfo, 2), SqlValue()));
}

/*
 * retention.verify_forgotten(subject, id) -> (table_name, column_name, rows,
 * status): what is still held on the subject.  Status "leftover" is
 * personal data forgetting should have removed; "legal hold" rows are kept
 * on purpose; "anonymized" rows remain linked to the subject with their
 * declared columns anonymized.
 */
PGR_FUNCTION(retention_verify_forgotten)
{
	ResolvedSubject subject = SubjectArguments(fcinfo, "verify");
	const SubjectScope *scope = subject.scope.get();
	const SubjectId &sid = subject.id;
	ResultSet out(fcinfo);
	std::string keep = "{";
	for (const SubjectMember &m : scope->members()) {
		const std::string &table = m.table->info.qualified;
		std::string rows = scope->RowsOf(m, "r");
		if (m.action == ForgetAction::Keep) {
			keep += (keep.size() > 1 ? "," : "") + std::to_string(m.table->info.relid);
			Leftover(out, table, SqlValue(), Count(m, rows, sid), "legal hold");
			continue;
		}
		if (m.action == ForgetAction::Anonymize) {
			Leftover(out, table, SqlValue(), Count(m, rows, sid), "anonymized");
			ReportValues(out, m, rows, sid);
			continue;
		}
		std::string stays = MustStay(m, "r");
		Leftover(out, table, SqlValue(),
		         Count(m, rows + (stays.empty() ? "" : " AND NOT " + stays), sid), "leftover");
		if (!stays.empty()) {
			Leftover(out, table, SqlValue(), Count(m, rows + " AND " + stays, sid), "anonymized");
			ReportValues(out, m, rows + " AND " + stays, sid);
		}
	}
	keep += "}";
	std::vector<SqlValue> p{scope->subject(), sid.HashHex(), keep};
	SqlResult archive =
	    Sql("SELECT count(*) FILTER (WHERE relid <> ALL ($3::oid[])), "
	        "count(*) FILTER (WHERE relid = ANY ($3::oid[])), "
	        "(SELECT count(*) FROM retention_archive.data_key k WHERE k.subject = $1 "
	        " AND k.subject_hash = decode($2, 'hex')) "
	        "FROM retention_archive.archived_row WHERE subject = $1 "
	        "AND subject_hash = decode($2, 'hex')",
	        p, true);
	int64_t archived = std::stoll(archive.rows[0][0].value());
	int64_t held = std::stoll(archive.rows[0][1].value());
	Leftover(out, "retention_archive.archived_row", SqlValue(), archived, "leftover");
	Leftover(out, "retention_archive.archived_row", SqlValue(), held, "legal hold");
	Leftover(out, "retention_archive.data_key", SqlValue(), std::stoll(archive.rows[0][2].value()),
	         held > 0 ? "legal hold" : "leftover");
	return (Datum)0;
}

} // namespace pg_retention::pg
