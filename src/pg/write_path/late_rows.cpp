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

struct LatePlan {
	uint64_t generation = 0;
	AttrNumber age = InvalidAttrNumber;
	Oid age_type = InvalidOid;
	std::vector<AttrNumber> key;
	std::vector<LateCheck> checks;
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

const LatePlan &PlanFor(Oid relid)
{
	LatePlan &plan = plans[relid];
	if (plan.generation == PolicyGeneration())
		return plan;
	plan = LatePlan{};
	std::optional<DeclaredTable> table = FindDeclaredTable(relid);
	if (table && table->problem.empty() && table->policy && table->policy->age_column) {
		TableInfo here = relid == table->info.relid ? table->info : LoadTableInfo(relid);
		const ColumnInfo *age = here.FindColumn(*table->policy->age_column);
		std::vector<KeyColumn> key = LoadPrimaryKey(relid);
		if (age != nullptr && !key.empty()) {
			plan.age = age->attnum;
			plan.age_type = age->type_oid;
			for (const KeyColumn &k : key)
				plan.key.push_back(k.attnum);
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

/* Whether `age` is past `delay` (already less the margin) at this transaction's start. */
bool Due(TimestampTz age, const Interval &delay)
{
	TimestampTz threshold = DatumGetTimestampTz(DirectFunctionCall2(
	    timestamptz_mi_interval, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
	    IntervalPGetDatum(const_cast<Interval *>(&delay))));
	return age < threshold;
}

/* Which checks of `plan` the written row needs queued for; runs inside PgCall. */
List *ColumnsToQueue(TriggerData *trigger, HeapTuple written, const LatePlan &plan)
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
	for (const LateCheck &check : plan.checks) {
		if (!Due(new_age, check.delay))
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
		Datum v = heap_getattr(written, plan.key[i], desc, &isnull);
		Oid output;
		bool varlena;
		getTypeOutputInfo(TupleDescAttr(desc, plan.key[i] - 1)->atttypid, &output, &varlena);
		elements[i] = CStringGetTextDatum(isnull ? "" : OidOutputFunctionCall(output, v));
	}
	return PointerGetDatum(construct_array(elements, n, TEXTOID, -1, false, TYPALIGN_INT));
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
	foreach (lc, columns) {
		Oid types[3] = {OIDOID, INT2OID, TEXTARRAYOID};
		Datum values[3] = {ObjectIdGetDatum(relid), Int16GetDatum((int16)lfirst_int(lc)), key};
		int rc = SPI_execute_with_args("INSERT INTO retention.late_row (relid, attnum, row_key) "
		                               "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
		                               3, types, values, NULL, false, 0);
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

void QueueLateRow(TriggerData *trigger, HeapTuple written)
{
	if (suppressed > 0)
		return;
	Oid relid = RelationGetRelid(trigger->tg_relation);
	const LatePlan &plan = PlanFor(relid);
	if (plan.checks.empty())
		return;
	PgCall([&] {
		List *columns = ColumnsToQueue(trigger, written, plan);
		if (columns == NIL)
			return;
		/* keys in one text style whatever the session's, so the run can parse them back */
		int nest = NewGUCNestLevel();
		(void)set_config_option("datestyle", "ISO, YMD", PGC_USERSET, PGC_S_SESSION,
		                        GUC_ACTION_SAVE, true, 0, false);
		Datum key = KeyArray(trigger, written, plan);
		AtEOXact_GUC(true, nest);
		Enqueue(relid, columns, key);
	});
}

} // namespace pg_retention::pg
