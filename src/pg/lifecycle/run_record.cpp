/*-------------------------------------------------------------------------
 *
 * run_record.cpp
 *		The run's record: its retention.run_history row, one run_detail row
 *		per table, column and action (kept in memory too: a dry run writes
 *		them at the end, preview() returns them), and the NOTICEs and
 *		WARNINGs a run says to its client.
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/run_record.cpp
 *-------------------------------------------------------------------------
 */
#include <string>
#include <vector>

#include "lifecycle/engine.hpp"

namespace pg_retention::pg::lifecycle
{

/* The run's end in its history row: status, counts, and why it stopped (or NULL). */
void Engine::RecordEnd(const SqlValue &message)
{
	Sql("UPDATE retention.run_history SET finished_at = clock_timestamp(), status = $2, "
	    "rows_minimized = $3::bigint, rows_anonymized = $4::bigint, values_purged = "
	    "$5::bigint, rows_archived = $6::bigint, rows_purged = $7::bigint, archive_purged = "
	    "$8::bigint, rows_blocked = $9::bigint, tables_failed = $10::int, message = $11 "
	    "WHERE run_id = $1::bigint",
	    {Str(summary_.run_id), summary_.status, Str(summary_.rows_minimized),
	     Str(summary_.rows_anonymized), Str(summary_.values_purged), Str(summary_.rows_archived),
	     Str(summary_.rows_purged), Str(summary_.archive_purged), Str(summary_.rows_blocked),
	     Str(summary_.tables_failed), message});
}

int64_t Engine::InsertHistory()
{
	return Sql("INSERT INTO retention.run_history (dry_run, started_by, started_at) "
	           "VALUES ($1::boolean, $2, $3::timestamptz) RETURNING run_id",
	           {options_.dry_run ? "true" : "false", options_.started_by, now_})
	    .ScalarInt();
}

void Engine::WriteDetail(const DetailRecord &d, bool insert)
{
	const StageOutcome &o = d.outcome;
	SqlValue column = d.column.empty() ? SqlValue() : SqlValue(d.column);
	std::vector<SqlValue> p{Str(summary_.run_id),
	                        Str(d.relid),
	                        d.table_text,
	                        column,
	                        d.action,
	                        Str(o.due),
	                        Str(o.done),
	                        Str(o.blocked),
	                        o.blocked_by.empty() ? SqlValue() : o.blocked_by,
	                        Str(o.batches),
	                        d.status,
	                        d.error.empty() ? SqlValue() : d.error,
	                        !options_.dry_run && o.done > 0 ? "true" : "false",
	                        d.access_path.empty() ? SqlValue() : d.access_path};
	if (insert)
		Sql("INSERT INTO retention.run_detail (run_id, table_name, table_text, column_name, "
		    "action, due, done, blocked, blocked_by, batches, status, error, vacuum_pending, "
		    "access_path) "
		    "VALUES ($1::bigint, $2::oid::regclass, $3, $4, $5, $6::bigint, $7::bigint, "
		    "$8::bigint, $9, $10::int, $11, $12, $13::boolean, $14)",
		    p);
	else /* after every batch: the plan is kept */
		PreparedSql(
		    "UPDATE retention.run_detail SET due = $6::bigint, done = $7::bigint, blocked = "
		    "$8::bigint, blocked_by = $9, batches = $10::int, status = $11, error = $12, "
		    "vacuum_pending = $13::boolean, access_path = $14, updated_at = clock_timestamp() "
		    "WHERE run_id = $1::bigint AND table_name = $2::oid AND table_text = $3 "
		    "AND column_name IS NOT DISTINCT FROM $4 AND action = $5",
		    p);
}

DetailRecord &Engine::Detail(const Target &t, const std::string &column, const char *action)
{
	for (DetailRecord &d : details_)
		if (d.relid == t.leaf.relid && d.column == column && d.action == action)
			return d;
	details_.push_back(
	    DetailRecord{t.leaf.relid, t.leaf.qualified, column, action, {}, "", "", ""});
	return details_.back();
}

int64_t Engine::StartDetail(const Target &t, const std::string &column, const char *action,
                            int64_t due)
{
	DetailRecord &d = Detail(t, column, action);
	d.outcome.due = due;
	d.status = "running";
	if (!options_.dry_run)
		WriteDetail(d, true);
	return due;
}

void Engine::UpdateDetail(const Target &t, const std::string &column, const char *action,
                          const StageOutcome &o, const char *status)
{
	DetailRecord &d = Detail(t, column, action);
	d.outcome = o;
	d.status = status;
	if (!options_.dry_run)
		WriteDetail(d, false);
}

void Engine::RecordFailure(const DeclaredTable &t, const std::string &column, const char *action,
                           const std::string &error)
{
	for (DetailRecord &running : details_)
		if (running.status == "running") {
			running.status = "failed";
			running.error = error;
			if (!options_.dry_run)
				WriteDetail(running, false);
		}
	DetailRecord d{t.info.relid, t.info.qualified, column, action, {}, "failed", error, ""};
	details_.push_back(d);
	if (!options_.dry_run) {
		WriteDetail(d, true);
		tx_.CommitAndContinue();
	}
	Notice("WARNING", t.info.qualified + ": " + action + " failed: " + error);
}

void Engine::Notice(const char *level, const std::string &text)
{
	if (!options_.notices)
		return;
	bool warning = std::string(level) == "WARNING";
	PgCall([&] { ereport(warning ? WARNING : NOTICE, (errmsg("%s", text.c_str()))); });
}

void Engine::Report(const Target &t, const std::string &column, const char *action,
                    const StageOutcome &o, double seconds)
{
	if (o.due == 0 && o.done == 0 && o.blocked == 0)
		return;
	std::string what = t.leaf.qualified + ": " + action + (column.empty() ? "" : " " + column);
	std::string text = what + ": " + Str(o.done) + " of " + Str(o.due) + " rows" +
	                   (options_.dry_run ? " due (dry run)" : "");
	if (!options_.dry_run && seconds > 0.0005)
		text += ", " + Str(static_cast<int64_t>(o.done / seconds)) + " rows/s";
	if (o.blocked > 0)
		text += "; " + Str(o.blocked) + " blocked by " + o.blocked_by;
	Notice("NOTICE", text);
}

void Engine::Finish(const Target &t, const std::string &column, const char *action,
                    const StageOutcome &o, std::chrono::steady_clock::time_point started,
                    const std::string &left_undone)
{
	const char *status = !left_undone.empty() ? "partial"
	                     : options_.dry_run   ? "dry run"
	                     : StopRequested()    ? "stopped"
	                                          : "done";
	if (!left_undone.empty()) {
		Detail(t, column, action).error = left_undone;
		partial_tables_.insert(t.declared->info.relid);
		partial_text_ += (partial_text_.empty() ? "" : "; ") + t.leaf.qualified + " " + action +
		                 (column.empty() ? "" : " " + column) + ": " + left_undone;
		Notice("WARNING", t.leaf.qualified + ": " + action + (column.empty() ? "" : " " + column) +
		                      ": " + left_undone);
	}
	UpdateDetail(t, column, action, o, status);
	if (!options_.dry_run)
		tx_.CommitAndContinue();
	Report(t, column, action, o, Elapsed(started) / 1000.0);
}

} // namespace pg_retention::pg::lifecycle
