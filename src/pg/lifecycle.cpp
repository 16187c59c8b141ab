/*-------------------------------------------------------------------------
 *
 * lifecycle.cpp
 *		The lifecycle engine (see lifecycle.hpp and docs/lifecycle.md).
 *
 *		For every declared table, children before parents, and for every
 *		leaf partition of it, the engine applies the due stages in this
 *		order: minimize rows written before their rule, anonymize values,
 *		purge values, drop whole expired partitions, archive rows, purge
 *		rows; then it purges expired archived rows.  Each stage runs in
 *		batches; each batch is one subtransaction whose work, progress
 *		record and watermark commit together, so a run stopped at any
 *		instant resumes exactly where it was, and no row is processed twice.
 *
 * IDENTIFICATION
 *		src/pg/lifecycle.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "error.hpp"

#include "late_rows.hpp"
#include "archive.hpp"
#include "forget.hpp"
#include "guard.hpp"
#include "lifecycle.hpp"
#include "lifecycle_sql.hpp"
#include "method_sql.hpp"
#include "owner_sql.hpp"
#include "worker_settings.hpp"
#include "policy_store.hpp"
#include "result_set.hpp"
#include "spi_query.hpp"
#include "subtransaction.hpp"
#include "table_order.hpp"
#include "worker_settings.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
}

namespace pg_retention::pg
{

namespace
{

int batch_target_ms = 100;
int batch_max_rows = 10000;
int lock_timeout_ms = 200;
int history_days = 90;
int lock_retries = 5;
bool run_lock_held = false;

/* What one stage of one relation did. */
struct StageOutcome {
	int64_t due = 0;
	int64_t done = 0;
	int64_t blocked = 0;
	std::string blocked_by;
	int batches = 0;
};

/* One row of retention.run_detail, kept in memory too (dry runs write it at the end). */
struct DetailRecord {
	Oid relid;
	std::string table_text;
	std::string column;
	std::string action;
	StageOutcome outcome;
	std::string status;
	std::string error;
};

/* A batch failed and its subtransaction was rolled back. */
struct BatchFailed {
	std::string message;
	std::string sqlstate;
};

/*
 * The client canceled the run, or statement_timeout or a shutdown stopped
 * it (SQLSTATE class 57): the whole run stops, the error goes on up.  The
 * subtransaction it happened in is rolled back, so the run can still record
 * that it stopped.
 */
struct RunInterrupted {
	PgError error;
};

std::string Str(int64_t v)
{
	return std::to_string(v);
}

/*
 * Runs `work` in a subtransaction (subtransaction.hpp): all of it or
 * nothing.  A PostgreSQL error becomes BatchFailed (message and SQLSTATE
 * kept), or RunInterrupted for a cancel; any other exception goes on up.
 */
template <typename Work> void InEngineSubtransaction(Work &&work)
{
	try {
		InSubtransaction(std::forward<Work>(work));
	} catch (const PgError &e) {
		ErrorData *edata = e.edata();
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION)
			throw RunInterrupted{e};
		throw BatchFailed{edata->message ? edata->message : "error",
		                  unpack_sql_state(edata->sqlerrcode)};
	}
}

std::vector<std::string> ColumnsOf(const SqlResult &r, size_t column)
{
	std::vector<std::string> values;
	for (const SqlRow &row : r.rows)
		values.push_back(row.at(column).value_or(""));
	return values;
}

class Engine
{
public:
	Engine(const RunOptions &options, TransactionControl &tx) : options_(options), tx_(tx) {}

	RunSummary Run()
	{
		ClearDataKeyCache();
		now_ = Sql(options_.now != 0 ? "SELECT $1::timestamptz::text"
		                             : "SELECT clock_timestamp()::text",
		           {options_.now != 0 ? SqlValue(TimestampText(options_.now)) : SqlValue()})
		           .Scalar()
		           .value();
		if (!options_.dry_run) {
			AcquireRunLock();
			summary_.run_id = InsertHistory();
			tx_.CommitAndContinue();
		}

		bool stopped = false;
		auto process_all = [&] {
			DeclaredTables tables = AllDeclaredTables();
			for (const DeclaredTable *t : InProcessingOrder(*tables)) {
				if (StopRequested()) {
					stopped = true;
					return;
				}
				ProcessTable(*t);
			}
			if (StopRequested())
				stopped = true;
			else {
				PurgeArchive();
				/* after a forget: held rows nothing holds any more go (docs/rights.md) */
				summary_.rows_purged += CompleteDeferredForgets();
			}
		};
		if (options_.dry_run) {
			/* a dry run does the real work, counts it, and rolls it all back: exact by construction
			 */
			try {
				InEngineSubtransaction([&] {
					process_all();
					throw DryRunDone{};
				});
			} catch (const DryRunDone &) {
			} catch (const RunInterrupted &i) {
				throw i.error;
			}
			if (!options_.record_history)
				return summary_;
			summary_.run_id = InsertHistory();
			for (const DetailRecord &d : details_)
				WriteDetail(d, true);
		} else {
			try {
				process_all();
			} catch (const RunInterrupted &i) {
				/* recorded as stopped, then the client gets the original error */
				summary_.status = "stopped";
				RecordEnd(std::string(i.error.what()));
				tx_.CommitAndContinue();
				ReleaseRunLock();
				throw i.error;
			}
		}

		bool partial = summary_.tables_failed > 0 || !partial_tables_.empty();
		summary_.tables_partial = static_cast<int>(partial_tables_.size());
		summary_.status = stopped ? "stopped" : partial ? "partial" : "succeeded";
		SqlValue message;
		if (!partial_tables_.empty())
			message = Str(summary_.tables_partial) +
			          " table(s) left due rows undone (see run_detail): " + partial_text_;
		RecordEnd(message);
		tx_.CommitAndContinue();
		if (!options_.dry_run)
			ReleaseRunLock();
		return summary_;
	}

	const std::vector<DetailRecord> &details() const { return details_; }

	/* The run's end in its history row: status, counts, and why it stopped (or NULL). */
	void RecordEnd(const SqlValue &message)
	{
		Sql("UPDATE retention.run_history SET finished_at = clock_timestamp(), status = $2, "
		    "rows_minimized = $3::bigint, rows_anonymized = $4::bigint, values_purged = "
		    "$5::bigint, rows_archived = $6::bigint, rows_purged = $7::bigint, archive_purged = "
		    "$8::bigint, rows_blocked = $9::bigint, tables_failed = $10::int, message = $11 "
		    "WHERE run_id = $1::bigint",
		    {Str(summary_.run_id), summary_.status, Str(summary_.rows_minimized),
		     Str(summary_.rows_anonymized), Str(summary_.values_purged),
		     Str(summary_.rows_archived), Str(summary_.rows_purged), Str(summary_.archive_purged),
		     Str(summary_.rows_blocked), Str(summary_.tables_failed), message});
	}

private:
	struct DryRunDone {
	};

	const RunOptions &options_;
	TransactionControl &tx_;
	RunSummary summary_;
	std::string now_;
	std::vector<DetailRecord> details_;
	std::set<Oid> partial_tables_; /* declared tables with a stage that left due rows */
	std::string partial_text_;

	/* Advisory lock class of "a run is in progress in this database". */
	static constexpr int32_t kRunLockClass = 0x52455431; /* 'RET1' */

	/*
	 * One real run at a time per database: two runs reading the same
	 * watermark would anonymize the same rows twice.  A session-level lock,
	 * so it survives the run's commits and goes with its backend.
	 */
	void AcquireRunLock()
	{
		bool got = PgCall([] {
			return DatumGetBool(DirectFunctionCall2(pg_try_advisory_lock_int4,
			                                        Int32GetDatum(kRunLockClass),
			                                        Int32GetDatum((int32)MyDatabaseId)));
		});
		run_lock_held = got;
		/* inside a transaction block the run's work stays uncommitted after it returns */
		if (got)
			PgCall([] {
				DirectFunctionCall2(pg_try_advisory_xact_lock_int4, Int32GetDatum(kRunLockClass),
				                    Int32GetDatum((int32)MyDatabaseId));
			});
		if (!got)
			throw Error(ErrorKind::ObjectNotInPrerequisiteState,
			            "another lifecycle run is in progress in this database",
			            "runs of one database never overlap: each row must be processed once",
			            "wait for it to end; retention.progress shows it");
	}

	/*
	 * The run lock is a session lock, and the owner's code runs in this
	 * session: pg_advisory_unlock_all() in a trigger would let a second run
	 * in to process the same rows.  Checked after every batch, before its
	 * commit: a lost lock rolls the batch back and stops the run.
	 */
	void RequireRunLock()
	{
		if (options_.dry_run || !run_lock_held)
			return;
		bool held = Sql("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE locktype = "
		                "'advisory' AND pid = pg_catalog.pg_backend_pid() AND classid = $1::oid "
		                "AND objid = $2::oid AND objsubid = 2 AND granted)",
		                {Str(static_cast<uint32_t>(kRunLockClass)), Str(MyDatabaseId)})
		                .Scalar() == SqlValue("t");
		if (held)
			return;
		run_lock_held = false; /* nothing left to release */
		PgCall([] {
			ereport(ERROR, (errcode(ERRCODE_OPERATOR_INTERVENTION),
			                errmsg("the lifecycle run lost its lock during a batch"),
			                errdetail("Code run as a table's owner released the session's advisory "
			                          "locks; the batch was rolled back."),
			                errhint("Find the trigger or function calling pg_advisory_unlock_all() "
			                        "on the tables the run was processing.")));
		});
	}

public:
	/* Releases the run lock; safe after an error (a session lock needs no transaction). */
	static void ReleaseRunLock()
	{
		if (!run_lock_held)
			return;
		run_lock_held = false;
		PgCall([] {
			DirectFunctionCall2(pg_advisory_unlock_int4, Int32GetDatum(kRunLockClass),
			                    Int32GetDatum((int32)MyDatabaseId));
		});
	}

private:
	int64_t InsertHistory()
	{
		return Sql("INSERT INTO retention.run_history (dry_run, started_by, started_at) "
		           "VALUES ($1::boolean, $2, $3::timestamptz) RETURNING run_id",
		           {options_.dry_run ? "true" : "false", options_.started_by, now_})
		    .ScalarInt();
	}

	void WriteDetail(const DetailRecord &d, bool insert)
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
		                        !options_.dry_run && o.done > 0 ? "true" : "false"};
		if (insert)
			Sql("INSERT INTO retention.run_detail (run_id, table_name, table_text, column_name, "
			    "action, due, done, blocked, blocked_by, batches, status, error, vacuum_pending) "
			    "VALUES ($1::bigint, $2::oid::regclass, $3, $4, $5, $6::bigint, $7::bigint, "
			    "$8::bigint, $9, $10::int, $11, $12, $13::boolean)",
			    p);
		else
			Sql("UPDATE retention.run_detail SET due = $6::bigint, done = $7::bigint, blocked = "
			    "$8::bigint, blocked_by = $9, batches = $10::int, status = $11, error = $12, "
			    "vacuum_pending = $13::boolean, updated_at = clock_timestamp() "
			    "WHERE run_id = $1::bigint AND table_name = $2::oid AND table_text = $3 "
			    "AND column_name IS NOT DISTINCT FROM $4 AND action = $5",
			    p);
	}

	static std::string TimestampText(TimestampTz ts)
	{
		const char *text = PgCall([&] { return timestamptz_to_str(ts); });
		return text;
	}

	bool StopRequested() const
	{
		if (options_.should_stop && options_.should_stop())
			return true;
		return options_.deadline != 0 && GetCurrentTimestamp() >= options_.deadline;
	}

	/* Children before parents, so a due child row never blocks its due parent. */
	static std::vector<const DeclaredTable *>
	InProcessingOrder(const std::vector<DeclaredTable> &tables)
	{
		std::vector<const DeclaredTable *> items;
		std::map<Oid, std::set<Oid>> referenced_by; /* parent -> declared children */
		for (const DeclaredTable &t : tables) {
			items.push_back(&t);
			for (const ForeignKey &fk : LoadForeignKeys(t.info.relid))
				referenced_by[fk.referenced_relid].insert(t.info.relid);
		}
		return ChildrenFirstOrder(
		    items, [](const DeclaredTable *t) { return t->info.relid; }, referenced_by);
	}

	/* ---- one table ---------------------------------------------------- */

	void ProcessTable(const DeclaredTable &t)
	{
		if (!t.problem.empty()) {
			RecordFailure(t, "", "check", t.problem);
			return;
		}
		if (Paused(t.info.relid))
			return;
		bool has_age = t.policy && t.policy->age_column;
		try {
			/* whole expired partitions go first: nothing in them is worth processing */
			if (has_age && t.policy->purge_after)
				DropExpiredPartitions(t, *t.policy->purge_after);
			DeclaredTables all = AllDeclaredTables();
			std::vector<Target> targets;
			for (Oid leaf : LeafPartitions(t.info.relid))
				if (leaf == t.info.relid || !Paused(leaf)) /* a single paused partition */
					targets.push_back(MakeTarget(t, leaf, *all));
			for (Target &target : targets) {
				MinimizeExistingRows(target);
				if (!has_age)
					continue;
				for (const DeclaredColumn &c : t.columns) {
					if (c.policy.anonymize_after && c.policy.anonymize_using)
						UpdateValues(target, c, "anonymize", *c.policy.anonymize_after,
						             MethodSql(*c.policy.anonymize_using,
						                       QuoteIdent(c.info.facts.name), c.info));
					if (c.policy.purge_after)
						UpdateValues(target, c, "purge_value", *c.policy.purge_after,
						             "NULL::" + TypeName(c.info.type_oid));
				}
			}
			if (has_age)
				for (Target &target : targets) {
					/* rows past their purge delay go first: they are never archived */
					if (t.policy->purge_after)
						MoveRows(target, "purge", *t.policy->purge_after);
					if (t.policy->archive_after)
						MoveRows(target, "archive", *t.policy->archive_after);
				}
		} catch (const BatchFailed &f) {
			summary_.tables_failed++;
			RecordFailure(t, "", "run", f.message + " (SQLSTATE " + f.sqlstate + ")");
		} catch (const Error &e) {
			summary_.tables_failed++;
			RecordFailure(t, "", "run", e.what());
		}
	}

	bool Paused(Oid relid)
	{
		return Sql("SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
		           "ON n.oid = c.relnamespace WHERE n.nspname = 'retention' AND c.relname = "
		           "'paused_table'")
		               .processed > 0 &&
		       Sql("SELECT 1 FROM retention.paused_table WHERE table_name = $1::oid", {Str(relid)})
		               .processed > 0;
	}

	static std::string TypeName(Oid type)
	{
		const char *name = PgCall([&] { return format_type_be(type); });
		return name;
	}

	Target MakeTarget(const DeclaredTable &t, Oid leaf, const std::vector<DeclaredTable> &all)
	{
		Target target;
		target.declared = &t;
		target.leaf = leaf == t.info.relid ? t.info : LoadTableInfo(leaf);
		if (t.policy && t.policy->age_column) {
			target.age_sql = QuoteIdent(*t.policy->age_column);
			const ColumnInfo *age = target.leaf.FindColumn(*t.policy->age_column);
			if (age != nullptr) {
				target.age_type = TypeName(age->type_oid);
				target.age_type_oid = age->type_oid;
			}
		}
		SqlResult key = Sql("SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
		                    "a.atttypid "
		                    "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a "
		                    "ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
		                    "WHERE i.indrelid = $1::oid AND i.indisprimary "
		                    "ORDER BY array_position(i.indkey::int2[], a.attnum)",
		                    {Str(leaf)}, true);
		target.key = ColumnsOf(key, 0);
		target.key_types = ColumnsOf(key, 1);
		for (const std::string &oid : ColumnsOf(key, 2))
			target.key_type_oids.push_back(static_cast<Oid>(std::stoul(oid)));
		/* keys that keep a referenced row from going (a partition's own key counts for its root) */
		for (const ReferencingKey &k : LoadReferencingKeys({t.info.relid, leaf}))
			if (k.on_delete == 'a' || k.on_delete == 'r')
				target.blockers.push_back(
				    IncomingKey{k.child_qualified, k.columns, k.referenced_columns});
		if (t.policy && t.policy->subject)
			target.path = ResolveSubjectPath(t, all);
		return target;
	}

	static std::vector<std::string> ParseNameArray(const std::string &array_text)
	{
		SqlResult r = Sql("SELECT unnest($1::text[])", {array_text}, true);
		return ColumnsOf(r, 0);
	}

	/* ---- bookkeeping -------------------------------------------------- */

	DetailRecord &Detail(const Target &t, const std::string &column, const char *action)
	{
		for (DetailRecord &d : details_)
			if (d.relid == t.leaf.relid && d.column == column && d.action == action)
				return d;
		details_.push_back(
		    DetailRecord{t.leaf.relid, t.leaf.qualified, column, action, {}, "", ""});
		return details_.back();
	}

	int64_t StartDetail(const Target &t, const std::string &column, const char *action, int64_t due)
	{
		DetailRecord &d = Detail(t, column, action);
		d.outcome.due = due;
		d.status = "running";
		if (!options_.dry_run)
			WriteDetail(d, true);
		return due;
	}

	void UpdateDetail(const Target &t, const std::string &column, const char *action,
	                  const StageOutcome &o, const char *status)
	{
		DetailRecord &d = Detail(t, column, action);
		d.outcome = o;
		d.status = status;
		if (!options_.dry_run)
			WriteDetail(d, false);
	}

	void RecordFailure(const DeclaredTable &t, const std::string &column, const char *action,
	                   const std::string &error)
	{
		for (DetailRecord &running : details_)
			if (running.status == "running") {
				running.status = "failed";
				running.error = error;
				if (!options_.dry_run)
					WriteDetail(running, false);
			}
		DetailRecord d{t.info.relid, t.info.qualified, column, action, {}, "failed", error};
		details_.push_back(d);
		if (!options_.dry_run) {
			WriteDetail(d, true);
			tx_.CommitAndContinue();
		}
		Notice("WARNING", t.info.qualified + ": " + action + " failed: " + error);
	}

	void Notice(const char *level, const std::string &text)
	{
		if (!options_.notices)
			return;
		bool warning = std::string(level) == "WARNING";
		PgCall([&] { ereport(warning ? WARNING : NOTICE, (errmsg("%s", text.c_str()))); });
	}

	void Report(const Target &t, const std::string &column, const char *action,
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

	/*
	 * A count over the table before its batches, in a subtransaction: a lock
	 * it cannot get (lock_timeout) fails this table only, cleanly.
	 */
	int64_t Count(const Target &t, const std::string &sql, const std::vector<SqlValue> &params)
	{
		int64_t n = 0;
		InEngineSubtransaction([&] { n = OwnerSql(t.leaf.relid, sql, params).ScalarInt(); });
		return n;
	}

	/*
	 * The first transaction id a stage's start did not see: a row whose xmin
	 * is not older was written (inserted, or updated by the application)
	 * while the stage ran.
	 */
	std::string StageHorizon()
	{
		return Sql("SELECT pg_catalog.xid(pg_catalog.pg_snapshot_xmax("
		           "pg_catalog.pg_current_snapshot()))::text",
		           {}, true)
		    .Scalar()
		    .value();
	}

	struct ProbeDone {
	};

	/*
	 * What a stage left behind: the rows of `due_select` ("SELECT ... FROM
	 * table r WHERE <still due, ahead of the stage's last position>") that
	 * were already there when the stage started.  Those an application
	 * transaction holds are `locked` (the stage skipped them: blocked, for
	 * the next run); any other one is a row the stage should have processed
	 * and did not.  One statement per stage, in a subtransaction rolled back
	 * at once: its FOR UPDATE SKIP LOCKED takes row locks only to tell which
	 * rows are held.  Rows written while the stage ran (xmin not older than
	 * `horizon`) are the next run's: they are ahead of the watermark, or the
	 * write trigger queued them, and the next run takes them, so they never
	 * make a run partial (an xmin older than 2^31 transactions, frozen long
	 * ago, reads as new: such a row is not counted).
	 */
	std::pair<int64_t, int64_t> ProbeLeftover(const Target &t, const std::string &due_select,
	                                          std::vector<SqlValue> params, std::vector<Oid> types,
	                                          const std::string &horizon)
	{
		params.push_back(horizon);
		types.push_back(TEXTOID);
		std::string rows = due_select + " AND pg_catalog.age(r.xmin) > pg_catalog.age($" +
		                   Str(static_cast<int64_t>(params.size())) + "::text::xid)";
		int64_t all = 0;
		int64_t unlocked = 0;
		try {
			InEngineSubtransaction([&] {
				SqlResult r = OwnerTypedSql(t.leaf.relid,
				                            "SELECT (SELECT count(*) FROM (" + rows +
				                                ") a)::text, (SELECT count(*) FROM (" + rows +
				                                " FOR UPDATE OF r SKIP LOCKED) b)::text",
				                            params, types);
				all = std::stoll(r.rows.at(0).at(0).value());
				unlocked = std::stoll(r.rows.at(0).at(1).value());
				throw ProbeDone{};
			});
		} catch (const ProbeDone &) {
		}
		return {all - unlocked, unlocked};
	}

	/*
	 * Ends a stage's accounting with the probe: locked rows are reported as
	 * blocked; returns why the stage is partial ("" when it is not).
	 */
	std::string AccountLeftover(const Target &t, StageOutcome &o, const std::string &due_select,
	                            const std::vector<SqlValue> &params, const std::vector<Oid> &types,
	                            const std::string &horizon)
	{
		if (o.due == 0 || StopRequested())
			return "";
		auto [locked, left] = ProbeLeftover(t, due_select, params, types, horizon);
		if (locked > 0) {
			o.blocked += locked;
			summary_.rows_blocked += locked;
			o.blocked_by +=
			    std::string(o.blocked_by.empty() ? "" : ", ") + "locked by another transaction";
		}
		if (left == 0)
			return "";
		return Str(left) + " due row(s) left undone: they were due when the stage started, " +
		       "are not locked, and the stage's batches ended before them";
	}

	/*
	 * Fails the batch (rolled back: no row keeps a changed age) when the
	 * engine's own UPDATE changed the age column of a row: a BEFORE UPDATE
	 * trigger rewrote it, and the row would silently start aging anew.
	 * `moved` is how many returned rows have a new age.
	 */
	void FailIfAgeMoved(const Target &t, int64_t moved, const char *action)
	{
		if (moved == 0)
			return;
		throw BatchFailed{std::string(action) + " changed the age column " +
		                      *t.declared->policy->age_column + " of " + Str(moved) +
		                      " row(s) of " + t.leaf.qualified +
		                      ": a BEFORE UPDATE trigger rewrites it: " +
		                      DescribeAgeTriggers(BeforeUpdateTriggers(
		                          t.leaf.relid, *t.declared->policy->age_column)) +
		                      "; the batch was rolled back",
		                  "09000"};
	}

	/* Batch size for the next batch, aiming at batch_target_ms. */
	static int64_t NextBatchSize(int64_t current, double elapsed_ms)
	{
		double scaled = current * (batch_target_ms / std::max(elapsed_ms, 1.0));
		scaled = std::min(scaled, current * 4.0);
		return std::clamp<int64_t>(static_cast<int64_t>(scaled), 10, batch_max_rows);
	}

	/* A cast to the age's type runs its domain's CHECK, the owner's code: as the owner. */
	std::string Cutoff(const Target &t, const Delay &delay)
	{
		return OwnerSql(t.leaf.relid,
		                "SELECT ($1::timestamptz - $2::interval)::" + t.age_type + "::text",
		                {now_, delay.ToPgInterval()})
		    .Scalar()
		    .value();
	}

	/* Runs one batch: subtransaction, lock timeout, then commit. */
	template <typename Work> void Batch(Work &&work)
	{
		for (int attempt = 1;; attempt++) {
			try {
				InEngineSubtransaction([&] {
					Sql("SELECT pg_catalog.set_config('lock_timeout', $1, true)",
					    {Str(lock_timeout_ms) + "ms"});
					work();
					RequireRunLock();
				});
				break;
			} catch (const BatchFailed &f) {
				/* lock_not_available: an application transaction holds a row; retry */
				/* foreign_key_violation: a referencing row committed during the statement */
				if ((f.sqlstate != "55P03" && f.sqlstate != "23503") || attempt >= lock_retries)
					throw;
				PgCall([&] { pg_usleep(100000L * attempt); });
			}
		}
		if (!options_.dry_run)
			tx_.CommitAndContinue();
	}

	/* ---- minimize ------------------------------------------------------ */

	void MinimizeExistingRows(const Target &t)
	{
		std::string sets;
		std::string differs;
		std::string signature;
		for (const DeclaredColumn &c : t.declared->columns) {
			if (!c.policy.minimize)
				continue;
			const ColumnInfo *column = t.leaf.FindColumn(c.info.facts.name);
			if (column == nullptr)
				continue;
			std::string q = QuoteIdent(c.info.facts.name);
			std::string expr = MethodSql(*c.policy.minimize, q, *column);
			sets += (sets.empty() ? "" : ", ") + q + " = " + expr;
			differs += (differs.empty() ? "" : " OR ") + q + " IS DISTINCT FROM " + expr;
			signature += c.info.facts.name + "=" + c.policy.minimize->ToString() + ";";
		}
		if (sets.empty())
			return;
		/* done once per set of rules: the trigger minimizes every later write */
		SqlResult state = Sql("SELECT watermark_key FROM retention.stage_state WHERE relid = "
		                      "$1::oid AND attnum = 0 AND action = 'minimize'",
		                      {Str(t.leaf.relid)}, true);
		if (state.Scalar() && *state.Scalar() == signature)
			return;
		StageOutcome o;
		std::string horizon = StageHorizon();
		o.due = Count(t, "SELECT count(*) FROM " + t.leaf.qualified + " WHERE " + differs, {});
		StartDetail(t, "", "minimize", o.due);
		auto started = std::chrono::steady_clock::now();
		int64_t size = std::min<int64_t>(1000, batch_max_rows);
		while (!StopRequested()) {
			int64_t changed = 0;
			auto batch_start = std::chrono::steady_clock::now();
			Batch([&] {
				/* o: the rows locked, with their age before the UPDATE (see UpdateValues) */
				std::string old_age = t.age_sql.empty() ? "NULL::int" : t.age_sql;
				std::string moved_age = t.age_sql.empty()
				                            ? "false"
				                            : "r." + t.age_sql + " IS DISTINCT FROM o.pgr_old_age";
				SqlResult r = OwnerSql(
				    t.leaf.relid,
				    "WITH upd AS (UPDATE " + t.leaf.qualified + " AS r SET " + sets +
				        " FROM (SELECT ctid AS pgr_ctid, " + old_age + " AS pgr_old_age FROM " +
				        t.leaf.qualified + " WHERE " + differs +
				        " LIMIT $1::bigint FOR UPDATE SKIP LOCKED) o WHERE r.ctid = o.pgr_ctid "
				        "RETURNING " +
				        moved_age +
				        " AS moved) SELECT count(*), count(*) FILTER (WHERE moved) FROM upd",
				    {Str(size)});
				changed = r.ScalarInt();
				if (!t.age_sql.empty())
					FailIfAgeMoved(t, std::stoll(r.rows.at(0).at(1).value()), "minimize");
				o.done += changed;
				o.batches++;
				summary_.rows_minimized += changed;
				UpdateDetail(t, "", "minimize", o, changed < size ? "done" : "running");
			});
			if (changed < size)
				break;
			size = NextBatchSize(size, Elapsed(batch_start));
		}
		/*
		 * The rules count as applied only when no row is left: rows locked by
		 * the application (skipped) are minimized by the next run.
		 */
		std::string left = AccountLeftover(
		    t, o, "SELECT 1 FROM " + t.leaf.qualified + " r WHERE " + differs, {}, {}, horizon);
		if (!StopRequested() && left.empty() && o.blocked == 0)
			Sql("INSERT INTO retention.stage_state (relid, attnum, action, watermark_key) "
			    "VALUES ($1::oid, 0, 'minimize', $2) ON CONFLICT (relid, attnum, action) DO "
			    "UPDATE SET watermark_key = EXCLUDED.watermark_key, updated_at = "
			    "clock_timestamp()",
			    {Str(t.leaf.relid), signature});
		Finish(t, "", "minimize", o, started, left);
	}

	static double Elapsed(std::chrono::steady_clock::time_point since)
	{
		return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
		    .count();
	}

	void Finish(const Target &t, const std::string &column, const char *action,
	            const StageOutcome &o, std::chrono::steady_clock::time_point started,
	            const std::string &left_undone = "")
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
			Notice("WARNING", t.leaf.qualified + ": " + action +
			                      (column.empty() ? "" : " " + column) + ": " + left_undone);
		}
		UpdateDetail(t, column, action, o, status);
		if (!options_.dry_run)
			tx_.CommitAndContinue();
		Report(t, column, action, o, Elapsed(started) / 1000.0);
	}

	/* ---- anonymize and purge values: keyset batches behind a watermark ---- */

	void UpdateValues(const Target &t, const DeclaredColumn &c, const char *action,
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
		                      {Str(t.leaf.relid), attnum, std::string(action)}, true);
		std::vector<SqlValue> mark; /* age, then key values: the last row processed */
		if (!state.rows.empty() && state.rows[0][0]) {
			mark.push_back(state.rows[0][0]);
			for (std::string &k : ParseNameArray(state.rows[0][1].value()))
				mark.push_back(k);
		}
		size_t nkey = t.key.size() + 1;
		/* $1 cutoff, $2.. the watermark (when there is one) */
		std::string window = t.age_sql + " < $1::" + t.age_type;
		/* a value a forget anonymized is never anonymized again */
		if (std::string(action) == "anonymize")
			window += SkipForgottenRows(t.declared->info.relid, t.key, "");
		if (!mark.empty())
			window += " AND " + t.age_sql + " >= $2::" + t.age_type + " AND " + KeysetColumns(t) +
			          " > " + KeysetParams(t, 2);
		std::vector<SqlValue> params{cutoff};
		params.insert(params.end(), mark.begin(), mark.end());
		/* the age and key types of a keyset row: parameters bound in their own types */
		std::vector<Oid> keyset_types{t.age_type_oid};
		keyset_types.insert(keyset_types.end(), t.key_type_oids.begin(), t.key_type_oids.end());
		std::vector<Oid> types{t.age_type_oid};
		if (!mark.empty())
			types.insert(types.end(), keyset_types.begin(), keyset_types.end());

		StageOutcome o;
		std::string horizon = StageHorizon();
		o.due = Count(t, "SELECT count(*) FROM " + t.leaf.qualified + " WHERE " + window, params);
		int64_t late = ProcessLateRows(t, *column, action, expression, cutoff, mark);
		o.due += late;
		o.done += late;
		StartDetail(t, c.info.facts.name, action, o.due);
		auto started = std::chrono::steady_clock::now();
		int64_t size = std::min<int64_t>(1000, batch_max_rows);
		/* ORDER BY names r.columns: a bare name would sort by the text output columns */
		std::string order = KeysetColumns(t, "r");
		order = order.substr(1, order.size() - 2);

		int64_t skipped = 0; /* rows of a batch a trigger kept from being updated */
		while (o.due > 0 && !StopRequested()) {
			int64_t found = 0;
			int64_t batch_skipped = 0; /* set by the attempt that commits */
			auto batch_start = std::chrono::steady_clock::now();
			Batch([&] {
				batch_skipped = 0;
				std::vector<SqlValue> p = params;
				p.push_back(Str(size));
				std::vector<Oid> p_types = types;
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
				SqlResult candidates = OwnerTypedSql(
				    t.leaf.relid,
				    "WITH c AS (SELECT " + inner + " FROM " + t.leaf.qualified + " r WHERE " +
				        window + " ORDER BY " + order + " LIMIT $" + Str(limit_param) +
				        "::bigint) SELECT (SELECT count(*) FROM c)::text, " + outer +
				        " FROM c ORDER BY " + descending + " LIMIT 1",
				    p, p_types);
				found = candidates.rows.empty() ? 0 : std::stoll(candidates.rows[0][0].value());
				if (found == 0)
					return;
				const SqlRow last(candidates.rows[0].begin() + 1, candidates.rows[0].end());
				std::vector<SqlValue> up = params;
				int last_first = static_cast<int>(up.size()) + 1;
				up.insert(up.end(), last.begin(), last.end());
				std::vector<Oid> up_types = types;
				up_types.insert(up_types.end(), keyset_types.begin(), keyset_types.end());
				/*
				 * o: the batch's rows with their age before the UPDATE, locked
				 * first so no one else changes them in between: an age that
				 * differs after it was rewritten by a trigger, and a locked row
				 * the UPDATE did not change was skipped by a trigger (returning
				 * NULL).  The last column counts o (a row even when none changed).
				 */
				std::string batch_rows =
				    window + " AND " + KeysetColumns(t) + " <= " + KeysetParams(t, last_first);
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
				SqlResult result = OwnerTypedSql(
				    t.leaf.relid,
				    "WITH o AS (" + old_rows + "), u AS (UPDATE " + t.leaf.qualified +
				        " AS r SET " + q + " = " + expression + " FROM o WHERE " + batch_rows +
				        same_row + " RETURNING " + returning + "r." + t.age_sql +
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
				std::string key_array = "{";
				for (size_t i = 1; i < nkey; i++)
					key_array += (i > 1 ? "," : "") + QuoteArrayElement(last[i].value_or(""));
				key_array += "}";
				Sql("INSERT INTO retention.stage_state (relid, attnum, action, watermark_age, "
				    "watermark_key) VALUES ($1::oid, $2::int2, $3, $4, $5) "
				    "ON CONFLICT (relid, attnum, action) DO UPDATE SET watermark_age = "
				    "EXCLUDED.watermark_age, watermark_key = EXCLUDED.watermark_key, updated_at = "
				    "clock_timestamp()",
				    {Str(t.leaf.relid), attnum, std::string(action), last[0], key_array});
				o.done += changed;
				o.batches++;
				if (std::string(action) == "anonymize")
					summary_.rows_anonymized += changed;
				else
					summary_.values_purged += changed;
				UpdateDetail(t, c.info.facts.name, action, o, "running");
				/* the next batch starts after this one's last row */
				if (params.size() == 1) {
					window += " AND " + t.age_sql + " >= $2::" + t.age_type + " AND " +
					          KeysetColumns(t) + " > " + KeysetParams(t, 2);
					params.insert(params.end(), last.begin(), last.end());
					types.insert(types.end(), keyset_types.begin(), keyset_types.end());
				} else {
					for (size_t i = 0; i < nkey; i++)
						params[1 + i] = last[i];
				}
			});
			skipped += batch_skipped;
			if (found < size)
				break;
			size = NextBatchSize(size, Elapsed(batch_start));
		}
		/* nothing due is left ahead of the final watermark (behind it is the late-row queue's) */
		std::string left =
		    AccountLeftover(t, o, "SELECT 1 FROM " + t.leaf.qualified + " r WHERE " + window,
		                    params, types, horizon);
		if (skipped > 0)
			left = Str(skipped) + " row(s) of its batches were left unchanged behind the " +
			       "watermark: a BEFORE UPDATE trigger skipped them (returned NULL)" +
			       (left.empty() ? "" : "; " + left);
		Finish(t, c.info.facts.name, action, o, started, left);
	}

	/* Removes the late-row queue entries of the rows in `processed` (key columns as text). */
	/*
	 * The queue holds keys as text (written in the application's session);
	 * telling which name the processed rows means reading them as the key's
	 * types, whose domains are the owner's code: the owner compares, the
	 * extension deletes.  Nothing queued, nothing to compare (the common case).
	 */
	void ForgetQueued(const Target &t, const std::string &attnum, const SqlResult &processed)
	{
		SqlResult queued = Sql("SELECT row_key::text FROM retention.late_row WHERE relid = "
		                       "$1::oid AND attnum = $2::int2",
		                       {Str(t.leaf.relid), attnum});
		if (queued.rows.empty())
			return;
		std::vector<SqlValue> entries;
		for (const SqlRow &row : queued.rows)
			entries.push_back(row[0]);
		std::vector<SqlValue> p{ArrayLiteral(entries)};
		std::string arrays;
		std::string names;
		for (size_t i = 0; i < t.key.size(); i++) {
			std::vector<SqlValue> column;
			for (const SqlRow &row : processed.rows)
				column.push_back(row[i]);
			p.push_back(ArrayLiteral(column));
			arrays += (i > 0 ? ", $" : "$") + Str(2 + i) + "::" + t.key_types[i] + "[]";
			names += (i > 0 ? ", " : "") + QuoteIdent(t.key[i]);
		}
		/* unnest(a, b) is special syntax, never qualified; search_path is pg_catalog here */
		SqlResult done = OwnerSql(t.leaf.relid,
		                          "SELECT l.row_key::text FROM (SELECT k::text[] AS row_key FROM "
		                          "pg_catalog.unnest($1::text[]) AS k) l WHERE EXISTS (SELECT 1 "
		                          "FROM unnest(" +
		                              arrays + ") AS u(" + names + ") WHERE " +
		                              QueueKeyMatches(t, "l", "u") + ")",
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

	/* k1, k2: the key columns (qualified by alias when given). */
	static std::string KeyList(const Target &t, const std::string &alias)
	{
		std::string sql;
		for (const std::string &k : t.key)
			sql += (sql.empty() ? "" : ", ") + (alias.empty() ? "" : alias + ".") + QuoteIdent(k);
		return sql;
	}

	/* A queue entry's text key, parsed back to the key types, equals the row's key. */
	static std::string QueueKeyMatches(const Target &t, const std::string &queue,
	                                   const std::string &row)
	{
		std::string sql;
		for (size_t i = 0; i < t.key.size(); i++)
			sql += (i > 0 ? " AND " : "") + queue + ".row_key[" + Str(i + 1) +
			       "]::" + t.key_types[i] + " = " + row + "." + QuoteIdent(t.key[i]);
		return sql;
	}

	/*
	 * Rows the write trigger queued (written already due) that lie behind the
	 * watermark, where the scan will not look: processed here, in one batch,
	 * and the whole queue of this stage consumed (rows ahead of the
	 * watermark are the scan's).
	 */
	int64_t ProcessLateRows(const Target &t, const ColumnInfo &column, const char *action,
	                        const std::string &expression, const std::string &cutoff,
	                        const std::vector<SqlValue> &mark)
	{
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
		Batch([&] {
			/* the queue is ours, the table its owner's: two statements, one batch */
			std::string elements_of_key;
			for (size_t i = 0; i < t.key.size(); i++)
				elements_of_key += (i > 0 ? ", row_key[" : "row_key[") + Str(i + 1) + "]";
			SqlResult queued_keys = Sql("DELETE FROM retention.late_row WHERE relid = $1::oid AND "
			                            "attnum = $2::int2 RETURNING " +
			                                elements_of_key,
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
			/* o: the queued rows with their age before the UPDATE (see UpdateValues) */
			/* unnest(a, b) is special syntax, never qualified; search_path is pg_catalog here */
			SqlResult r = OwnerSql(
			    t.leaf.relid,
			    "WITH q AS (SELECT ARRAY[" + elements + "] AS row_key FROM unnest(" + arrays +
			        ") AS u(" + names + ")), upd AS (UPDATE " + t.leaf.qualified + " r SET " +
			        QuoteIdent(column.facts.name) + " = " + expression +
			        " FROM (SELECT q.row_key, x." + t.age_sql + " AS pgr_old_age FROM q JOIN " +
			        t.leaf.qualified + " x ON " + QueueKeyMatches(t, "q", "x") +
			        " FOR UPDATE OF x) o WHERE " + QueueKeyMatches(t, "o", "r") + " AND r." +
			        t.age_sql + " < $1::" + t.age_type + " AND " + behind + " RETURNING r." +
			        t.age_sql +
			        " IS DISTINCT FROM o.pgr_old_age AS moved) "
			        "SELECT count(*), count(*) FILTER (WHERE moved) FROM upd",
			    params);
			changed = r.ScalarInt();
			FailIfAgeMoved(t, std::stoll(r.rows.at(0).at(1).value()), action);
			if (std::string(action) == "anonymize")
				summary_.rows_anonymized += changed;
			else
				summary_.values_purged += changed;
		});
		return changed;
	}

	/* ---- archive and purge rows ---------------------------------------- */

	int64_t CountBlocked(const Target &t, const std::string &cutoff, std::string &blocked_by)
	{
		int64_t blocked = 0;
		Target one = t;
		for (const IncomingKey &k : t.blockers) {
			one.blockers = {k};
			std::string not_blocked = NotBlocked(one, "r");
			/* rows due but referenced: the NOT EXISTS turned into EXISTS */
			std::string exists = not_blocked.substr(std::string(" AND NOT").size());
			int64_t n = OwnerSql(t.leaf.relid,
			                     "SELECT count(*) FROM " + t.leaf.qualified + " r WHERE r." +
			                         t.age_sql + " < $1::" + t.age_type + " AND" + exists,
			                     {cutoff})
			                .ScalarInt();
			if (n > 0) {
				blocked += n;
				blocked_by += (blocked_by.empty() ? "" : ", ") + k.child_qualified;
			}
		}
		return blocked;
	}

	/*
	 * Purges or archives the due rows in batches.  Each batch takes the
	 * oldest due rows from where the previous one ended (its index scan
	 * does not step again over the rows already gone), skipping the rows an
	 * application transaction holds (FOR UPDATE SKIP LOCKED): the run never
	 * waits for them, and leaves them to the next run.
	 */
	void MoveRows(const Target &t, const char *action, const Delay &delay)
	{
		bool archive = std::string(action) == "archive";
		std::string cutoff = Cutoff(t, delay);
		std::string due_rows = "SELECT r.ctid FROM " + t.leaf.qualified + " r WHERE r." +
		                       t.age_sql + " < $1::" + t.age_type + NotBlocked(t, "r");
		/* a row past its purge delay is never archived, even one the purge stage found locked */
		if (archive && t.declared->policy->purge_after)
			due_rows += " AND NOT r." + t.age_sql + " < " +
			            QuoteLiteral(Cutoff(t, *t.declared->policy->purge_after)) +
			            "::" + t.age_type;
		/* rows a forget left in place are never sealed again under a new key */
		if (archive)
			due_rows += SkipForgottenRows(t.declared->info.relid, t.key, "r");
		StageOutcome o;
		std::string horizon = StageHorizon();
		o.due = Count(t, "SELECT count(*) FROM (" + due_rows + ") d", {cutoff});
		o.blocked = CountBlocked(t, cutoff, o.blocked_by);
		summary_.rows_blocked += o.blocked;
		StartDetail(t, "", action, o.due);
		auto started = std::chrono::steady_clock::now();
		int64_t size = std::min<int64_t>(1000, batch_max_rows);
		std::string purge_delay = "";
		if (archive && t.declared->policy->purge_after)
			purge_delay = t.declared->policy->purge_after->ToPgInterval();
		SqlValue from; /* the newest age the previous batch moved */
		while (o.due > 0 && !StopRequested()) {
			int64_t moved = 0;
			auto batch_start = std::chrono::steady_clock::now();
			Batch([&] {
				std::string rows = due_rows;
				if (from)
					rows += " AND r." + t.age_sql + " >= $5::" + t.age_type;
				rows += " ORDER BY r." + t.age_sql + " LIMIT $2::bigint FOR UPDATE SKIP LOCKED";
				/* $3 and $4 serve the archive's INSERT; unused parameters are typed text */
				std::vector<SqlValue> p{cutoff, Str(size), Str(summary_.run_id),
				                        purge_delay.empty() ? SqlValue() : SqlValue(purge_delay),
				                        from};
				SqlResult result =
				    archive
				        ? ArchiveRows(t, rows, p)
				        : OwnerSql(t.leaf.relid,
				                   "WITH gone AS (DELETE FROM " + t.leaf.qualified +
				                       " WHERE ctid = ANY (ARRAY(" + rows + ")) RETURNING " +
				                       t.age_sql +
				                       " AS age) SELECT count(*), max(gone.age)::text FROM gone",
				                   p);
				moved = result.ScalarInt();
				if (!result.rows.empty() && result.rows[0].size() > 1 && result.rows[0][1])
					from = result.rows[0][1];
				o.done += moved;
				o.batches++;
				(archive ? summary_.rows_archived : summary_.rows_purged) += moved;
				UpdateDetail(t, "", action, o, "running");
			});
			if (moved < size)
				break;
			size = NextBatchSize(size, Elapsed(batch_start));
		}
		std::string left = AccountLeftover(t, o, due_rows, {cutoff}, {TEXTOID}, horizon);
		Finish(t, "", action, o, started, left);
	}

	/*
	 * Moves one batch of due rows into the archive: the table's owner
	 * deletes them and hands back each row as JSON with its subject and age
	 * (the owner's casts and triggers run as the owner); the extension seals
	 * them and writes its archive.  One subtransaction: both or neither.
	 * Returns the count archived and the newest age moved, in the age's type.
	 */
	SqlResult ArchiveRows(const Target &t, const std::string &due_rows,
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
		SqlResult moved = OwnerSql(
		    t.leaf.relid,
		    "WITH moved AS (DELETE FROM " + t.leaf.qualified + " WHERE ctid = ANY (ARRAY(" +
		        due_rows + ")) RETURNING *) SELECT " + subject_id + ", m." + t.age_sql +
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
		int64_t archived = WriteArchivedRows(d.info.relid, d.info.qualified, subject, p[3], *p[2],
		                                     ids, aged, payloads);
		if (archived != static_cast<int64_t>(moved.rows.size()))
			throw BatchFailed{"archived " + Str(archived) + " of " + Str(moved.rows.size()) +
			                      " rows deleted from " + t.leaf.qualified,
			                  "XX000"};
		return SqlResult{archived, {{SqlValue(Str(archived)), moved.rows[0][3]}}};
	}

	/* A range partition on the age column whose upper bound has passed goes whole. */
	void DropExpiredPartitions(const DeclaredTable &t, const Delay &delay)
	{
		if (t.info.relkind != RELKIND_PARTITIONED_TABLE)
			return;
		SqlResult parts =
		    Sql("SELECT c.oid::text, (SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM "
		        "pg_catalog.pg_namespace n WHERE n.oid = c.relnamespace), "
		        "  substring(pg_catalog.pg_get_expr(c.relpartbound, c.oid) FROM 'TO "
		        "\\(''([^'']+)''\\)'), "
		        "  CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint::text END "
		        "FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
		        "JOIN pg_catalog.pg_partitioned_table pt ON pt.partrelid = i.inhparent "
		        "WHERE i.inhparent = $1::oid AND c.relkind = 'r' AND pt.partstrat = 'r' "
		        "AND pt.partnatts = 1 AND pt.partattrs[0] = "
		        "  (SELECT attnum FROM pg_catalog.pg_attribute WHERE attrelid = $1::oid AND "
		        "attname = $2)",
		        {Str(t.info.relid), *t.policy->age_column}, true);
		if (!LoadReferencingKeys({t.info.relid}).empty())
			return; /* rows may be referenced: the row path checks them one by one */
		Target probe;
		probe.declared = &t;
		probe.leaf = t.info;
		const ColumnInfo *age = t.info.FindColumn(*t.policy->age_column);
		probe.age_type = TypeName(age->type_oid);
		std::string cutoff = Cutoff(probe, delay);
		auto leaf_of = [](const SqlRow &part) {
			return static_cast<Oid>(std::stoul(part[0].value()));
		};
		for (const SqlRow &part : parts.rows) {
			if (!part[2] || StopRequested())
				continue;
			bool expired =
			    OwnerSql(t.info.relid, "SELECT $1::" + probe.age_type + " <= $2::" + probe.age_type,
			             {part[2], cutoff})
			        .Scalar() == SqlValue("t");
			if (!expired)
				continue;
			StageOutcome o;
			/* the planner's estimate when there is one: counting would read the partition */
			o.due = part[3] ? std::stoll(*part[3])
			                : OwnerSql(leaf_of(part), "SELECT count(*) FROM " + part[1].value())
			                      .ScalarInt();
			Target target = probe;
			target.leaf = LoadTableInfo(static_cast<Oid>(std::stoul(part[0].value())));
			StartDetail(target, "", "drop partition", o.due);
			auto started = std::chrono::steady_clock::now();
			Batch([&] {
				OwnerSql(t.info.relid, "ALTER TABLE " + t.info.qualified + " DETACH PARTITION " +
				                           part[1].value());
				OwnerSql(leaf_of(part), "DROP TABLE " + part[1].value());
				o.done = o.due;
				o.batches = 1;
				summary_.rows_purged += o.due;
			});
			Finish(target, "", "drop partition", o, started);
		}
	}

	/*
	 * Expired archived rows, oldest first: the order makes the planner walk the
	 * purge_after index (the archive table rarely has statistics), so the cost
	 * follows the rows expired, not the archive's size.
	 */
	void PurgeArchive()
	{
		int64_t size = batch_max_rows;
		for (;;) {
			int64_t purged = 0;
			Batch([&] {
				purged = Sql("DELETE FROM retention_archive.archived_row WHERE id = ANY (ARRAY("
				             "SELECT id FROM retention_archive.archived_row WHERE purge_after < "
				             "$1::timestamptz ORDER BY purge_after LIMIT $2::bigint))",
				             {now_, Str(size)})
				             .processed;
				summary_.archive_purged += purged;
			});
			if (purged < size || StopRequested())
				break;
		}
	}
};

/* Commits through SPI: the procedure runs non-atomically. */
class ProcedureTransactions : public TransactionControl
{
public:
	explicit ProcedureTransactions(bool atomic) : atomic_(atomic) {}
	void CommitAndContinue() override
	{
		if (atomic_)
			return; /* called inside a transaction block: one transaction for all */
		PgCall([] {
			SPI_commit();
			SPI_start_transaction();
		});
	}

private:
	bool atomic_;
};

} // namespace

namespace
{

/*
 * Values cross the engine as text (watermarks, cutoffs): a run renders them
 * in one fixed style, whatever the session's, so a watermark written by the
 * worker (UTC) reads back the same in a session set to another time zone.
 */
class FixedDateStyle
{
public:
	FixedDateStyle()
	{
		datestyle_ = Setting("DateStyle");
		timezone_ = Setting("TimeZone");
		lock_timeout_ = Setting("lock_timeout");
		Set("DateStyle", "ISO, YMD");
		Set("TimeZone", "UTC");
		/* no statement of the run waits longer than a batch would for a lock */
		Set("lock_timeout", (std::to_string(lock_timeout_ms) + "ms").c_str());
	}
	void Restore()
	{
		Set("DateStyle", datestyle_.c_str());
		Set("TimeZone", timezone_.c_str());
		Set("lock_timeout", lock_timeout_.c_str());
	}

private:
	std::string datestyle_;
	std::string timezone_;
	std::string lock_timeout_;

	static std::string Setting(const char *name)
	{
		const char *value = PgCall([&] { return GetConfigOption(name, false, false); });
		return value != nullptr ? value : "";
	}
	static void Set(const char *name, const char *value)
	{
		PgCall([&] { SetConfigOption(name, value, PGC_USERSET, PGC_S_SESSION); });
	}
};

} // namespace

RunSummary RunLifecycle(const RunOptions &options, TransactionControl &transactions)
{
	SuppressLateRowQueue engine_writes; /* the run's own updates are not late writes */
	FixedDateStyle style;
	try {
		RunSummary summary = Engine(options, transactions).Run();
		style.Restore();
		return summary;
	} catch (...) {
		if (!options.dry_run)
			Engine::ReleaseRunLock();
		style.Restore();
		throw;
	}
}

int64_t MarkCrashedRuns()
{
	/*
	 * A run in progress holds the run lock (Engine::AcquireRunLock).  The
	 * counts come from run_detail, committed with each batch: the history
	 * says what the crashed run did (archived rows purged are not in it).
	 */
	return Sql("UPDATE retention.run_history h SET status = 'crashed', finished_at = "
	           "clock_timestamp(), message = 'the server or the backend stopped during the run', "
	           "rows_minimized = d.minimized, rows_anonymized = d.anonymized, values_purged = "
	           "d.values_purged, rows_archived = d.archived, rows_purged = d.purged, "
	           "rows_blocked = d.blocked, tables_failed = d.failed "
	           "FROM (SELECT h2.run_id, "
	           "  coalesce(sum(x.done) FILTER (WHERE x.action = 'minimize'), 0) AS minimized, "
	           "  coalesce(sum(x.done) FILTER (WHERE x.action = 'anonymize'), 0) AS anonymized, "
	           "  coalesce(sum(x.done) FILTER (WHERE x.action = 'purge_value'), 0) AS "
	           "values_purged, "
	           "  coalesce(sum(x.done) FILTER (WHERE x.action = 'archive'), 0) AS archived, "
	           "  coalesce(sum(x.done) FILTER (WHERE x.action IN ('purge', 'drop partition')), 0) "
	           "AS purged, "
	           "  coalesce(sum(x.blocked), 0) AS blocked, "
	           "  count(DISTINCT x.table_name) FILTER (WHERE x.status = 'failed') AS failed "
	           "  FROM retention.run_history h2 LEFT JOIN retention.run_detail x "
	           "  ON x.run_id = h2.run_id WHERE h2.status = 'running' GROUP BY h2.run_id) d "
	           "WHERE d.run_id = h.run_id AND h.status = 'running' AND NOT EXISTS (SELECT 1 FROM "
	           "pg_catalog.pg_locks l "
	           "WHERE l.locktype = 'advisory' AND l.database = $2::oid AND l.classid = $1::oid "
	           "AND l.objid = $2::oid AND l.objsubid = 2 AND l.granted AND l.pid = h.backend_pid)",
	           {Str(static_cast<uint32_t>(0x52455431)), Str(MyDatabaseId)})
	    .processed;
}

int64_t PruneRunHistory()
{
	return Sql("DELETE FROM retention.run_history WHERE started_at < clock_timestamp() - "
	           "make_interval(days => $1::int) AND status <> 'running'",
	           {Str(history_days)})
	    .processed;
}

void DefineLifecycleSettings()
{
	PgCall([] {
		DefineCustomIntVariable(
		    "retention.batch_target_ms", "Time a lifecycle batch aims at, in milliseconds.",
		    "Each batch is committed; row locks are held at most this long.", &batch_target_ms, 100,
		    1, 60000, PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
		DefineCustomIntVariable("retention.batch_max_rows", "Most rows in one lifecycle batch.",
		                        NULL, &batch_max_rows, 10000, 1, 1000000, PGC_SUSET, 0, NULL, NULL,
		                        NULL);
		DefineCustomIntVariable("retention.lock_timeout_ms",
		                        "How long a batch waits for a row lock held by the application.",
		                        "A batch that waits longer is rolled back and retried.",
		                        &lock_timeout_ms, 200, 1, 60000, PGC_SUSET, GUC_UNIT_MS, NULL, NULL,
		                        NULL);
		DefineCustomIntVariable("retention.history_days", "Days of run history kept.", NULL,
		                        &history_days, 90, 1, 36500, PGC_SIGHUP, 0, NULL, NULL, NULL);
	});
}

/* CALL retention.run(dry_run boolean DEFAULT false) */
PGR_FUNCTION(retention_run)
{
	bool dry_run = PG_ARGISNULL(0) ? false : PG_GETARG_BOOL(0);
	bool atomic = !(fcinfo->context != nullptr && IsA(fcinfo->context, CallContext) &&
	                !castNode(CallContext, fcinfo->context)->atomic);
	PgCall([&] {
		if (SPI_connect_ext(atomic ? 0 : SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
	});
	if (atomic)
		PgCall([] {
			ereport(NOTICE,
			        (errmsg("retention.run() inside a transaction block runs as one "
			                "transaction"),
			         errhint("CALL it outside BEGIN ... COMMIT to commit batch by batch.")));
		});
	ProcedureTransactions transactions(atomic);
	RunOptions options;
	options.dry_run = dry_run;
	options.now = TestClockSet() ? RetentionNow() : 0; /* tests run at a chosen instant */
	MarkCrashedRuns();
	RunSummary summary = RunLifecycle(options, transactions);
	/* a procedure cannot VACUUM: say what to vacuum (the worker does it itself) */
	SqlResult touched = Sql("SELECT string_agg(DISTINCT table_name::text, ', ') FROM "
	                        "retention.run_detail WHERE run_id = $1::bigint AND vacuum_pending",
	                        {Str(summary.run_id)});
	if (touched.Scalar())
		PgCall([&] {
			ereport(
			    NOTICE,
			    (errmsg("old values remain in dead tuples of %s until they are vacuumed",
			            touched.Scalar()->c_str()),
			     errhint(
			         "Run VACUUM on them; the background worker vacuums what its runs touch.")));
		});
	PgCall([&] {
		ereport(NOTICE,
		        (errmsg("run %lld %s: %lld anonymized, %lld values purged, %lld archived, %lld "
		                "purged, %lld archived rows purged, %lld minimized, %lld blocked, %d "
		                "tables failed",
		                (long long)summary.run_id, summary.status.c_str(),
		                (long long)summary.rows_anonymized, (long long)summary.values_purged,
		                (long long)summary.rows_archived, (long long)summary.rows_purged,
		                (long long)summary.archive_purged, (long long)summary.rows_minimized,
		                (long long)summary.rows_blocked, summary.tables_failed)));
		SPI_finish();
	});
	return (Datum)0;
}

} // namespace pg_retention::pg

namespace pg_retention::pg
{

namespace
{

class NoCommits : public TransactionControl
{
public:
	void CommitAndContinue() override {}
};

} // namespace

/*
 * preview(): what a run would do now, per table, column and action.  It is
 * a dry run (the work done and rolled back), so its counts are exactly
 * those of a real run started at the same instant.
 */
PGR_FUNCTION(retention_preview)
{
	ResultSet out(fcinfo);
	RunOptions options;
	options.dry_run = true;
	options.notices = false;
	options.record_history = false;
	NoCommits none;
	SuppressLateRowQueue engine_writes;
	FixedDateStyle style;
	Engine engine(options, none);
	try {
		engine.Run();
	} catch (...) {
		style.Restore();
		throw;
	}
	style.Restore();
	for (const DetailRecord &d : engine.details()) {
		if (d.outcome.done == 0 && d.outcome.blocked == 0 && d.error.empty())
			continue;
		out.Add({d.relid, d.column.empty() ? Value() : Value(d.column), d.action,
		         static_cast<int64_t>(d.outcome.done), static_cast<int64_t>(d.outcome.blocked),
		         d.outcome.blocked_by.empty() ? Value() : Value(d.outcome.blocked_by),
		         d.error.empty() ? Value() : Value(d.error)});
	}
	return (Datum)0;
}

} // namespace pg_retention::pg
