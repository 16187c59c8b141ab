/*-------------------------------------------------------------------------
 *
 * late_rows.cpp
 *		Queueing rows written already due (see late_rows.hpp).
 *
 *		A row is queued for a stage when its age is within the stage's
 *		delay (plus retention.late_write_margin, for transactions that
 *		straddle a run's start) and it is new, its value changed, or its age
 *		moved backwards.  The run then processes queued rows that lie behind
 *		its watermark and drops the others, which its scan will reach.  A
 *		queued row whose value was already anonymized (its age moved back
 *		over the watermark) is anonymized again: the safe side.
 *
 *		Called AFTER the row is written, by retention_late_rows, whose UPDATE
 *		OF and WHEN (minimize.cpp) already left out rows set no watched
 *		column or age, rows far from due, and the engine's own writes.
 *
 * IDENTIFICATION
 *		src/pg/write_path/late_rows.cpp
 *-------------------------------------------------------------------------
 */
#include <map>
#include <string>
#include <vector>

#include "guc.hpp"
#include "write_path/late_rows.hpp"
#include "boundary/guard.hpp"
#include "boundary/spi_query.hpp"

extern "C" {
#include "catalog/pg_authid.h"
#include "utils/datum.h"
#include "utils/date.h"
#include "utils/timestamp.h"
}

namespace pg_retention::pg
{

namespace
{

int suppressed = 0; /* SuppressLateRowQueue scopes alive in this backend */

/* One watermarked stage of one column, compiled for one relation. */
struct LateCheck {
	AttrNumber column;
	Interval delay; /* the stage's delay less the margin */
};

/* One primary key column: how its value becomes the queue's text. */
struct QueuedKeyColumn {
	AttrNumber attnum;
	FmgrInfo output; /* in TopMemoryContext, like the plan */
};

struct LatePlan {
	uint64_t generation = 0;
	AttrNumber age = InvalidAttrNumber;
	Oid age_type = InvalidOid;
	std::vector<QueuedKeyColumn> key;
	bool key_needs_datestyle = false; /* a key column prints dates or times */
	std::vector<LateCheck> checks;
	/* each check's threshold, computed once per transaction (Due) */
	TimestampTz thresholds_at = DT_NOBEGIN;
	std::vector<TimestampTz> thresholds;
};

std::map<Oid, LatePlan> plans;

void AddCheck(LatePlan &plan, const TableInfo &here, const std::string &column, const Delay &delay)
{
	const ColumnInfo *c = here.FindColumn(column);
	if (c == nullptr)
		return;
	LateCheck check{c->attnum, {}};
	check.delay.month = delay.months;
	check.delay.day = delay.days;
	check.delay.time = -static_cast<int64>(late_write_margin_minutes) * USECS_PER_MINUTE;
	plan.checks.push_back(check);
}

/*
 * A key column's output function, looked up once per plan rather than per
 * row; notes whether its text depends on DateStyle (QueueLateRow pins it
 * only then: switching a setting per row costs more than the row's queueing).
 */
QueuedKeyColumn KeyColumnOf(Oid relid, AttrNumber attnum, bool &needs_datestyle)
{
	QueuedKeyColumn column{attnum, {}};
	PgCall([&] {
		Oid type = get_atttype(relid, attnum);
		switch (getBaseType(type)) {
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case NUMERICOID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case UUIDOID:
			break;
		default:
			needs_datestyle = true;
		}
		Oid output;
		bool varlena;
		getTypeOutputInfo(type, &output, &varlena);
		fmgr_info_cxt(output, &column.output, TopMemoryContext);
	});
	return column;
}

LatePlan &PlanFor(Oid relid)
{
	LatePlan &plan = plans[relid];
	if (plan.generation == PolicyGeneration())
		return plan;
	plan = LatePlan{};
	std::optional<DeclaredTable> table = FindDeclaredTable(relid);
	if (table && table->problem.empty() && table->policy && table->policy->age_column) {
		TableInfo here = relid == table->info.relid ? table->info : LoadTableInfo(relid);
		const ColumnInfo *age = here.FindColumn(*table->policy->age_column);
		std::vector<pg::KeyColumn> key = LoadPrimaryKey(relid);
		if (age != nullptr && !key.empty()) {
			plan.age = age->attnum;
			plan.age_type = age->type_oid;
			for (const pg::KeyColumn &k : key)
				plan.key.push_back(KeyColumnOf(relid, k.attnum, plan.key_needs_datestyle));
			for (const DeclaredColumn &c : table->columns) {
				if (c.policy.anonymize_after)
					AddCheck(plan, here, c.info.facts.name, *c.policy.anonymize_after);
				if (c.policy.purge_after)
					AddCheck(plan, here, c.info.facts.name, *c.policy.purge_after);
			}
		}
	}
	plan.generation = PolicyGeneration();
	return plan;
}

/* The age as a timestamptz, whatever its type; runs inside PgCall. */
TimestampTz AgeOf(Datum value, Oid type)
{
	switch (type) {
	case DATEOID:
		return DatumGetTimestampTz(DirectFunctionCall1(date_timestamptz, value));
	case TIMESTAMPOID:
		return DatumGetTimestampTz(DirectFunctionCall1(timestamp_timestamptz, value));
	default:
		return DatumGetTimestampTz(value);
	}
}

/*
 * The age before which each check of `plan` is due: its delay (already less
 * the margin) before this transaction's start.  Computed at the
 * transaction's first queued write, not per row.  Runs inside PgCall.
 */
const std::vector<TimestampTz> &Thresholds(LatePlan &plan)
{
	TimestampTz start = GetCurrentTransactionStartTimestamp();
	if (plan.thresholds_at != start || plan.thresholds.size() != plan.checks.size()) {
		plan.thresholds.clear();
		for (const LateCheck &check : plan.checks)
			plan.thresholds.push_back(DatumGetTimestampTz(
			    DirectFunctionCall2(timestamptz_mi_interval, TimestampTzGetDatum(start),
			                        IntervalPGetDatum(const_cast<Interval *>(&check.delay)))));
		plan.thresholds_at = start;
	}
	return plan.thresholds;
}

/* Which checks of `plan` the written row needs queued for; runs inside PgCall. */
List *ColumnsToQueue(TriggerData *trigger, HeapTuple written, LatePlan &plan)
{
	TupleDesc desc = RelationGetDescr(trigger->tg_relation);
	bool isnull;
	Datum age = heap_getattr(written, plan.age, desc, &isnull);
	if (isnull)
		return NIL;
	TimestampTz new_age = AgeOf(age, plan.age_type);
	bool updating = TRIGGER_FIRED_BY_UPDATE(trigger->tg_event);
	bool moved_back = false;
	if (updating) {
		bool old_null;
		Datum old_age = heap_getattr(trigger->tg_trigtuple, plan.age, desc, &old_null);
		moved_back = old_null || new_age < AgeOf(old_age, plan.age_type);
	}
	List *columns = NIL;
	const std::vector<TimestampTz> &thresholds = Thresholds(plan);
	for (size_t i = 0; i < plan.checks.size(); i++) {
		const LateCheck &check = plan.checks[i];
		if (!(new_age < thresholds[i]))
			continue;
		bool queue = !updating || moved_back;
		if (!queue) {
			Form_pg_attribute att = TupleDescAttr(desc, check.column - 1);
			bool new_null, old_null;
			Datum new_value = heap_getattr(written, check.column, desc, &new_null);
			Datum old_value = heap_getattr(trigger->tg_trigtuple, check.column, desc, &old_null);
			queue = new_null != old_null ||
			        (!new_null && !datumIsEqual(new_value, old_value, att->attbyval, att->attlen));
		}
		if (queue && !list_member_int(columns, check.column))
			columns = lappend_int(columns, check.column);
	}
	return columns;
}

/* The row's primary key as text[] (the late_row key); runs inside PgCall. */
Datum KeyArray(TriggerData *trigger, HeapTuple written, const LatePlan &plan)
{
	TupleDesc desc = RelationGetDescr(trigger->tg_relation);
	int n = static_cast<int>(plan.key.size());
	Datum *elements = static_cast<Datum *>(palloc(sizeof(Datum) * n));
	for (int i = 0; i < n; i++) {
		bool isnull;
		Datum v = heap_getattr(written, plan.key[i].attnum, desc, &isnull);
		elements[i] = CStringGetTextDatum(
		    isnull ? "" : OutputFunctionCall(const_cast<FmgrInfo *>(&plan.key[i].output), v));
	}
	return PointerGetDatum(construct_array(elements, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * The queue's INSERT, planned once per backend: parsing and planning it
 * for every queued row cost more than the row's own UPDATE.  A kept SPI
 * plan is a cached plan, replanned when retention.late_row changes.
 */
SPIPlanPtr EnqueuePlan()
{
	static SPIPlanPtr plan = nullptr;
	if (plan == nullptr) {
		Oid types[3] = {OIDOID, INT2OID, TEXTARRAYOID};
		SPIPlanPtr fresh = SPI_prepare("INSERT INTO retention.late_row (relid, attnum, row_key) "
		                               "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
		                               3, types);
		if (fresh == nullptr)
			elog(ERROR, "pg_retention: could not prepare the late-row queue's insert: %s",
			     SPI_result_code_string(SPI_result));
		if (SPI_keepplan(fresh) != 0)
			elog(ERROR, "pg_retention: could not keep the late-row queue's insert");
		plan = fresh;
	}
	return plan;
}

/*
 * Inserts the queue entries as the bootstrap superuser: application roles
 * have no privilege on retention.late_row, as with RI triggers' own checks.
 */
void Enqueue(Oid relid, List *columns, Datum key)
{
	Oid saved_user;
	int saved_context;
	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, saved_context | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ListCell *lc;
	SPIPlanPtr plan = EnqueuePlan();
	foreach (lc, columns) {
		Datum values[3] = {ObjectIdGetDatum(relid), Int16GetDatum((int16)lfirst_int(lc)), key};
		int rc = SPI_execute_plan(plan, values, NULL, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "pg_retention: could not queue a late row: %s", SPI_result_code_string(rc));
	}
	SPI_finish();
	SetUserIdAndSecContext(saved_user, saved_context);
}

} // namespace

bool HasWatermarkedStages(const DeclaredTable &table)
{
	for (const DeclaredColumn &c : table.columns)
		if (c.policy.anonymize_after || c.policy.purge_after)
			return true;
	return false;
}

SuppressLateRowQueue::SuppressLateRowQueue() noexcept
{
	suppressed++;
}

SuppressLateRowQueue::~SuppressLateRowQueue()
{
	suppressed--;
}

/*
 * retention._late_rows_queued(): false while SuppressLateRowQueue is alive.
 * Called by the WHEN of retention_late_rows, so that the engine's own writes
 * never reach the trigger.
 */
PGR_FUNCTION(retention_late_rows_queued)
{
	return BoolGetDatum(suppressed == 0);
}

void QueueLateRow(TriggerData *trigger, HeapTuple written)
{
	if (suppressed > 0)
		return;
	Oid relid = RelationGetRelid(trigger->tg_relation);
	LatePlan &plan = PlanFor(relid);
	if (plan.checks.empty())
		return;
	PgCall([&] {
		List *columns = ColumnsToQueue(trigger, written, plan);
		if (columns == NIL)
			return;
		/* keys in one text style whatever the session's, so the run can parse them back */
		int nest = plan.key_needs_datestyle ? NewGUCNestLevel() : -1;
		if (nest >= 0)
			(void)set_config_option("datestyle", "ISO, YMD", PGC_USERSET, PGC_S_SESSION,
			                        GUC_ACTION_SAVE, true, 0, false);
		Datum key = KeyArray(trigger, written, plan);
		if (nest >= 0)
			AtEOXact_GUC(true, nest);
		Enqueue(relid, columns, key);
	});
}

} // namespace pg_retention::pg
