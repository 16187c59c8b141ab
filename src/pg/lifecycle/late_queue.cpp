/*-------------------------------------------------------------------------
 *
 * late_queue.cpp
 *		The value stages and the late-row queue (late_rows.hpp): rows the
 *		write trigger queued behind a stage's watermark are processed in one
 *		batch, and the rows a batch processed leave the queue.
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/late_queue.cpp
 *-------------------------------------------------------------------------
 */
#include <string>
#include <vector>

#include "lifecycle/engine.hpp"
#include "boundary/owner_sql.hpp"

namespace pg_retention::pg::lifecycle
{

namespace
{

/* A queue entry's text key, parsed back to the key types, equals the row's key. */
std::string QueueKeyMatches(const Target &t, const std::string &queue, const std::string &row)
{
	std::string sql;
	for (size_t i = 0; i < t.key.size(); i++)
		sql += (i > 0 ? " AND " : "") + queue + ".row_key[" + Str(i + 1) + "]::" + t.key_types[i] +
		       " = " + row + "." + QuoteIdent(t.key[i]);
	return sql;
}

} // namespace

/* Removes the late-row queue entries of the rows in `processed` (key columns as text). */
/*
 * The queue holds keys as text (written in the application's session);
 * telling which name the processed rows means reading them as the key's
 * types, whose domains are the owner's code: the owner compares, the
 * extension deletes.  Nothing queued, nothing to compare (the common case).
 */
void Engine::ForgetQueued(const Target &t, const std::string &attnum, const SqlResult &processed)
{
	SqlResult queued = Sql("SELECT DISTINCT row_key::text FROM retention.late_row WHERE relid = "
	                       "$1::oid AND attnum = $2::int2",
	                       {Str(t.leaf.relid), attnum});
	if (queued.rows.empty())
		return;
	std::vector<SqlValue> entries;
	for (const SqlRow &row : queued.rows)
		entries.push_back(row[0]);
	std::vector<SqlValue> p{ArrayLiteral(entries)};
	std::string arrays = KeyArrayParams(t, processed.rows, p);
	std::string names;
	for (size_t i = 0; i < t.key.size(); i++)
		names += (i > 0 ? ", " : "") + QuoteIdent(t.key[i]);
	/* unnest(a, b) is special syntax, never qualified; search_path is pg_catalog here */
	SqlResult done =
	    OwnerSql(t.leaf.relid,
	             "SELECT l.row_key::text FROM (SELECT k::text[] AS row_key FROM "
	             "pg_catalog.unnest($1::text[]) AS k) l WHERE EXISTS (SELECT 1 "
	             "FROM unnest(" +
	                 arrays + ") AS u(" + names + ") WHERE " + QueueKeyMatches(t, "l", "u") + ")",
	             p);
	if (done.rows.empty())
		return;
	std::vector<SqlValue> keys;
	for (const SqlRow &row : done.rows)
		keys.push_back(row[0]);
	Sql("DELETE FROM retention.late_row WHERE relid = $1::oid AND attnum = $2::int2 AND "
	    "row_key::text = ANY ($3::text[])",
	    {Str(t.leaf.relid), attnum, ArrayLiteral(keys)});
}

/*
 * Which of `keys` (key columns as text, in the key's order) the late-row
 * queue of a stage holds: one flag per key.  The owner compares, as in
 * ForgetQueued.  Nothing queued, nothing to compare.
 */
std::vector<bool> Engine::QueuedAmong(const Target &t, const std::string &attnum,
                                      const std::vector<SqlRow> &keys)
{
	std::vector<bool> queued(keys.size(), false);
	SqlResult entries = Sql("SELECT row_key::text FROM retention.late_row WHERE relid = "
	                        "$1::oid AND attnum = $2::int2",
	                        {Str(t.leaf.relid), attnum});
	if (entries.rows.empty() || keys.empty())
		return queued;
	std::vector<SqlValue> texts;
	for (const SqlRow &row : entries.rows)
		texts.push_back(row[0]);
	std::vector<SqlValue> p{ArrayLiteral(texts)};
	std::string arrays = KeyArrayParams(t, keys, p);
	std::string names;
	for (const std::string &k : t.key)
		names += QuoteIdent(k) + ", ";
	/* unnest(a, b) is special syntax, never qualified; search_path is pg_catalog here */
	SqlResult found =
	    OwnerSql(t.leaf.relid,
	             "SELECT u.pgr_n::text FROM unnest(" + arrays + ") WITH ORDINALITY AS u(" + names +
	                 "pgr_n) WHERE EXISTS (SELECT 1 FROM (SELECT k::text[] AS "
	                 "row_key FROM pg_catalog.unnest($1::text[]) AS k) l WHERE " +
	                 QueueKeyMatches(t, "l", "u") + ")",
	             p);
	for (const SqlRow &row : found.rows)
		queued.at(std::stoul(row[0].value()) - 1) = true;
	return queued;
}

/*
 * Rows the write trigger queued (written already due) that lie behind the
 * watermark, where the scan will not look: processed here, in one batch,
 * and the whole queue of this stage consumed (rows ahead of the
 * watermark are the scan's).
 */
int64_t Engine::ProcessLateRows(const Target &t, const ColumnInfo &column, const char *action,
                                const std::string &expression, const std::string &cutoff,
                                const std::vector<SqlValue> &mark)
{
	if (t.citus != CitusKind::None)
		return ProcessCitusLateRows(t, column, action, expression, cutoff, mark);
	std::vector<SqlValue> p{Str(t.leaf.relid), Str(column.attnum), cutoff};
	int64_t queued = Sql("SELECT count(*) FROM retention.late_row WHERE relid = $1::oid AND "
	                     "attnum = $2::int2",
	                     {p[0], p[1]})
	                     .ScalarInt();
	if (queued == 0)
		return 0;
	/* $1 the cutoff, $2.. the watermark, then one text[] per key column */
	std::vector<SqlValue> up{cutoff};
	up.insert(up.end(), mark.begin(), mark.end());
	std::string behind = "false";
	if (!mark.empty())
		behind = KeysetColumns(t, "r") + " <= " + KeysetParams(t, 2);
	int64_t changed = 0;
	int64_t requeued = 0; /* entries of rows held by others, put back (the committed attempt's) */
	Batch([&] {
		/* the queue is ours, the table its owner's: two statements, one batch */
		std::string elements_of_key;
		for (size_t i = 0; i < t.key.size(); i++)
			elements_of_key += (i > 0 ? ", row_key[" : "row_key[") + Str(i + 1) + "]";
		/* a row written twice was queued twice: processed once */
		SqlResult queued_keys = Sql("WITH d AS (DELETE FROM retention.late_row WHERE relid = "
		                            "$1::oid AND attnum = $2::int2 RETURNING row_key) "
		                            "SELECT DISTINCT " +
		                                elements_of_key + " FROM d",
		                            {p[0], p[1]});
		if (queued_keys.rows.empty())
			return;
		std::vector<SqlValue> params = up;
		std::string arrays;
		std::string elements;
		std::string names;
		for (size_t i = 0; i < t.key.size(); i++) {
			std::string array = "{";
			for (size_t r = 0; r < queued_keys.rows.size(); r++)
				array += (r > 0 ? "," : "") + QuoteArrayElement(queued_keys.rows[r][i]);
			params.push_back(array + "}");
			arrays += (i > 0 ? ", $" : "$") + Str(params.size()) + "::text[]";
			elements += (i > 0 ? ", u.k" : "u.k") + Str(i);
			names += (i > 0 ? ", k" : "k") + Str(i);
		}
		std::string returned;
		for (size_t i = 0; i < t.key.size(); i++)
			returned += "r." + QuoteIdent(t.key[i]) + "::text AS pgr_k" + Str(i) + ", ";
		/*
		 * o: the queued rows with their age before the UPDATE (see
		 * UpdateValues), locked without waiting: a row an application
		 * transaction holds is not waited for, its entry goes back into the
		 * queue (pgr_held) for the next run.
		 */
		/* unnest(a, b) is special syntax, never qualified; search_path is pg_catalog here */
		SqlResult r = OwnerSql(
		    t.leaf.relid,
		    "WITH q AS (SELECT ARRAY[" + elements + "] AS row_key FROM unnest(" + arrays +
		        ") AS u(" + names + ")), o AS (SELECT q.row_key, x." + t.age_sql +
		        " AS pgr_old_age FROM q JOIN " + t.leaf.qualified + " x ON " +
		        QueueKeyMatches(t, "q", "x") + (t.by_key ? "" : " FOR UPDATE OF x SKIP LOCKED") +
		        "), upd AS (UPDATE " + t.leaf.qualified + " r SET " +
		        QuoteIdent(column.facts.name) + " = " + expression + " FROM o WHERE " +
		        QueueKeyMatches(t, "o", "r") + " AND r." + t.age_sql + " < $1::" + t.age_type +
		        " AND " + behind + " RETURNING " + returned + "r." + t.age_sql +
		        " IS DISTINCT FROM o.pgr_old_age AS pgr_moved) SELECT u.*, h.pgr_held FROM (SELECT "
		        "(SELECT pg_catalog.array_agg(q.row_key::text) FROM q WHERE NOT EXISTS (SELECT 1 "
		        "FROM o WHERE o.row_key = q.row_key) AND EXISTS (SELECT 1 FROM " +
		        t.leaf.qualified + " x WHERE " + QueueKeyMatches(t, "q", "x") +
		        "))::text AS pgr_held) h LEFT JOIN upd u ON true",
		    params);
		SqlValue held = r.rows.at(0).back();
		SqlResult processed;
		int64_t moved = 0;
		for (SqlRow &row : r.rows)
			if (row[0]) {
				moved += row[t.key.size()] == SqlValue("t") ? 1 : 0;
				processed.rows.push_back(std::move(row));
			}
		processed.processed = static_cast<int64_t>(processed.rows.size());
		SqlResult counts;
		counts.rows.push_back({Str(processed.processed), Str(moved)});
		changed = TallyLateRows(t, counts, action);
		/*
		 * A row written twice is queued twice: an application UPDATE that
		 * committed after the DELETE's snapshot queued the row again, and
		 * the batch processed the value it wrote.  A statement of its own
		 * removes that entry.
		 */
		if (processed.processed > 0)
			ForgetQueued(t, Str(column.attnum), processed);
		requeued = 0;
		if (held)
			requeued = Sql("WITH k AS (INSERT INTO retention.late_row (relid, attnum, row_key) "
			               "SELECT $1::oid, $2::int2, e::text[] FROM "
			               "pg_catalog.unnest($3::text[]) AS e RETURNING 1) SELECT count(*) FROM k",
			               {p[0], p[1], held})
			               .ScalarInt();
	});
	late_held_ += requeued;
	return changed;
}

/*
 * The queued rows' UPDATE returned (rows changed, rows whose age a trigger
 * moved): fails the batch when one moved, else counts them in the summary.
 */
int64_t Engine::TallyLateRows(const Target &t, const SqlResult &counts, const char *action)
{
	int64_t changed = counts.ScalarInt();
	FailIfAgeMoved(t, std::stoll(counts.rows.at(0).at(1).value()), action);
	if (std::string(action) == "anonymize")
		summary_.rows_anonymized += changed;
	else
		summary_.values_purged += changed;
	return changed;
}

} // namespace pg_retention::pg::lifecycle
