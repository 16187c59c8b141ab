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
 *		The entry is a heap tuple the trigger inserts itself (Enqueue), in
 *		the write's (sub)transaction; the queue has no unique key, so a row
 *		written twice is queued twice and the run reads each row once.
 *
 *		On a Citus shard the row goes into the queue of the shard's node,
 *		under the shard's oid, with the digest of the value as written
 *		(ValueDigest): the coordinator's run drains those queues outside its
 *		transaction and processes a row only while it still holds that
 *		value (lifecycle/citus_late_queue.cpp).  The engine's own writes
 *		reach the shard through Citus's connections, in another backend
 *		than the run's: their WHERE calls retention._engine_write(), which
 *		marks the rest of that transaction as the engine's.
 *
 * IDENTIFICATION
 *		src/pg/write_path/late_rows.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "guc.hpp"
#include "write_path/late_rows.hpp"
#include "write_path/minimize.hpp"
#include "catalog/citus.hpp"
#include "boundary/compat.hpp"
#include "boundary/guard.hpp"
#include "boundary/spi_query.hpp"

extern "C" {
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_am.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_index.h"
#include "catalog/pg_trigger.h"
#include "executor/executor.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "common/md5.h"
#include "utils/datum.h"
#include "utils/date.h"
#include "utils/timestamp.h"
#include "utils/fmgrprotos.h"
}

namespace pg_retention::pg
{

namespace
{

/*
 * SuppressLateRowQueue scopes alive in this backend, by the trigger depth
 * (pg_trigger_depth()) they began at: the engine's own statements run at
 * that depth; a statement a trigger runs is one deeper, and is the
 * application's.  Depths past the last slot share it.
 */
constexpr int kDepthSlots = 32;
int suppressed_at[kDepthSlots] = {};
/* the transaction retention._engine_write() marked as the engine's (a shard's node) */
LocalTransactionId engine_write_lxid = InvalidLocalTransactionId;

int DepthSlot(int depth)
{
	return std::clamp(depth, 0, kDepthSlots - 1);
}

/* MyTriggerDepth, which trigger.c keeps to itself: what pg_trigger_depth() returns. */
int TriggerDepth()
{
	LOCAL_FCINFO(fcinfo, 0);
	InitFunctionCallInfoData(*fcinfo, nullptr, 0, InvalidOid, nullptr, nullptr);
	return DatumGetInt32(pg_trigger_depth(fcinfo));
}

/*
 * A statement that begins (or a WHEN evaluated) at trigger depth `depth` is
 * one of the engine's own (SuppressLateRowQueue began at that depth).  A
 * write that an application's trigger makes while the engine writes (an
 * audit trigger copying the old row into another labelled table) is one
 * deeper: it is queued like any application write.
 */
bool EngineWritesAt(int depth)
{
	return suppressed_at[DepthSlot(depth)] > 0;
}

/*
 * The run's write reaching a shard through Citus (retention._engine_write()
 * marked this transaction).  Honoured on shards only: on any other table the
 * engine writes in its own backend, so a session calling the function itself
 * cannot keep its rows out of a plain table's queue.
 */
bool MarkedEngineWrite()
{
	return engine_write_lxid != InvalidLocalTransactionId &&
	       engine_write_lxid == compat::MyLocalTransactionId();
}

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
	bool digest = false; /* a Citus shard: entries carry the value's digest */
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
	/* a shard's node queues for the coordinator, which drains it outside its transaction */
	plan.digest = !plan.checks.empty() && CitusRelationOf(relid).kind == CitusKind::Shard;
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
SPIPlanPtr EnqueuePlan(bool with_digest)
{
	static SPIPlanPtr plans[2] = {nullptr, nullptr};
	SPIPlanPtr &plan = plans[with_digest ? 1 : 0];
	if (plan == nullptr) {
		/*
		 * A Citus shard's entry carries its digest (a later write of the row
		 * queues its own).  Without a digest, the statement of a 0.1.0
		 * schema too, whose queue has a primary key (0.1.0's trigger queues
		 * until ALTER EXTENSION UPDATE).
		 */
		Oid types[4] = {OIDOID, INT2OID, TEXTARRAYOID, TEXTOID};
		SPIPlanPtr fresh =
		    with_digest ? SPI_prepare("INSERT INTO retention.late_row (relid, attnum, row_key, "
		                              "value_digest) VALUES ($1, $2, $3, $4)",
		                              4, types)
		                : SPI_prepare("INSERT INTO retention.late_row (relid, attnum, row_key) "
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
 * Inserts the queue entries through SPI as the bootstrap superuser:
 * application roles have no privilege on retention.late_row, as with RI
 * triggers' own checks.  For a queue QueueWritable refuses (0.1.0's).
 */
void EnqueueBySpi(Oid relid, List *columns, Datum key,
                  const std::vector<std::optional<std::string>> &digests)
{
	Oid saved_user;
	int saved_context;
	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, saved_context | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ListCell *lc;
	foreach (lc, columns) {
		const std::optional<std::string> &digest = digests[foreach_current_index(lc)];
		SPIPlanPtr plan = EnqueuePlan(digest.has_value());
		Datum values[4] = {ObjectIdGetDatum(relid), Int16GetDatum((int16)lfirst_int(lc)), key,
		                   digest ? CStringGetTextDatum(digest->c_str()) : (Datum)0};
		char nulls[4] = {' ', ' ', ' ', digest ? ' ' : 'n'};
		int rc = SPI_execute_plan(plan, values, nulls, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "pg_retention: could not queue a late row: %s", SPI_result_code_string(rc));
	}
	SPI_finish();
	SetUserIdAndSecContext(saved_user, saved_context);
}

/*
 * The queue as the trigger writes it: retention.late_row's oid and whether
 * Enqueue may insert into it directly.  Looked up again after any
 * change of the relation (ForgetQueue, a relcache callback).
 */
struct Queue {
	bool known = false;
	Oid relid = InvalidOid;
	bool direct = false;
};
Queue queue;

extern "C" void ForgetQueue(Datum, Oid relid)
{
	if (relid == InvalidOid || relid == queue.relid)
		queue.known = false;
}

/*
 * Whether the queue is 0.2.0's, which the trigger writes with heap inserts
 * of its own: a heap table of exactly (relid, attnum, row_key, queued_at,
 * value_digest), no unique index (a row written twice is queued twice, the
 * run reads each once), only indexes of plain columns, no trigger, rule or
 * check.  Anything else (0.1.0's queue, with its primary key) goes through
 * the SPI INSERT, which honours it all.  Runs inside PgCall.
 */
bool QueueWritable(Relation rel)
{
	static const struct {
		const char *name;
		Oid type;
	} columns[] = {{"relid", OIDOID},
	               {"attnum", INT2OID},
	               {"row_key", TEXTARRAYOID},
	               {"queued_at", TIMESTAMPTZOID},
	               {"value_digest", TEXTOID}};
	constexpr int n = sizeof(columns) / sizeof(columns[0]);
	TupleDesc desc = RelationGetDescr(rel);
	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relam != HEAP_TABLE_AM_OID ||
	    rel->trigdesc != nullptr || rel->rd_rules != nullptr || desc->natts != n ||
	    (desc->constr != nullptr && desc->constr->num_check > 0))
		return false;
	for (int i = 0; i < n; i++) {
		Form_pg_attribute att = TupleDescAttr(desc, i);
		if (att->attisdropped || att->attgenerated != '\0' || att->atttypid != columns[i].type ||
		    strcmp(NameStr(att->attname), columns[i].name) != 0)
			return false;
	}
	bool plain = true;
	List *indexes = RelationGetIndexList(rel);
	ListCell *lc;
	foreach (lc, indexes) {
		Relation index = index_open(lfirst_oid(lc), AccessShareLock);
		plain = plain && !index->rd_index->indisunique && !index->rd_index->indisexclusion &&
		        RelationGetIndexExpressions(index) == NIL &&
		        RelationGetIndexPredicate(index) == NIL;
		index_close(index, AccessShareLock);
	}
	list_free(indexes);
	return plain;
}

/* The queue, looked up once and again after it changed; runs inside PgCall. */
const Queue &QueueOf()
{
	static bool callback = false;
	if (!callback) {
		CacheRegisterRelcacheCallback(ForgetQueue, (Datum)0);
		callback = true;
	}
	if (!queue.known) {
		Oid schema = get_namespace_oid("retention", true);
		Oid relid = OidIsValid(schema) ? get_relname_relid("late_row", schema) : InvalidOid;
		if (!OidIsValid(relid))
			return queue; /* not known: SPI reports what is missing */
		Relation rel = table_open(relid, RowExclusiveLock);
		queue.direct = QueueWritable(rel);
		table_close(rel, NoLock);
		queue.relid = relid;
		queue.known = true;
	}
	return queue;
}

/*
 * Inserts the queue entries: heap tuples (and the entries of an index, if
 * one was added to the queue), written here rather than through an INSERT
 * per row, whose executor and plan cost the write more than the entry
 * itself (BENCHMARKS.md, "Writes on a labelled table").  In the write's own
 * (sub)transaction, like the SPI INSERT: an entry commits, rolls back and
 * survives a crash with the row that caused it.  No privilege is checked
 * (application roles have none on the queue: this is the extension writing
 * its own table).  Runs inside PgCall.
 */
void Enqueue(Oid relid, List *columns, Datum key,
             const std::vector<std::optional<std::string>> &digests)
{
	const Queue &q = QueueOf();
	if (!q.known || !q.direct) {
		EnqueueBySpi(relid, columns, key, digests);
		return;
	}
	Relation rel = table_open(q.relid, RowExclusiveLock);
	CatalogIndexState indexes = CatalogOpenIndexes(rel);
	TimestampTz now = GetCurrentTimestamp(); /* the column's default, clock_timestamp() */
	ListCell *lc;
	foreach (lc, columns) {
		const std::optional<std::string> &digest = digests[foreach_current_index(lc)];
		Datum values[5] = {ObjectIdGetDatum(relid), Int16GetDatum((int16)lfirst_int(lc)), key,
		                   TimestampTzGetDatum(now),
		                   digest ? CStringGetTextDatum(digest->c_str()) : (Datum)0};
		bool nulls[5] = {false, false, false, false, !digest};
		HeapTuple tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
		CatalogTupleInsertWithInfo(rel, tuple, indexes);
		heap_freetuple(tuple);
	}
	CatalogCloseIndexes(indexes);
	table_close(rel, NoLock);
}

} // namespace

bool HasWatermarkedStages(const DeclaredTable &table)
{
	for (const DeclaredColumn &c : table.columns)
		if (c.policy.anonymize_after || c.policy.purge_after)
			return true;
	return false;
}

namespace
{

/*
 * Whether `trigger` is the label provider's retention_late_rows: an AFTER
 * ROW trigger of that name calling retention.write_trigger().  Inside the
 * executor: catalog lookups only, no C++ object alive.
 */
bool IsLateRowTrigger(const Trigger &trigger)
{
	if (strcmp(trigger.tgname, kLateRowTrigger) != 0 || !TRIGGER_FOR_ROW(trigger.tgtype) ||
	    !TRIGGER_FOR_AFTER(trigger.tgtype))
		return false;
	char *name = get_func_name(trigger.tgfoid);
	bool ours = name != nullptr && strcmp(name, "write_trigger") == 0 &&
	            get_func_namespace(trigger.tgfoid) == get_namespace_oid("retention", true);
	if (name != nullptr)
		pfree(name);
	return ours;
}

ExecutorStart_hook_type previous_executor_start = nullptr;

/*
 * ExecutorStart hook: in a statement of the engine's own (EngineWritesAt),
 * retention_late_rows is switched off in the statement's own copy
 * of each result relation's trigger descriptor (InitResultRelInfo copies
 * it; the relation's and other statements' stay as they are).  Its WHEN is
 * false there anyway (_late_rows_queued()), but PostgreSQL reads the old
 * version of every row an UPDATE writes for an AFTER ROW trigger before it
 * evaluates any WHEN: about 5 % of the engine's UPDATE of a narrow table.
 * The after-row flags are recomputed from the other triggers, so the
 * table's own triggers (and foreign keys) fire as before.  A statement
 * begun outside the engine, or by a trigger of the engine's statement,
 * keeps the trigger, whose WHEN decides per row as always.
 */
void SkipLateRowTrigger(QueryDesc *query, int eflags)
{
	if (previous_executor_start != nullptr)
		previous_executor_start(query, eflags);
	else
		standard_ExecutorStart(query, eflags);
	if (!EngineWritesAt(TriggerDepth()) || query->estate == nullptr)
		return;
	ListCell *lc;
	foreach (lc, query->estate->es_opened_result_relations) {
		TriggerDesc *triggers = static_cast<ResultRelInfo *>(lfirst(lc))->ri_TrigDesc;
		if (triggers == nullptr)
			continue;
		bool found = false;
		bool insert_after = false;
		bool update_after = false;
		for (int i = 0; i < triggers->numtriggers; i++) {
			Trigger &trigger = triggers->triggers[i];
			if (IsLateRowTrigger(trigger)) {
				trigger.tgenabled = TRIGGER_DISABLED;
				found = true;
				continue;
			}
			insert_after =
			    insert_after || TRIGGER_TYPE_MATCHES(trigger.tgtype, TRIGGER_TYPE_ROW,
			                                         TRIGGER_TYPE_AFTER, TRIGGER_TYPE_INSERT);
			update_after =
			    update_after || TRIGGER_TYPE_MATCHES(trigger.tgtype, TRIGGER_TYPE_ROW,
			                                         TRIGGER_TYPE_AFTER, TRIGGER_TYPE_UPDATE);
		}
		if (found) {
			triggers->trig_insert_after_row = insert_after;
			triggers->trig_update_after_row = update_after;
		}
	}
}

} // namespace

void InstallEngineWriteHook()
{
	previous_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = SkipLateRowTrigger;
}

SuppressLateRowQueue::SuppressLateRowQueue() noexcept : depth_(DepthSlot(TriggerDepth()))
{
	suppressed_at[depth_]++;
}

SuppressLateRowQueue::~SuppressLateRowQueue()
{
	suppressed_at[depth_]--;
}

/*
 * retention._late_rows_queued(): false in a statement of the engine's own
 * (EngineWritesAt; a shard's trigger also skips a transaction
 * retention._engine_write() marked, MarkedEngineWrite).  Called by the WHEN
 * of retention_late_rows, at the writing statement's trigger depth, so that
 * the engine's own writes never reach the trigger (those the hook above
 * could not reach: a row routed to a partition).
 */
PGR_FUNCTION(retention_late_rows_queued)
{
	return BoolGetDatum(!EngineWritesAt(TriggerDepth()));
}

/*
 * retention._due_bound(age anyelement, delay interval) -> anyelement: the
 * bound in the WHEN of retention_late_rows, `NEW.age < _due_bound(NEW.age,
 * delay)`: now() - delay in the age's type (date, timestamp or timestamptz,
 * or a domain over one), a day later for date and timestamp, so that the
 * WHEN lets through every row the trigger may queue (the trigger checks the
 * exact condition).  Computed once per transaction and call site: the WHEN
 * is evaluated for every row written, where `now() - delay` (months
 * counted in the session's time zone) cost 0.17 µs a row.
 */
PGR_FUNCTION(retention_due_bound)
{
	struct Bound {
		TimestampTz now; /* the transaction start the bound was computed for */
		Oid type;
		int64_t value; /* DateADT, Timestamp or TimestampTz */
	};
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	auto *bound = static_cast<Bound *>(fcinfo->flinfo->fn_extra);
	if (bound == nullptr || bound->now != now) {
		Datum delay = PG_GETARG_DATUM(1);
		FmgrInfo *flinfo = fcinfo->flinfo;
		Bound b = PgCall([&] {
			Bound computed{now, getBaseType(get_fn_expr_argtype(flinfo, 0)), 0};
			Datum at =
			    DirectFunctionCall2(timestamptz_mi_interval, TimestampTzGetDatum(now), delay);
			switch (computed.type) {
			case TIMESTAMPTZOID:
				computed.value = DatumGetTimestampTz(at);
				break;
			case TIMESTAMPOID:
				computed.value = DatumGetTimestamp(DirectFunctionCall1(timestamptz_timestamp, at)) +
				                 USECS_PER_DAY;
				break;
			case DATEOID:
				computed.value = DatumGetDateADT(DirectFunctionCall1(timestamptz_date, at)) + 1;
				break;
			default:
				computed.type = InvalidOid;
			}
			return computed;
		});
		if (!OidIsValid(b.type))
			throw Error(
			    ErrorKind::DatatypeMismatch,
			    "retention._due_bound takes a date, timestamp or timestamptz", "",
			    "It is the bound in the WHEN of the late-row trigger, over a label's age column.");
		if (bound == nullptr) {
			bound = PgCall([&] {
				return static_cast<Bound *>(MemoryContextAlloc(flinfo->fn_mcxt, sizeof(Bound)));
			});
			fcinfo->flinfo->fn_extra = bound;
		}
		*bound = b;
	}
	switch (bound->type) {
	case DATEOID:
		return DateADTGetDatum(static_cast<DateADT>(bound->value));
	case TIMESTAMPOID:
		return TimestampGetDatum(bound->value);
	default:
		return TimestampTzGetDatum(bound->value);
	}
}

/*
 * retention._engine_write(anyelement): true, and the rest of this
 * transaction's writes are the engine's.  The run's UPDATEs of a Citus table
 * call it in their WHERE, over a column so that Citus evaluates it on the
 * shards' nodes.  Honoured by the triggers of shards only: a session that
 * calls it itself keeps its own rows out of a shard's queue (which writing
 * their age wrong does as well), never out of a plain table's.
 */
PGR_FUNCTION(retention_engine_write)
{
	engine_write_lxid = compat::MyLocalTransactionId();
	return BoolGetDatum(true);
}

int PinDigestStyles()
{
	int nest = NewGUCNestLevel();
	const char *settings[][2] = {{"datestyle", "ISO, YMD"},
	                             {"intervalstyle", "postgres"},
	                             {"timezone", "UTC"},
	                             {"bytea_output", "hex"},
	                             {"extra_float_digits", "1"}};
	for (const auto &s : settings)
		(void)set_config_option(s[0], s[1], PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
		                        false);
	return nest;
}

void UnpinDigestStyles(int nest)
{
	AtEOXact_GUC(true, nest);
}

void TextDigest(const char *text, char (&hex)[33])
{
	const char *error = nullptr;
	if (!pg_md5_hash(text, strlen(text), hex, &error))
		elog(ERROR, "pg_retention: could not compute a digest: %s", error ? error : "?");
}

void QueueLateRow(TriggerData *trigger, HeapTuple written)
{
	/* the trigger runs one deeper than the statement that wrote the row */
	if (EngineWritesAt(TriggerDepth() - 1))
		return;
	Oid relid = RelationGetRelid(trigger->tg_relation);
	LatePlan &plan = PlanFor(relid);
	if (plan.checks.empty() || (plan.digest && MarkedEngineWrite()))
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
		std::vector<std::optional<std::string>> digests(list_length(columns));
		if (plan.digest) {
			TupleDesc desc = RelationGetDescr(trigger->tg_relation);
			int styles = PinDigestStyles();
			ListCell *lc;
			foreach (lc, columns) {
				bool isnull;
				AttrNumber attnum = (AttrNumber)lfirst_int(lc);
				Datum v = heap_getattr(written, attnum, desc, &isnull);
				if (isnull)
					continue;
				Oid output;
				bool varlena;
				getTypeOutputInfo(TupleDescAttr(desc, attnum - 1)->atttypid, &output, &varlena);
				char hex[33];
				TextDigest(OidOutputFunctionCall(output, v), hex);
				digests[foreach_current_index(lc)] = std::string(hex);
			}
			UnpinDigestStyles(styles);
		}
		Enqueue(relid, columns, key, digests);
	});
}

} // namespace pg_retention::pg
