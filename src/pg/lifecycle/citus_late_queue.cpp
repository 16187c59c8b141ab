/*-------------------------------------------------------------------------
 *
 * citus_late_queue.cpp
 *		The late-row queue of a Citus table (late_queue.cpp for plain
 *		tables).  The write trigger on each shard queues late rows in the
 *		queue of the shard's node, under the shard's oid, with the digest of
 *		the value as written (write_path/late_rows.cpp).  The coordinator
 *		reads and deletes those entries through Citus's master_run_on_worker,
 *		on connections of their own, outside the run's transaction: draining
 *		cannot be atomic with processing.  So processing is idempotent
 *		instead:
 *
 *		1. read the entries of every placement of the table (a reference
 *		   table's row is queued on each of its placements: the same key
 *		   and digest, processed once);
 *		2. in one batch of the run's transaction, anonymize (or clear) the
 *		   queued rows behind the watermark whose value still has the queued
 *		   digest, writing each new value by key together with the old
 *		   value (a value changed since is left); commit;
 *		3. delete exactly the entries read, by (ctid, xmin) on their node:
 *		   an entry a later write queued (new digest) stays for the next run.
 *
 *		A crash between 2 and 3 leaves entries whose rows no longer hold
 *		their digest: the next run drops them without processing.  Entries
 *		of rows ahead of the watermark are dropped: the scan takes them.
 *		Commands sent to the nodes name the shard and the entries through
 *		quote_literal, never a key or a value (they are not logged there).
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/citus_late_queue.cpp
 *-------------------------------------------------------------------------
 */
#include <map>
#include <set>
#include <string>
#include <vector>

#include "rights/forget.hpp"
#include "lifecycle/engine.hpp"
#include "methods/method_sql.hpp"
#include "write_path/late_rows.hpp"
#include "boundary/guard.hpp"
#include "boundary/owner_sql.hpp"
#include "guc.hpp"

namespace pg_retention::pg::lifecycle
{

namespace
{

/* A node that holds placements of a Citus table's shards, with their oids there as SQL. */
struct Placement {
	std::string node;
	std::string port;
	/* "ARRAY['s.t_102008'::regclass::oid, ...]": each name schema-qualified (also in public:
	 * the node's connection has its own search_path) and quoted */
	std::string shards;
};

/* One entry of a node's queue. */
struct QueuedEntry {
	size_t placement; /* its node, in the placements */
	std::string ctid;
	std::string xmin;
	std::vector<SqlValue> key; /* the key columns' text */
	SqlValue digest;
};

std::vector<Placement> PlacementsOf(Oid relid)
{
	SqlResult r =
	    Sql("SELECT p.nodename, p.nodeport::text, pg_catalog.array_agg(pg_catalog.shard_name("
	        "s.logicalrelid, s.shardid, false) ORDER BY s.shardid)::text FROM "
	        "pg_catalog.pg_dist_shard s "
	        "JOIN pg_catalog.pg_dist_shard_placement p USING (shardid) WHERE s.logicalrelid = "
	        "$1::oid AND p.shardstate = 1 GROUP BY p.nodename, p.nodeport ORDER BY 1, 2",
	        {Str(relid)});
	std::vector<Placement> placements;
	for (const SqlRow &row : r.rows) {
		std::string shards;
		for (const SqlValue &shard : ParseTextArray(row[2].value()))
			shards += (shards.empty() ? "ARRAY[" : ", ") + QuoteLiteral(shard.value()) +
			          "::pg_catalog.regclass::pg_catalog.oid";
		placements.push_back({row[0].value(), row[1].value(), shards + "]"});
	}
	return placements;
}

/*
 * Runs one command per node (Citus's master_run_on_worker: new connections,
 * each command committed on its own); returns each command's single
 * result.  A node that fails the command fails the stage.
 */
std::vector<std::string> RunOnNodes(const std::vector<Placement> &placements,
                                    const std::vector<std::string> &commands, const char *what)
{
	std::vector<SqlValue> nodes, ports, texts;
	for (size_t i = 0; i < placements.size(); i++) {
		nodes.push_back(placements[i].node);
		ports.push_back(placements[i].port);
		texts.push_back(commands[i]);
	}
	SqlResult r = Sql("SELECT r.success::text, r.result, r.node_name, r.node_port::text FROM "
	                  "pg_catalog.master_run_on_worker($1::text[], $2::int[], $3::text[], true) "
	                  "WITH ORDINALITY AS r ORDER BY r.ordinality",
	                  {ArrayLiteral(nodes), ArrayLiteral(ports), ArrayLiteral(texts)});
	std::vector<std::string> results;
	for (const SqlRow &row : r.rows) {
		if (row[0] != SqlValue("true"))
			throw BatchFailed{std::string("could not ") + what + " on node " + row[2].value_or("") +
			                      ":" + row[3].value_or("") + ": " + row[1].value_or(""),
			                  "58000"};
		results.push_back(row[1].value_or(""));
	}
	return results;
}

/* The entries of `column` queued on every node for the table's shards. */
std::vector<QueuedEntry> ReadQueues(const std::vector<Placement> &placements,
                                    const std::string &column, size_t key_columns)
{
	std::vector<std::string> commands;
	for (const Placement &p : placements)
		commands.push_back("SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_array("
		                   "l.ctid::text, l.xmin::text, l.row_key, l.value_digest))::text, '[]') "
		                   "FROM retention.late_row l JOIN pg_catalog.pg_attribute a ON "
		                   "a.attrelid = l.relid AND a.attnum = l.attnum WHERE l.relid = ANY (" +
		                   p.shards + ") AND a.attname = " + QuoteLiteral(column));
	std::vector<std::string> results = RunOnNodes(placements, commands, "read the late-row queue");
	std::vector<QueuedEntry> entries;
	for (size_t i = 0; i < results.size(); i++) {
		std::string elements = "e->>0, e->>1, e->>3";
		for (size_t k = 0; k < key_columns; k++)
			elements += ", e->2->>" + Str(static_cast<int64_t>(k));
		SqlResult r = Sql("SELECT " + elements + " FROM pg_catalog.json_array_elements($1::json) e",
		                  {results[i]});
		for (const SqlRow &row : r.rows)
			entries.push_back(
			    {i, row[0].value(), row[1].value(), SqlRow(row.begin() + 3, row.end()), row[2]});
	}
	return entries;
}

/* Deletes exactly `entries` (by ctid and xmin: an entry a later write queued stays). */
void DeleteEntries(const std::vector<Placement> &placements,
                   const std::vector<QueuedEntry> &entries)
{
	std::map<size_t, std::string> values; /* node -> VALUES list */
	for (const QueuedEntry &e : entries)
		values[e.placement] += (values[e.placement].empty() ? "(" : ", (") + QuoteLiteral(e.ctid) +
		                       ", " + QuoteLiteral(e.xmin) + ")";
	std::vector<Placement> where;
	std::vector<std::string> commands;
	for (const auto &[placement, list] : values) {
		where.push_back(placements[placement]);
		std::string del = "DELETE FROM retention.late_row WHERE relid = ANY (" +
		                  placements[placement].shards +
		                  ") AND (ctid::text, xmin::text) IN (VALUES " + list + ")";
		/* an entry an application's write holds: wait retention.lock_timeout at most */
		const std::string tag = "$pgr_late$";
		if (del.find(tag) == std::string::npos)
			del = "DO " + tag + " BEGIN PERFORM pg_catalog.set_config('lock_timeout', '" +
			      Str(LockTimeoutMs()) + "ms', true); " + del + "; END " + tag;
		commands.push_back(del);
	}
	if (!commands.empty())
		(void)RunOnNodes(where, commands, "delete entries of the late-row queue");
}

} // namespace

/*
 * ProcessLateRows for a Citus table (see the top of this file): the rows
 * queued on the nodes that lie behind the watermark and still hold the
 * queued value are processed in one batch; then the entries read leave
 * their nodes' queues.
 */
int64_t Engine::ProcessCitusLateRows(const Target &t, const ColumnInfo &column, const char *action,
                                     const std::string &expression, const std::string &cutoff,
                                     const std::vector<SqlValue> &mark)
{
	std::vector<Placement> placements = PlacementsOf(t.leaf.relid);
	if (placements.empty())
		return 0;
	std::vector<QueuedEntry> entries = ReadQueues(placements, column.facts.name, t.key.size());
	if (entries.empty())
		return 0;
	/* a reference table's row comes once per placement: one (key, digest) each */
	std::set<std::vector<SqlValue>> seen;
	std::vector<const QueuedEntry *> distinct;
	for (const QueuedEntry &e : entries) {
		std::vector<SqlValue> id = e.key;
		id.push_back(e.digest);
		if (e.digest && seen.insert(id).second)
			distinct.push_back(&e);
	}
	std::vector<std::vector<SqlValue>> keys;
	std::vector<std::string> digests;
	for (const QueuedEntry *e : distinct) {
		keys.push_back(e->key);
		digests.push_back(e->digest.value());
	}
	int64_t changed = 0;
	if (!keys.empty() && !mark.empty())
		Batch([&] {
			changed = UpdateQueuedRows(t, column, action, expression, cutoff, mark, keys, digests);
		});
	if (options_.dry_run)
		return changed;
	try {
		DeleteEntries(placements, entries);
	} catch (const BatchFailed &f) {
		/* harmless: their rows no longer hold their digests, the next run drops them */
		Notice("WARNING", t.leaf.qualified + ": entries of the late-row queue stay for the next " +
		                      "run: " + f.message);
	}
	return changed;
}

/*
 * One batch: the queued rows behind the watermark whose value still has its
 * queued digest get `expression`, computed here (the coordinator route of
 * key_rows.cpp), written by key with the old value as a guard.
 */
int64_t Engine::UpdateQueuedRows(const Target &t, const ColumnInfo &column, const char *action,
                                 const std::string &expression, const std::string &cutoff,
                                 const std::vector<SqlValue> &mark,
                                 const std::vector<std::vector<SqlValue>> &keys,
                                 const std::vector<std::string> &digests)
{
	std::string q = QuoteIdent(column.facts.name);
	std::string type = TypeName(column.type_oid);
	/* $1 the cutoff, $2.. the watermark, then the entries' keys and their index */
	std::vector<SqlValue> p{cutoff};
	p.insert(p.end(), mark.begin(), mark.end());
	std::string behind = "r." + t.age_sql + " < $1::" + t.age_type + " AND " +
	                     KeysetColumns(t, "r") + " <= " + KeysetParams(t, 2);
	if (std::string(action) == "anonymize")
		behind += SkipForgottenRows(t.declared->info.relid, t.key, "r");
	std::string arrays = KeyArrayParams(t, keys, p);
	if (!arrays.empty())
		arrays += ", ";
	std::string names, same_row;
	for (size_t i = 0; i < t.key.size(); i++) {
		names += "pgr_k" + Str(i) + ", ";
		same_row += "r." + QuoteIdent(t.key[i]) + " = u.pgr_k" + Str(i) + " AND ";
	}
	std::vector<SqlValue> indexes;
	for (size_t i = 0; i < keys.size(); i++)
		indexes.push_back(Str(static_cast<int64_t>(i)));
	p.push_back(ArrayLiteral(indexes));
	/* the values as stored, printed as the shards' triggers printed them for the digest */
	int styles = PgCall([] { return PinDigestStyles(); });
	/* unnest(a, b) is special syntax, never qualified; search_path is pg_catalog here */
	SqlResult current =
	    OwnerSql(t.leaf.relid,
	             "SELECT u.pgr_n::text, r." + q + " FROM " + t.leaf.qualified + " AS r, unnest(" +
	                 arrays + "$" + Str(static_cast<int64_t>(p.size())) + "::int[]) AS u(" + names +
	                 "pgr_n) WHERE " + same_row + behind,
	             p);
	PgCall([&] { UnpinDigestStyles(styles); });
	std::vector<size_t> due; /* indexes into keys */
	std::vector<SqlValue> old_values;
	for (const SqlRow &row : current.rows) {
		size_t n = std::stoul(row[0].value());
		char hex[33] = "";
		if (row[1])
			PgCall([&] { TextDigest(row[1]->c_str(), hex); });
		if (!row[1] || digests.at(n) != hex)
			continue; /* processed already, or changed since: its new value was queued anew */
		due.push_back(n);
		old_values.push_back(row[1]);
	}
	if (due.empty())
		return 0;
	/* the method, here: the column's values unnested under the column's own name */
	SqlResult fresh = OwnerSql(t.leaf.relid,
	                           "SELECT (" + expression + ")::text FROM (SELECT x.v AS " + q +
	                               ", x.n FROM pg_catalog.unnest($1::" + type +
	                               "[]) WITH ORDINALITY AS x(v, n)) AS r ORDER BY r.n",
	                           {ArrayLiteral(old_values)});
	std::vector<SqlValue> up{cutoff};
	up.insert(up.end(), mark.begin(), mark.end());
	arrays.clear();
	for (size_t i = 0; i < t.key.size() + 2; i++) {
		std::vector<SqlValue> values;
		for (size_t r = 0; r < due.size(); r++)
			values.push_back(i < t.key.size()    ? keys[due[r]].at(i)
			                 : i == t.key.size() ? old_values[r]
			                                     : fresh.rows.at(r).at(0));
		up.push_back(ArrayLiteral(values));
		arrays += (i > 0 ? ", $" : "$") + Str(static_cast<int64_t>(up.size())) +
		          "::" + (i < t.key.size() ? t.key_types[i] : type) + "[]";
	}
	/* where the row's age is after the write (a BEFORE UPDATE trigger may move it), as
	 * "moved": in the outer query, as Citus allows no STABLE cast in RETURNING */
	std::string returned = "r." + t.age_sql + " AS pgr_age";
	std::string after = "(w.pgr_age";
	for (size_t i = 0; i < t.key.size(); i++) {
		returned += ", r." + QuoteIdent(t.key[i]) + " AS pgr_k" + Str(static_cast<int64_t>(i));
		after += ", w.pgr_k" + Str(static_cast<int64_t>(i));
	}
	after += ")";
	/* retention._engine_write(): the shards' triggers do not queue this write */
	SqlResult r = OwnerSql(
	    t.leaf.relid,
	    "WITH w AS (UPDATE " + t.leaf.qualified + " AS r SET " + q + " = u.pgr_new FROM unnest(" +
	        arrays + ") AS u(" + names + "pgr_old, pgr_new) WHERE " + same_row + "r." + q +
	        " IS NOT DISTINCT FROM u.pgr_old AND " + behind + " AND retention._engine_write(r." +
	        QuoteIdent(t.key[0]) + ") RETURNING " + returned +
	        ") SELECT count(*), count(*) FILTER (WHERE (w.pgr_age < $1::" + t.age_type + " AND " +
	        after + " <= " + KeysetParams(t, 2) + ") IS NOT TRUE) FROM w",
	    up);
	return TallyLateRows(t, r, action);
}

} // namespace pg_retention::pg::lifecycle
