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
 *		src/pg/rights/forget.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"

#include "archive/archive.hpp"
#include "rights/forget.hpp"
#include "boundary/guard.hpp"
#include "boundary/owner_sql.hpp"
#include "methods/method_sql.hpp"
#include "boundary/spi_query.hpp"
#include "boundary/result_set.hpp"
#include "catalog/schema_version.hpp"
#include "catalog/catalog.hpp"
#include "catalog/citus.hpp"
#include "catalog/citus_checks.hpp"

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
	std::string action;     /* on forget of the table, "" for a table only unlinked */
	int64_t deleted = 0;    /* rows deleted */
	int64_t anonymized = 0; /* rows whose declared columns this forget changed */
	int64_t kept = 0;       /* rows left in place: a legal hold, or rows others reference */
	int64_t unlinked = 0;   /* rows whose reference to the subject was set to NULL */
	bool hold = false;      /* the kept rows are held (legal hold or references) */
	std::string held_by;    /* the tables whose rows hold the kept rows */
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

/* A row that cannot be deleted: held, or referenced through a key that cannot be cleared. */
std::string MustStay(const SubjectMember &m, const std::string &alias)
{
	return AnyReference(m, alias, &IncomingReference::KeepsInPlace);
}

/* The tables whose references keep some of the subject's rows of m (`rows`) in place. */
std::string HeldBy(const SubjectMember &m, const std::string &rows, const SubjectId &id)
{
	std::string tables;
	for (const IncomingReference &ref : m.references)
		if (ref.KeepsInPlace() && tables.find(ref.child_qualified) == std::string::npos &&
		    OwnerPreparedSql(m.table->info.relid,
		                     "SELECT EXISTS (SELECT 1 FROM " + m.table->info.qualified +
		                         " r WHERE " + rows + " AND " + Referenced(ref, "r") + ")",
		                     id.key)
		            .Scalar() == SqlValue("t"))
			tables += (tables.empty() ? "" : ", ") + ref.child_qualified;
	return tables;
}

/* "r.k1 = f.row_key[1]::type1 AND ...": the row an entry names, found through the key's index. */
std::string RowKeyMatches(const SubjectMember &m, const std::string &row, const std::string &entry)
{
	std::string sql;
	for (size_t i = 0; i < m.primary_key.size(); i++) {
		const ColumnInfo *c = m.table->info.FindColumn(m.primary_key[i]);
		sql += (i > 0 ? " AND " : "") + row + "." + QuoteIdent(m.primary_key[i]) + " = " + entry +
		       ".row_key[" + Str(i + 1) + "]::" + TypeNameOf(c ? c->type_oid : TEXTOID);
	}
	return sql;
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

/*
 * Whether m's anonymization must be computed here, on the coordinator: a
 * Citus table with a method its shards cannot run in an UPDATE (keyed:
 * the engine's capability and the server key are this backend's; random:
 * VOLATILE).
 */
bool AnonymizeHere(const SubjectMember &m)
{
	CitusKind kind = CitusRelationOf(m.table->info.relid).kind;
	if (kind != CitusKind::Distributed && kind != CitusKind::Reference)
		return false;
	for (const DeclaredColumn &c : m.table->columns)
		if (c.policy.anonymize_using &&
		    !CitusMethodProblem(m.table->info.qualified, *c.policy.anonymize_using).empty())
			return true;
	return false;
}

/*
 * The rows `fresh` selects anonymized through the coordinator: read by key,
 * each column's method applied here to the values, written back by key
 * (UPDATE ... FROM unnest(arrays), run per shard by Citus; every cast on
 * a parameter, none on a column).  Returns the RowKey texts of the rows
 * changed, as the plain UPDATE ... RETURNING does.
 */
SqlResult AnonymizeThroughHere(const SubjectMember &m, const std::string &fresh,
                               const std::vector<SqlValue> &key_params)
{
	const DeclaredTable &t = *m.table;
	std::vector<KeyColumn> pk = LoadPrimaryKey(t.info.relid);
	std::string read = RowKey(m.primary_key, "r") + "::text";
	for (const KeyColumn &k : pk)
		read += ", r." + QuoteIdent(k.name) + "::text";
	for (const DeclaredColumn &c : t.columns)
		read += ", r." + QuoteIdent(c.info.facts.name) + "::text";
	SqlResult rows = OwnerPreparedSql(
	    t.info.relid, "SELECT " + read + " FROM " + t.info.qualified + " r WHERE " + fresh,
	    key_params);
	if (rows.rows.empty())
		return rows;
	auto column_of = [&](size_t i) {
		std::vector<SqlValue> values;
		for (const SqlRow &row : rows.rows)
			values.push_back(row[i]);
		return ArrayLiteral(values);
	};
	/* the methods, here: the values unnested under their columns' own names */
	std::vector<SqlValue> old_values;
	std::string arrays, names, expressions;
	size_t first = 1 + pk.size();
	for (size_t j = 0; j < t.columns.size(); j++) {
		const DeclaredColumn &c = t.columns[j];
		std::string q = QuoteIdent(c.info.facts.name);
		std::string type = TypeNameOf(c.info.type_oid);
		old_values.push_back(column_of(first + j));
		arrays += (j > 0 ? ", $" : "$") + Str(static_cast<int64_t>(j + 1)) + "::" + type + "[]";
		names += q + ", ";
		expressions += std::string(j > 0 ? ", " : "") + "(" +
		               (c.policy.anonymize_using ? MethodSql(*c.policy.anonymize_using, q, c.info)
		                                         : "NULL::" + type) +
		               ")::text";
	}
	/* unnest(a, b) is special syntax, never qualified; search_path is pg_catalog here */
	SqlResult anonymized =
	    OwnerSql(t.info.relid,
	             "SELECT " + expressions + " FROM unnest(" + arrays + ") WITH ORDINALITY AS r(" +
	                 names + "pgr_n) ORDER BY r.pgr_n",
	             old_values);
	std::vector<SqlValue> p = key_params;
	std::string sets, same_row;
	arrays.clear();
	names.clear();
	for (size_t i = 0; i < pk.size() + t.columns.size(); i++) {
		bool is_key = i < pk.size();
		std::vector<SqlValue> values;
		for (size_t r = 0; r < rows.rows.size(); r++)
			values.push_back(is_key ? rows.rows[r][1 + i]
			                        : anonymized.rows.at(r).at(i - pk.size()));
		p.push_back(ArrayLiteral(values));
		std::string name = "pgr_" + Str(static_cast<int64_t>(i));
		const std::string &column = is_key ? pk[i].name : t.columns[i - pk.size()].info.facts.name;
		std::string type =
		    is_key ? pk[i].type_sql : TypeNameOf(t.columns[i - pk.size()].info.type_oid);
		arrays += (i > 0 ? ", $" : "$") + Str(static_cast<int64_t>(p.size())) + "::" + type + "[]";
		names += (i > 0 ? ", " : "") + name;
		if (is_key)
			same_row += "r." + QuoteIdent(column) + " = u." + name + " AND ";
		else
			sets += (sets.empty() ? "" : ", ") + QuoteIdent(column) + " = u." + name;
	}
	/* each row's position comes back: Citus allows no STABLE function (array_out) in RETURNING */
	std::vector<SqlValue> positions;
	for (size_t r = 0; r < rows.rows.size(); r++)
		positions.push_back(Str(static_cast<int64_t>(r)));
	p.push_back(ArrayLiteral(positions));
	SqlResult changed = OwnerPreparedSql(
	    t.info.relid,
	    "UPDATE " + t.info.qualified + " r SET " + sets + " FROM unnest(" + arrays + ", $" +
	        Str(static_cast<int64_t>(p.size())) + "::int[]) AS u(" + names +
	        ", pgr_position) WHERE " + same_row + fresh + " RETURNING u.pgr_position",
	    p);
	SqlResult keys;
	for (const SqlRow &row : changed.rows)
		keys.rows.push_back({rows.rows.at(std::stoul(row.at(0).value())).at(0)});
	keys.processed = static_cast<int64_t>(keys.rows.size());
	return keys;
}

class Forgetter
{
public:
	Forgetter(const SubjectScope &scope, const SubjectId &id) : scope_(scope), id_(id) {}

	std::string Run(const SqlValue &reason, const SqlValue &request_id)
	{
		erasure_id_ =
		    Sql("SELECT nextval('retention.erasure_log_erasure_id_seq')::text").Scalar().value();
		if (!id_.key.empty()) {
			SqlValue mode = SequentialOnCitus();
			LockReferencedRows();
			for (const SubjectMember &m : scope_.members())
				ForgetRows(m);
			if (mode)
				Sql("SELECT pg_catalog.set_config('citus.multi_shard_modify_mode', $1, true)",
				    {mode});
		}
		return ForgetArchiveAndRecord(reason, request_id);
	}

private:
	const SubjectScope &scope_;
	const SubjectId &id_;
	std::map<std::string, TableOutcome> outcomes_;
	std::string erasure_id_;

	/* The parameters of a statement on the subject's rows: the key, then `more` from $n+1. */
	/*
	 * Anonymizes the rows of m that `rows` selects (or only reads them when
	 * there is nothing to change) and records them in
	 * retention.forgotten_row, so no run anonymizes or archives them again
	 * and a held row is deleted once nothing holds it.  Rows recorded by an
	 * earlier forget are left as they are.  Returns (rows changed, rows).
	 */
	std::pair<int64_t, int64_t> AnonymizeInPlace(const SubjectMember &m, const std::string &rows,
	                                             bool held)
	{
		const std::string &table = m.table->info.qualified;
		const Oid relid = m.table->info.relid;
		std::string sets = AnonymizeSets(m);
		if (m.primary_key.empty()) {
			/* no key to name the rows by: anonymized, not recorded (docs/rights.md) */
			int64_t n =
			    sets.empty()
			        ? OwnerPreparedSql(relid, "SELECT count(*) FROM " + table + " r WHERE " + rows,
			                           id_.key)
			              .ScalarInt()
			        : OwnerPreparedSql(
			              relid, "UPDATE " + table + " r SET " + sets + " WHERE " + rows, id_.key)
			              .processed;
			return {sets.empty() ? 0 : n, n};
		}
		/* the table's owner changes the rows an earlier forget did not record ... */
		std::string key = RowKey(m.primary_key, "r");
		std::string fresh = rows + SkipForgottenRows(relid, m.primary_key, "r");
		std::string touched = sets.empty()
		                          ? "SELECT " + key + "::text FROM " + table + " r WHERE " + fresh
		                          : "UPDATE " + table + " r SET " + sets + " WHERE " + fresh +
		                                " RETURNING " + key + "::text";
		SqlResult keys = !sets.empty() && AnonymizeHere(m)
		                     ? AnonymizeThroughHere(m, fresh, id_.key)
		                     : OwnerPreparedSql(relid, touched, id_.key);
		int64_t changed = static_cast<int64_t>(keys.rows.size());
		/* ... and the extension records them */
		if (changed > 0) {
			std::vector<SqlValue> row_keys;
			for (const SqlRow &k : keys.rows)
				row_keys.push_back(k[0]);
			Sql("INSERT INTO retention.forgotten_row (relation, row_key, subject, erasure_id, "
			    "held) "
			    "SELECT $1::oid::regclass, k::text[], $2, $3::bigint, $4::boolean "
			    "FROM pg_catalog.unnest($5::text[]) AS k ON CONFLICT DO NOTHING",
			    {Str(relid), scope_.subject(), erasure_id_, held ? "true" : "false",
			     ArrayLiteral(row_keys)});
		}
		/* the write trigger queued the rows just changed: the run must not change them again */
		if (changed > 0 && !sets.empty())
			Sql("DELETE FROM retention.late_row l USING retention.forgotten_row f "
			    "WHERE f.relation = $1::oid::regclass AND f.erasure_id = $2::bigint "
			    "AND l.row_key = f.row_key AND l.relid IN (SELECT pg_catalog.unnest($3::oid[]))",
			    {Str(relid), erasure_id_, LeafList(relid)});
		int64_t all =
		    OwnerPreparedSql(relid, "SELECT count(*) FROM " + table + " r WHERE " + rows, id_.key)
		        .ScalarInt();
		return {sets.empty() ? 0 : changed, all};
	}

	static std::string LeafList(Oid relid)
	{
		std::string list = "{" + Str(relid);
		for (Oid leaf : LeafPartitions(relid))
			list += "," + Str(leaf);
		return list + "}";
	}

	/*
	 * Citus refuses to modify a reference table after a multi-shard
	 * statement modified a distributed table in parallel in the same
	 * transaction (the children go first, a reference subject table last):
	 * where the subject has both, its statements run one shard after the
	 * other, for this forget only.  Returns the mode to restore, if set.
	 */
	SqlValue SequentialOnCitus() const
	{
		bool reference = false;
		bool distributed = false;
		for (const SubjectMember &m : scope_.members()) {
			CitusKind kind = CitusRelationOf(m.table->info.relid).kind;
			reference = reference || kind == CitusKind::Reference;
			distributed = distributed || kind == CitusKind::Distributed;
		}
		if (!reference || !distributed)
			return std::nullopt;
		return Sql("SELECT pg_catalog.current_setting('citus.multi_shard_modify_mode'), "
		           "pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true)")
		    .rows.at(0)
		    .at(0);
	}

	/*
	 * Citus runs FOR UPDATE only in a query routed to one shard: a
	 * distributed table's rows are locked first where its distribution
	 * column is the subject's key (or the foreign key to it).  Elsewhere the
	 * distributed transaction's own locks are all there is: a child written
	 * for the subject meanwhile waits for the DELETE of its parent row and
	 * then fails its foreign key check, or, written first, makes the
	 * parent's DELETE fail (the forget rolls back, nothing changed: call it
	 * again).  Reference tables are routed (Citus locks every placement).
	 */
	static bool RoutedToOneShard(const SubjectMember &m)
	{
		CitusRelation citus = CitusRelationOf(m.table->info.relid);
		if (citus.kind != CitusKind::Distributed)
			return true;
		if (m.path.hops.size() > 1)
			return false;
		const std::vector<std::string> &columns =
		    m.path.hops.empty() ? m.path.key_columns : m.path.hops.front().child_columns;
		return std::find(columns.begin(), columns.end(), citus.distribution_column) !=
		       columns.end();
	}

	/*
	 * Parents first, so concurrent inserts of children wait behind the
	 * forget: one statement, its CTEs locking in the order they are read.
	 */
	void LockReferencedRows()
	{
		/* one statement per table, each as that table's owner, in the same order */
		const std::vector<SubjectMember> &members = scope_.members();
		for (auto it = members.rbegin(); it != members.rend(); ++it) {
			if (it->action == ForgetAction::Keep || it->references.empty() ||
			    !RoutedToOneShard(*it))
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
			o.hold = o.kept > 0;
			return;
		}
		if (m.action == ForgetAction::Anonymize) {
			auto [changed, all] = AnonymizeInPlace(m, rows, false);
			o.anonymized = changed;
			/* rows with nothing declared to anonymize stay as they are */
			if (AnonymizeSets(m).empty())
				o.kept = all;
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
		/*
		 * Rows other rows still point at are anonymized in place instead, and
		 * kept: the run deletes them once nothing holds them any more.
		 */
		auto [changed, all] = AnonymizeInPlace(m, rows, true);
		o.anonymized = changed;
		o.kept = all;
		o.hold = all > 0;
		if (all > 0)
			o.held_by = HeldBy(m, rows, id_);
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
			if (o.hold)
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
		/* subject <> '': the archive's subject index is partial, a kept plan needs it written */
		std::string receipt =
		    PreparedSql(
		        "WITH gone AS (DELETE FROM retention_archive.archived_row WHERE subject = $1 "
		        "  AND subject <> '' AND subject_hash = decode($2, 'hex') "
		        "  AND relid <> ALL ($3::oid[]) RETURNING 1), "
		        "held AS (SELECT count(*) AS n FROM retention_archive.archived_row WHERE subject = "
		        "$1 AND subject <> '' "
		        "  AND subject_hash = decode($2, 'hex') AND relid = ANY ($3::oid[])), "
		        "key AS (DELETE FROM retention_archive.data_key WHERE subject = $1 "
		        "  AND subject_hash = decode($2, 'hex') AND (SELECT n FROM held) = 0 RETURNING 1), "
		        "e AS (SELECT $7::bigint AS id, now() AS at) "
		        "INSERT INTO retention.erasure_log (erasure_id, subject, subject_hash, erased_at, "
		        "reason, receipt, request_id) "
		        "SELECT e.id, $1, decode($2, 'hex'), e.at, $4, $5::jsonb || jsonb_build_object("
		        "'erasure_id', e.id, 'erased_at', e.at, 'archive', jsonb_build_object("
		        "'rows_deleted', (SELECT count(*) FROM gone), 'rows_kept', (SELECT n FROM held), "
		        "'data_key_destroyed', EXISTS (SELECT 1 FROM key))), $6::bigint FROM e "
		        "RETURNING receipt::text",
		        {scope_.subject(), id_.HashHex(), keep, reason, ReceiptJson(request_id), request_id,
		         erasure_id_})
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

/* ARRAY[alias.k1::text, ...]: a row's primary key as retention.forgotten_row and late_row name it.
 */
std::string RowKey(const std::vector<std::string> &primary_key, const std::string &alias)
{
	std::string sql;
	for (const std::string &k : primary_key)
		sql += (sql.empty() ? "" : ", ") + (alias.empty() ? "" : alias + ".") + QuoteIdent(k) +
		       "::text";
	return "ARRAY[" + sql + "]";
}

std::string ForgetSubject(const SubjectScope &scope, const SubjectId &id, const SqlValue &reason,
                          const SqlValue &request_id)
{
	return Forgetter(scope, id).Run(reason, request_id);
}

std::string SkipForgottenRows(Oid relid, const std::vector<std::string> &key,
                              const std::string &alias)
{
	if (key.empty())
		return "";
	/* the keys as one text[] literal of text[] texts: compared with <> ALL, hashed */
	SqlValue keys = Sql("SELECT array_agg(row_key::text)::text FROM retention.forgotten_row "
	                    "WHERE relation = $1::oid::regclass",
	                    {Str(relid)})
	                    .Scalar();
	if (!keys)
		return "";
	return " AND " + RowKey(key, alias) + "::text <> ALL (" + QuoteLiteral(*keys) + "::text[])";
}

int64_t CompleteDeferredForgets()
{
	int64_t deleted = 0;
	/* entries of dropped tables */
	Sql("DELETE FROM retention.forgotten_row f WHERE NOT EXISTS (SELECT 1 FROM "
	    "pg_catalog.pg_class c WHERE c.oid = f.relation)");
	SqlResult subjects = Sql("SELECT DISTINCT subject FROM retention.forgotten_row ORDER BY 1");
	for (const SqlRow &row : subjects.rows) {
		std::shared_ptr<const SubjectScope> scope;
		try {
			scope = SubjectScope::Load(row[0].value());
		} catch (const Error &e) {
			if (e.kind() != ErrorKind::UndefinedObject)
				throw;
			continue;
		}
		/* erasure -> the "tables" of its completion receipt */
		std::map<std::string, std::string> completed;
		for (const SubjectMember &m : scope->members()) {
			if (m.primary_key.empty())
				continue;
			const std::string &table = m.table->info.qualified;
			std::string relid = Str(m.table->info.relid);
			std::string stays = MustStay(m, "r");
			/* the held entries are ours; the table's owner deletes the rows nothing holds now */
			SqlResult held =
			    Sql("SELECT erasure_id::text, row_key::text FROM "
			        "retention.forgotten_row WHERE relation = $1::oid::regclass AND held",
			        {relid});
			if (held.rows.empty())
				continue;
			std::vector<SqlValue> erasures, keys;
			for (const SqlRow &h : held.rows) {
				erasures.push_back(h[0]);
				keys.push_back(h[1]);
			}
			SqlResult done = OwnerSql(
			    m.table->info.relid,
			    "WITH f AS (SELECT u.e AS erasure_id, u.k::text[] AS row_key FROM "
			    "unnest($1::bigint[], $2::text[]) AS u(e, k)), d AS (DELETE FROM " +
			        table + " r USING f WHERE " + RowKeyMatches(m, "r", "f") +
			        (stays.empty() ? "" : " AND NOT " + stays) +
			        " RETURNING f.erasure_id) "
			        "SELECT d.erasure_id::text, count(*)::text FROM d GROUP BY 1 ORDER BY 1",
			    {ArrayLiteral(erasures), ArrayLiteral(keys)});
			for (const SqlRow &d : done.rows) {
				std::string &tables = completed[d[0].value()];
				tables += (tables.empty() ? "" : ", ") + JsonString(table) +
				          ": {\"on_forget\": \"delete\", \"deleted\": " + d[1].value() + "}";
				deleted += std::stoll(d[1].value());
			}
		}
		/* entries of rows that are gone: deleted above (cascades too), purged, dropped */
		for (const SubjectMember &m : scope->members()) {
			if (m.primary_key.empty())
				continue;
			std::string relid = Str(m.table->info.relid);
			SqlResult entries = Sql("SELECT row_key::text FROM retention.forgotten_row WHERE "
			                        "relation = $1::oid::regclass",
			                        {relid});
			if (entries.rows.empty())
				continue;
			std::vector<SqlValue> keys;
			for (const SqlRow &e : entries.rows)
				keys.push_back(e[0]);
			/*
			 * which of them the table still has, asked of its owner; on a
			 * Citus table by the key's text (Citus refuses this correlated
			 * subquery), which is how forget recorded it
			 */
			CitusKind citus = CitusRelationOf(m.table->info.relid).kind;
			SqlResult present =
			    citus == CitusKind::Distributed || citus == CitusKind::Reference
			        ? OwnerSql(m.table->info.relid,
			                   "SELECT " + RowKey(m.primary_key, "r") + "::text FROM " +
			                       m.table->info.qualified + " r WHERE " +
			                       RowKey(m.primary_key, "r") + "::text = ANY ($1::text[])",
			                   {ArrayLiteral(keys)})
			        : OwnerSql(m.table->info.relid,
			                   "SELECT f.row_key::text FROM (SELECT k::text[] AS row_key FROM "
			                   "pg_catalog.unnest($1::text[]) AS k) f WHERE EXISTS (SELECT 1 "
			                   "FROM " +
			                       m.table->info.qualified + " r WHERE " +
			                       RowKeyMatches(m, "r", "f") + ")",
			                   {ArrayLiteral(keys)});
			std::vector<SqlValue> kept;
			for (const SqlRow &p : present.rows)
				kept.push_back(p[0]);
			Sql("DELETE FROM retention.forgotten_row WHERE relation = $1::oid::regclass "
			    "AND row_key::text <> ALL ($2::text[])",
			    {relid, ArrayLiteral(kept)});
		}
		for (const auto &[erasure, tables] : completed)
			Sql("SELECT retention._log_completed_erasure($1::bigint, $2::jsonb)",
			    {erasure, "{" + tables + "}"});
	}
	/* a forgotten subject's legal-hold rows left the archive: their key goes too */
	if (Sql("DELETE FROM retention_archive.data_key k WHERE EXISTS (SELECT 1 FROM "
	        "retention.erasure_log e WHERE e.subject = k.subject AND e.subject_hash = "
	        "k.subject_hash) AND NOT EXISTS (SELECT 1 FROM retention_archive.archived_row a "
	        "WHERE a.subject = k.subject AND a.subject_hash = k.subject_hash)")
	        .processed > 0)
		ClearDataKeyCache();
	return deleted;
}

/* retention.forget_subject(subject text, id text, reason text) -> jsonb */
PGR_FUNCTION(retention_forget_subject)
{
	RequireCurrentSchema("retention.forget_subject()");
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
	RequireCurrentSchema("retention.verify_forgotten()");
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
	        p);
	int64_t archived = std::stoll(archive.rows[0][0].value());
	int64_t held = std::stoll(archive.rows[0][1].value());
	Leftover(out, "retention_archive.archived_row", SqlValue(), archived, "leftover");
	Leftover(out, "retention_archive.archived_row", SqlValue(), held, "legal hold");
	Leftover(out, "retention_archive.data_key", SqlValue(), std::stoll(archive.rows[0][2].value()),
	         held > 0 ? "legal hold" : "leftover");
	return (Datum)0;
}

} // namespace pg_retention::pg
