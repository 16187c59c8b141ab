/*-------------------------------------------------------------------------
 *
 * sql_functions.cpp
 *		The lifecycle's SQL entry points: the procedure retention.run() and
 *		the function retention.preview().
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/sql_functions.cpp
 *-------------------------------------------------------------------------
 */
#include "write_path/late_rows.hpp"
#include "lifecycle/engine.hpp"
#include "lifecycle/session.hpp"
#include "boundary/result_set.hpp"
#include "worker/worker_settings.hpp"
#include "catalog/schema_version.hpp"

extern "C" {
#include "utils/timestamp.h"
}

namespace pg_retention::pg
{

using lifecycle::DetailRecord;
using lifecycle::Engine;
using lifecycle::FixedDateStyle;
using lifecycle::NoCommits;
using lifecycle::ProcedureTransactions;
using lifecycle::Str;

/* CALL retention.run(dry_run boolean DEFAULT false) */
PGR_FUNCTION(retention_run)
{
	RequireCurrentSchema("retention.run()");
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

/*
 * preview(): what a run would do now, per table, column and action.  It is
 * a dry run (the work done and rolled back), so its counts are exactly
 * those of a real run started at the same instant.
 */
PGR_FUNCTION(retention_preview)
{
	RequireCurrentSchema("retention.preview()");
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