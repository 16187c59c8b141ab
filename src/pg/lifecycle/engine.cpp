/*-------------------------------------------------------------------------
 *
 * engine.cpp
 *		The lifecycle engine's driver (see lifecycle.hpp, engine.hpp and
 *		docs/lifecycle.md).
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
 *		src/pg/lifecycle/engine.cpp
 *-------------------------------------------------------------------------
 */
#include <map>
#include <set>
#include <string>
#include <vector>

#include "lifecycle/engine.hpp"

#include "archive/archive.hpp"
#include "rights/forget.hpp"
#include "write_path/late_rows.hpp"
#include "lifecycle/session.hpp"
#include "methods/method_sql.hpp"
#include "boundary/owner_sql.hpp"
#include "catalog/policy_store.hpp"
#include "rights/subject_path.hpp"
#include "catalog/table_order.hpp"
#include "catalog/citus_checks.hpp"
#include "boundary/compat.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/timestamp.h"
}

namespace pg_retention::pg::lifecycle
{

namespace
{

bool run_lock_held = false;

} // namespace

std::vector<std::string> ColumnsOf(const SqlResult &r, size_t column)
{
	std::vector<std::string> values;
	for (const SqlRow &row : r.rows)
		values.push_back(row.at(column).value_or(""));
	return values;
}

Engine::Engine(const RunOptions &options, TransactionControl &tx)
    : options_(options), tx_(tx), batcher_(tx, !options.dry_run, [this] { RequireRunLock(); })
{
	/* throttled: the worker by default, a manual run when retention.cost_delay says so */
	double delay = cost_delay_ms >= 0 ? cost_delay_ms : options.started_by == "worker" ? 2.0 : 0;
	if (!options.dry_run) /* a dry run holds its locks to the end: no sleeping */
		batcher_.Throttle(delay, cost_limit);
}

RunSummary Engine::Run()
{
	ClearDataKeyCache();
	now_ =
	    Sql(options_.now != 0 ? "SELECT $1::timestamptz::text" : "SELECT clock_timestamp()::text",
	        {options_.now != 0 ? SqlValue(TimestampText(options_.now)) : SqlValue()})
	        .Scalar()
	        .value();
	if (!options_.dry_run) {
		AcquireRunLock();
		summary_.run_id = InsertHistory();
		/*
		 * The queue's entries of a dropped table or column: no stage will
		 * ever take them, and every batch reads the queue (it has no index).
		 * Looked for first: a DELETE of nothing is still a write to the queue.
		 */
		std::string orphans = "FROM retention.late_row l WHERE NOT EXISTS (SELECT FROM "
		                      "pg_catalog.pg_attribute a WHERE a.attrelid = l.relid AND "
		                      "a.attnum = l.attnum AND NOT a.attisdropped)";
		if (Sql("SELECT EXISTS (SELECT " + orphans + ")::text", {}).Scalar() == SqlValue("true"))
			Sql("DELETE " + orphans, {});
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

/*
 * One real run at a time per database: two runs reading the same
 * watermark would anonymize the same rows twice.  A session-level lock,
 * so it survives the run's commits and goes with its backend.
 */
void Engine::AcquireRunLock()
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
void Engine::RequireRunLock()
{
	if (options_.dry_run || !run_lock_held)
		return;
	/* the lock pg_try_advisory_lock(int4, int4) takes: no pg_locks read per batch */
	LOCKTAG tag;
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(kRunLockClass),
	                     static_cast<uint32>(MyDatabaseId), 2);
	if (PgCall([&] { return compat::HoldsLock(&tag, ExclusiveLock); }))
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

/* Releases the run lock; safe after an error (a session lock needs no transaction). */
void Engine::ReleaseRunLock()
{
	if (!run_lock_held)
		return;
	run_lock_held = false;
	PgCall([] {
		DirectFunctionCall2(pg_advisory_unlock_int4, Int32GetDatum(kRunLockClass),
		                    Int32GetDatum((int32)MyDatabaseId));
	});
}

std::string Engine::TimestampText(TimestampTz ts)
{
	const char *text = PgCall([&] { return timestamptz_to_str(ts); });
	return text;
}

bool Engine::StopRequested() const
{
	if (options_.should_stop && options_.should_stop())
		return true;
	return options_.deadline != 0 && GetCurrentTimestamp() >= options_.deadline;
}

/* Children before parents, so a due child row never blocks its due parent. */
std::vector<const DeclaredTable *>
Engine::InProcessingOrder(const std::vector<DeclaredTable> &tables)
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

void Engine::ProcessTable(const DeclaredTable &t)
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
				if (c.policy.anonymize_after && c.policy.anonymize_using) {
					/* a method the shards cannot run is computed here (key_rows.cpp) */
					target.values_here = !RefusedOnCitus(target, *c.policy.anonymize_using).empty();
					UpdateValues(target, c, "anonymize", *c.policy.anonymize_after,
					             MethodSql(*c.policy.anonymize_using, QuoteIdent(c.info.facts.name),
					                       c.info));
					target.values_here = false;
				}
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

bool Engine::Paused(Oid relid)
{
	return Sql("SELECT 1 FROM retention.paused_table WHERE table_name = $1::oid", {Str(relid)})
	           .processed > 0;
}

std::string Engine::TypeName(Oid type)
{
	const char *name = PgCall([&] { return format_type_be(type); });
	return name;
}

Target Engine::MakeTarget(const DeclaredTable &t, Oid leaf, const std::vector<DeclaredTable> &all)
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
	for (const KeyColumn &k : LoadPrimaryKey(leaf)) {
		target.key.push_back(k.name);
		target.key_types.push_back(k.type_sql);
		target.key_type_oids.push_back(k.type_oid);
	}
	/* keys that keep a referenced row from going (a partition's own key counts for its root) */
	for (const ReferencingKey &k : LoadReferencingKeys({t.info.relid, leaf}))
		if (k.on_delete == 'a' || k.on_delete == 'r')
			target.blockers.push_back(
			    IncomingKey{k.child_qualified, k.columns, k.referenced_columns});
	if (t.policy && t.policy->subject)
		target.path = ResolveSubjectPath(t, all);
	target.citus = CitusRelationOf(leaf).kind;
	target.by_key = ByKey(target);
	return target;
}

} // namespace pg_retention::pg::lifecycle

namespace pg_retention::pg
{

RunSummary RunLifecycle(const RunOptions &options, TransactionControl &transactions)
{
	SuppressLateRowQueue engine_writes; /* the run's own updates are not late writes */
	lifecycle::FixedDateStyle style;
	try {
		RunSummary summary = lifecycle::Engine(options, transactions).Run();
		style.Restore();
		return summary;
	} catch (...) {
		if (!options.dry_run)
			lifecycle::Engine::ReleaseRunLock();
		style.Restore();
		throw;
	}
}

} // namespace pg_retention::pg
