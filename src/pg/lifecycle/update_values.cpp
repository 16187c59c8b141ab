/*-------------------------------------------------------------------------
 *
 * update_values.cpp
 *		Stages "anonymize" and "purge_value": a column's values past their
 *		delay are rewritten in keyset batches ordered by (age, primary key),
 *		each batch moving the stage's watermark; rows written already due
 *		behind the watermark come through the late-row queue
 *		(late_queue.cpp).
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/update_values.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "rights/forget.hpp"
#include "lifecycle/engine.hpp"
#include "lifecycle/keyset.hpp"
#include "boundary/owner_sql.hpp"

namespace pg_retention::pg::lifecycle
{

void Engine::UpdateValues(const Target &t, const DeclaredColumn &c, const char *action,
                          const Delay &delay, const std::string &expression)
{
	const ColumnInfo *column = t.leaf.FindColumn(c.info.facts.name);
	if (column == nullptr)
		return;
	if (t.key.empty())
		throw BatchFailed{std::string(action) + " of " + c.info.facts.name +
		                      " needs a primary key on " + t.leaf.qualified +
		                      " to process each row exactly once",
		                  "55000"};
	std::string q = QuoteIdent(c.info.facts.name);
	std::string cutoff = Cutoff(t, delay);
	std::string attnum = Str(column->attnum);
	SqlResult state = Sql("SELECT watermark_age, watermark_key FROM retention.stage_state "
	                      "WHERE relid = $1::oid AND attnum = $2::int2 AND action = $3",
	                      {Str(t.leaf.relid), attnum, std::string(action)});
	std::vector<SqlValue> mark; /* age, then key values: the last row processed */
	if (!state.rows.empty() && state.rows[0][0]) {
		mark.push_back(state.rows[0][0]);
		for (SqlValue &k : ParseTextArray(state.rows[0][1].value()))
			mark.push_back(k);
	}
	/* a value a forget anonymized is never anonymized again */
	std::string due = t.age_sql + " < $1::" + t.age_type;
	if (std::string(action) == "anonymize")
		due += SkipForgottenRows(t.declared->info.relid, t.key, "");
	StageOutcome o;
	std::string horizon = StageHorizon();
	auto started = std::chrono::steady_clock::now();
	late_held_ = 0;

	/*
	 * In heap order (value_pass.cpp): a pass left open by an earlier run, or
	 * a new one when most of a big table is due; it ends with the watermark
	 * past every row it changed, and the index path below then takes the
	 * rows between the pass's cutoff and this run's.
	 */
	std::optional<ValuePass> pass;
	std::string pass_left; /* rows a trigger kept from the pass's changes */
	if (!t.by_key) {
		pass = LoadValuePass(t, attnum, action);
		if (!pass && PlainUpdates(t)) {
			Keyset ahead(t, due, cutoff, mark);
			int64_t blocks = 0;
			int64_t estimate =
			    EstimateDue(t, "SELECT ctid FROM " + t.leaf.qualified + " WHERE " + ahead.window(),
			                ahead.params());
			if (std::string(ChooseAccessPath(t, estimate, blocks)) == "heap" && blocks > 0) {
				/* the rows queued behind the watermark first, as the index path does */
				int64_t late = ProcessLateRows(t, *column, action, expression, cutoff, mark);
				o.due = estimate + late;
				o.done = late;
				pass = BeginValuePass(t, attnum, action, cutoff, blocks);
			}
		}
	}
	if (pass) {
		Detail(t, c.info.facts.name, action).access_path = "heap";
		StartDetail(t, c.info.facts.name, action, o.due);
		bool ended = RunValuePass(t, *column, action, expression, due, *pass, mark, o, pass_left);
		o.due = std::max(o.due, o.done);
		if (!ended) {
			Finish(t, c.info.facts.name, action, o, started, pass_left);
			return;
		}
		o.due = o.done;
	}

	Keyset keyset(t, due, cutoff, mark);
	int64_t ahead =
	    Count(t, "SELECT count(*) FROM " + t.leaf.qualified + " WHERE " + keyset.window(),
	          keyset.params());
	int64_t late = ProcessLateRows(t, *column, action, expression, cutoff, mark);
	o.due += ahead + late;
	o.done += late;
	if (pass) {
		UpdateDetail(t, c.info.facts.name, action, o, "running");
	} else {
		Detail(t, c.info.facts.name, action).access_path = t.by_key ? "key" : "index";
		StartDetail(t, c.info.facts.name, action, o.due);
	}
	int64_t size = t.by_key ? KeyBatchSize(t, 0, 0) : Batcher::FirstSize();
	/* ORDER BY names r.columns: a bare name would sort by the text output columns */
	std::string order = KeysetColumns(t, "r");
	order = order.substr(1, order.size() - 2);

	int64_t skipped = 0;               /* rows of a batch a trigger kept from being updated */
	std::optional<AgeWindows> windows; /* the key path's batches (key_rows.cpp) */
	int64_t previous = 0;              /* the rows the previous batch found */
	while (o.due > 0 && !StopRequested()) {
		int64_t found = 0;
		int64_t batch_skipped = 0; /* set by the attempt that commits */
		auto batch_start = std::chrono::steady_clock::now();
		Batch([&] {
			batch_skipped = 0;
			std::vector<SqlValue> p = keyset.params();
			p.push_back(Str(size));
			std::vector<Oid> p_types = keyset.types();
			p_types.push_back(INT8OID);
			int limit_param = static_cast<int>(p.size());
			/* the batch's size and its last row: only these come back to the engine */
			std::string inner = "r." + t.age_sql + " AS c0";
			std::string outer = "c.c0::text";
			/* c.cN, not cN: a bare name would bind to the text output column */
			std::string descending = "c.c0 DESC";
			for (size_t i = 0; i < t.key.size(); i++) {
				std::string alias = "c" + Str(i + 1);
				inner += ", r." + QuoteIdent(t.key[i]) + " AS " + alias;
				outer += ", c." + alias + "::text";
				descending += ", c." + alias + " DESC";
			}
			SqlResult candidates =
			    t.by_key ? NextValueBatchByKey(t, keyset, windows, size, previous)
			             : OwnerTypedSql(t.leaf.relid,
			                             "WITH c AS (SELECT " + inner + " FROM " +
			                                 t.leaf.qualified + " r WHERE " + keyset.window() +
			                                 " ORDER BY " + order + " LIMIT $" + Str(limit_param) +
			                                 "::bigint) SELECT (SELECT count(*) FROM c)::text, " +
			                                 outer + " FROM c ORDER BY " + descending + " LIMIT 1",
			                             p, p_types);
			found = candidates.rows.empty() ? 0 : std::stoll(candidates.rows[0][0].value());
			if (found == 0)
				return;
			const SqlRow last(candidates.rows[0].begin() + 1, candidates.rows[0].end());
			std::vector<SqlValue> up = keyset.params();
			int last_first = static_cast<int>(up.size()) + 1;
			up.insert(up.end(), last.begin(), last.end());
			std::vector<Oid> up_types = keyset.types();
			up_types.insert(up_types.end(), keyset.row_types().begin(), keyset.row_types().end());
			/*
			 * o: the batch's rows with their age before the UPDATE, locked
			 * first so no one else changes them in between: an age that
			 * differs after it was rewritten by a trigger, and a locked row
			 * the UPDATE did not change was skipped by a trigger (returning
			 * NULL).  The last column counts o (a row even when none changed).
			 */
			std::string batch_rows =
			    keyset.window() + " AND " + KeysetColumns(t) + " <= " + KeysetParams(t, last_first);
			/* the shards' write triggers do not queue the engine's writes (late_rows.cpp) */
			if (t.citus != CitusKind::None)
				batch_rows += " AND retention._engine_write(" + QuoteIdent(t.key[0]) + ")";
			std::string old_rows = "SELECT " + t.age_sql + " AS pgr_old_age";
			std::string same_row;
			std::string returning;
			for (size_t i = 0; i < t.key.size(); i++) {
				std::string k = QuoteIdent(t.key[i]);
				old_rows += ", " + k + " AS pgr_k" + Str(i);
				same_row += " AND r." + k + " = o.pgr_k" + Str(i);
				returning += "r." + k + "::text AS pgr_k" + Str(i) + ", ";
			}
			old_rows += " FROM " + t.leaf.qualified + " WHERE " + batch_rows + " FOR UPDATE";
			SqlResult result =
			    t.by_key
			        ? UpdateBatchByKey(t, *column, expression, batch_rows, last_first, up, up_types,
			                           found)
			        : OwnerTypedSql(
			              t.leaf.relid,
			              "WITH o AS (" + old_rows + "), u AS (UPDATE " + t.leaf.qualified +
			                  " AS r SET " + q + " = " + expression + " FROM o WHERE " +
			                  batch_rows + same_row + " RETURNING " + returning + "r." + t.age_sql +
			                  " IS DISTINCT FROM o.pgr_old_age AS pgr_moved) SELECT u.*, "
			                  "n.pgr_locked::text "
			                  "FROM (SELECT count(*) AS pgr_locked FROM o) n LEFT JOIN u ON true",
			              up, up_types);
			SqlResult updated;
			int64_t moved = 0;
			int64_t locked = std::stoll(result.rows.at(0).back().value());
			for (SqlRow &row : result.rows)
				if (row[0]) {
					moved += row[t.key.size()] == SqlValue("t") ? 1 : 0;
					updated.rows.push_back(std::move(row));
				}
			int64_t changed = updated.processed = static_cast<int64_t>(updated.rows.size());
			FailIfAgeMoved(t, moved, action);
			batch_skipped = locked - changed;
			/*
			 * The processed rows leave the late-row queue.  A statement of
			 * its own: an application UPDATE the batch waited for queued its
			 * row in a transaction that committed after the UPDATE's snapshot.
			 */
			if (changed > 0)
				ForgetQueued(t, attnum, updated);
			Sql("INSERT INTO retention.stage_state (relid, attnum, action, watermark_age, "
			    "watermark_key) VALUES ($1::oid, $2::int2, $3, $4, $5) "
			    "ON CONFLICT (relid, attnum, action) DO UPDATE SET watermark_age = "
			    "EXCLUDED.watermark_age, watermark_key = EXCLUDED.watermark_key, updated_at = "
			    "clock_timestamp()",
			    {Str(t.leaf.relid), attnum, std::string(action), last[0], Keyset::KeyArray(last)});
			o.done += changed;
			o.batches++;
			if (std::string(action) == "anonymize")
				summary_.rows_anonymized += changed;
			else
				summary_.values_purged += changed;
			UpdateDetail(t, c.info.facts.name, action, o, "running");
			/* the next batch starts after this one's last row */
			keyset.Advance(last);
		});
		skipped += batch_skipped;
		previous = found;
		/* an age window may find fewer rows than `size` and more follow */
		if (t.by_key ? found == 0 || windows->last() : found < size)
			break;
		size = t.by_key ? KeyBatchSize(t, found, Elapsed(batch_start))
		                : Batcher::NextSize(size, Elapsed(batch_start));
	}
	/* nothing due is left ahead of the final watermark (behind it is the late-row queue's) */
	std::string left =
	    AccountLeftover(t, o, "SELECT 1 FROM " + t.leaf.qualified + " r WHERE " + keyset.window(),
	                    keyset.params(), keyset.types(), horizon);
	if (skipped > 0)
		left = SkippedByTrigger(skipped) + (left.empty() ? "" : "; " + left);
	if (!pass_left.empty())
		left = pass_left + (left.empty() ? "" : "; " + left);
	if (late_held_ > 0)
		left = Str(late_held_) + " late row(s) were held by other transactions: queued again " +
		       "for the next run" + (left.empty() ? "" : "; " + left);
	Finish(t, c.info.facts.name, action, o, started, left);
}

} // namespace pg_retention::pg::lifecycle
