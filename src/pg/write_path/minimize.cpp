/*-------------------------------------------------------------------------
 *
 * minimize.cpp
 *		Minimization on write (see minimize.hpp).
 *
 *		The trigger runs for every written row, so the rules of a relation
 *		are compiled once into a plan (attribute numbers of this relation --
 *		a partition's may differ from its parent's -- and the kernel to call)
 *		and kept until the policy cache generation changes.
 *
 * IDENTIFICATION
 *		src/pg/write_path/minimize.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "anon/anon.hpp"
#include "base/error.hpp"

#include "methods/anon_functions.hpp"
#include "boundary/guard.hpp"
#include "guc.hpp"
#include "boundary/owner_sql.hpp"
#include "catalog/schema_version.hpp"
#include "methods/method_sql.hpp"
#include "write_path/citus_trigger.hpp"
#include "write_path/late_rows.hpp"
#include "write_path/minimize.hpp"

extern "C" {
#include "commands/trigger.h"
#include "utils/date.h"
#include "utils/timestamp.h"
}

namespace pg_retention::pg
{

namespace
{

/* One minimize rule, compiled for one relation. */
struct MinimizeStep {
	AttrNumber attnum; /* in the relation the trigger fires on */
	Oid type_oid;
	std::string method;   /* generalize, ip_prefix, mask_email, redact, nullify, constant */
	std::string argument; /* granularity, step or constant literal */
	int64_t bits = 0;     /* ip_prefix */
};

struct MinimizePlan {
	uint64_t generation = 0;
	std::vector<MinimizeStep> steps;
};

std::map<Oid, MinimizePlan> plans;

const MinimizePlan &PlanFor(Oid relid)
{
	MinimizePlan &plan = plans[relid];
	if (plan.generation == PolicyGeneration())
		return plan;
	plan.steps.clear();
	std::optional<DeclaredTable> table = FindDeclaredTable(relid);
	if (table && table->problem.empty()) {
		TableInfo here = relid == table->info.relid ? table->info : LoadTableInfo(relid);
		for (const DeclaredColumn &c : table->columns) {
			if (!c.policy.minimize)
				continue;
			const ColumnInfo *column = here.FindColumn(c.info.facts.name);
			if (column == nullptr)
				continue;
			const MethodCall &m = *c.policy.minimize;
			MinimizeStep step{column->attnum, column->type_oid, m.spec->name, "", 0};
			if (!m.args.empty()) {
				step.argument = m.args[0].text;
				step.bits = m.args[0].integer;
			}
			plan.steps.push_back(std::move(step));
		}
	}
	plan.generation = PolicyGeneration();
	return plan;
}

Datum CallText(PGFunction fn, Datum value)
{
	return DirectFunctionCall1(fn, value);
}

/* Applies one step to a non-NULL value; runs inside PgCall. */
Datum ApplyStep(const MinimizeStep &step, Datum value, bool *isnull)
{
	const std::string &m = step.method;
	if (m == "nullify") {
		*isnull = true;
		return (Datum)0;
	}
	if (m == "constant") {
		Oid input;
		Oid ioparam;
		getTypeInputInfo(step.type_oid, &input, &ioparam);
		return OidInputFunctionCall(input, const_cast<char *>(step.argument.c_str()), ioparam, -1);
	}
	if (m == "mask_email")
		return CallText(retention_mask_email, value);
	if (m == "redact")
		return CallText(retention_redact, value);
	if (m == "ip_prefix")
		return DirectFunctionCall2(retention_ip_prefix, value, Int32GetDatum((int32)step.bits));
	/* generalize */
	switch (getBaseType(step.type_oid)) {
	case DATEOID:
		return DirectFunctionCall2(retention_generalize_date, value,
		                           CStringGetTextDatum(step.argument.c_str()));
	case TIMESTAMPOID:
	case TIMESTAMPTZOID:
		return DirectFunctionCall2(retention_generalize_timestamp, value,
		                           CStringGetTextDatum(step.argument.c_str()));
	case INT2OID:
		return Int16GetDatum((int16)DatumGetInt32(
		    DirectFunctionCall2(retention_generalize_int4, Int32GetDatum(DatumGetInt16(value)),
		                        Int32GetDatum(atoi(step.argument.c_str())))));
	case INT4OID:
		return DirectFunctionCall2(retention_generalize_int4, value,
		                           Int32GetDatum(atoi(step.argument.c_str())));
	case INT8OID:
		return DirectFunctionCall2(retention_generalize_int8, value,
		                           Int64GetDatum(strtoll(step.argument.c_str(), nullptr, 10)));
	case FLOAT8OID:
		return DirectFunctionCall2(retention_generalize_float8, value,
		                           Float8GetDatum(strtod(step.argument.c_str(), nullptr)));
	case FLOAT4OID:
		return Float4GetDatum((float4)DatumGetFloat8(
		    DirectFunctionCall2(retention_generalize_float8, Float8GetDatum(DatumGetFloat4(value)),
		                        Float8GetDatum(strtod(step.argument.c_str(), nullptr)))));
	default:
		return DirectFunctionCall2(
		    retention_generalize_numeric, value,
		    DirectFunctionCall3(numeric_in, CStringGetDatum(step.argument.c_str()),
		                        ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	}
}

HeapTuple MinimizeTuple(TriggerData *trigger, const MinimizePlan &plan)
{
	HeapTuple tuple =
	    TRIGGER_FIRED_BY_UPDATE(trigger->tg_event) ? trigger->tg_newtuple : trigger->tg_trigtuple;
	if (plan.steps.empty())
		return tuple;
	TupleDesc desc = RelationGetDescr(trigger->tg_relation);
	int n = static_cast<int>(plan.steps.size());
	int *columns = static_cast<int *>(palloc(sizeof(int) * n));
	Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * n));
	bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * n));
	for (int i = 0; i < n; i++) {
		const MinimizeStep &step = plan.steps[i];
		columns[i] = step.attnum;
		values[i] = heap_getattr(tuple, step.attnum, desc, &nulls[i]);
		if (!nulls[i])
			values[i] = ApplyStep(step, values[i], &nulls[i]);
	}
	return heap_modify_tuple_by_cols(tuple, desc, n, columns, values, nulls);
}

bool TriggerExists(Oid relid, const char *name)
{
	return PgCall([&] { return OidIsValid(get_trigger_oid(relid, name, true)); });
}

void RunSql(const std::string &sql, int expected)
{
	PgCall([&] {
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		int rc = SPI_execute(sql.c_str(), false, 0);
		if (rc != expected)
			elog(ERROR, "pg_retention: \"%s\" failed: %s", sql.c_str(), SPI_result_code_string(rc));
		SPI_finish();
	});
}

/* ", "-separated quoted names, each once. */
std::string ColumnList(const std::vector<std::string> &names)
{
	std::string list;
	std::vector<std::string> seen;
	for (const std::string &n : names) {
		if (std::find(seen.begin(), seen.end(), n) != seen.end())
			continue;
		seen.push_back(n);
		list += (list.empty() ? "" : ", ") + QuoteIdent(n);
	}
	return list;
}

/*
 * "age < now() - delay" for a stage's delay less the largest late-write
 * margin (retention._due_bound: computed once per transaction, a day later
 * for date and timestamp ages): true for every row QueueLateRow may queue
 * whatever the session's margin (it checks the exact one), false for the
 * rows far from due.
 */
std::string DueCondition(const std::string &age, const Delay &delay)
{
	std::string column = "NEW." + QuoteIdent(age);
	return column + " OPERATOR(pg_catalog.<) retention._due_bound(" + column + ", '" +
	       std::to_string(delay.months) + " mons " + std::to_string(delay.days) + " days -" +
	       std::to_string(kLateWriteMarginMaxMinutes) + " mins'::pg_catalog.interval)";
}

/*
 * The late-row trigger's clauses after its name, or "" when the table has
 * no watermarked stage.  UPDATE OF: an UPDATE that sets neither the age
 * nor a watched column cannot make a row late.  WHEN, evaluated by
 * PostgreSQL before any call: the row is due for one of the stages (less the
 * margin) and the statement is not one of the engine's own
 * (SuppressLateRowQueue; a statement an application's trigger runs during
 * the engine's is the application's).
 */
std::string LateRowClauses(const DeclaredTable &table)
{
	if (!table.policy || !table.policy->age_column)
		return "";
	const std::string &age = *table.policy->age_column;
	/* a label broken by ALTER TABLE: the trigger would do nothing, and could not compare */
	const ColumnInfo *age_info = table.info.FindColumn(age);
	Oid age_type =
	    age_info == nullptr ? InvalidOid : PgCall([&] { return getBaseType(age_info->type_oid); });
	if (age_type != DATEOID && age_type != TIMESTAMPOID && age_type != TIMESTAMPTZOID)
		return "";
	std::vector<std::string> columns{age};
	std::vector<std::string> due;
	auto add = [&](const std::string &column, const std::optional<Delay> &delay) {
		if (!delay || table.info.FindColumn(column) == nullptr)
			return;
		columns.push_back(column);
		std::string condition = DueCondition(age, *delay);
		if (std::find(due.begin(), due.end(), condition) == due.end())
			due.push_back(condition);
	};
	for (const DeclaredColumn &c : table.columns) {
		add(c.info.facts.name, c.policy.anonymize_after);
		add(c.info.facts.name, c.policy.purge_after);
	}
	if (due.empty())
		return "";
	std::string when;
	for (const std::string &d : due)
		when += (when.empty() ? "(" : " OR ") + d;
	return " AFTER INSERT OR UPDATE OF " + ColumnList(columns) + " ON " + table.info.qualified +
	       " FOR EACH ROW WHEN (" + when + ") AND retention._late_rows_queued())";
}

/* The minimize trigger's clauses after its name, or "" when no column is minimized. */
std::string MinimizeClauses(const DeclaredTable &table)
{
	std::vector<std::string> columns;
	for (const DeclaredColumn &c : table.columns)
		if (c.policy.minimize && table.info.FindColumn(c.info.facts.name) != nullptr)
			columns.push_back(c.info.facts.name);
	if (columns.empty())
		return "";
	return " BEFORE INSERT OR UPDATE OF " + ColumnList(columns) + " ON " + table.info.qualified +
	       " FOR EACH ROW";
}

/* Creates or replaces trigger `name` with `clauses`, or drops it when they are empty. */
void SyncTrigger(const DeclaredTable &table, const char *name, const std::string &clauses)
{
	if (!clauses.empty())
		RunSql(std::string("CREATE OR REPLACE TRIGGER ") + name + clauses +
		           " EXECUTE FUNCTION retention.write_trigger()",
		       SPI_OK_UTILITY);
	else if (TriggerExists(table.info.relid, name))
		RunSql(std::string("DROP TRIGGER ") + name + " ON " + table.info.qualified, SPI_OK_UTILITY);
}

} // namespace

bool IsWriteTriggerName(const char *name)
{
	return strcmp(name, kMinimizeTrigger) == 0 || strcmp(name, kLateRowTrigger) == 0 ||
	       strcmp(name, kLegacyWriteTrigger) == 0;
}

/*
 * The one place the write triggers are created (labels, ALTER TABLE, the
 * 0.1.0 update, pg_restore replaying labels): replaced on every change of
 * the labels, as their columns and delays are written into them.
 */
bool WantsWriteTrigger(const DeclaredTable &table)
{
	return HasWatermarkedStages(table) || !MinimizeClauses(table).empty();
}

void SyncWriteTrigger(const DeclaredTable &table)
{
	if (CitusPresent()) {
		/* internal triggers, which Citus accepts (write_path/citus_trigger.cpp) */
		SyncCitusWriteTriggers(table, WantsWriteTrigger(table));
		return;
	}
	if (OtherSchemaVersion()) {
		/* 0.1.0's schema, until ALTER EXTENSION UPDATE: its single trigger (no WHEN function) */
		bool wanted = WantsWriteTrigger(table);
		SyncTrigger(table, kLegacyWriteTrigger,
		            wanted ? " BEFORE INSERT OR UPDATE ON " + table.info.qualified + " FOR EACH ROW"
		                   : "");
		return;
	}
	SyncTrigger(table, kLegacyWriteTrigger, "");
	SyncTrigger(table, kMinimizeTrigger, MinimizeClauses(table));
	SyncTrigger(table, kLateRowTrigger, LateRowClauses(table));
}

Oid DropWriteTriggersBeforeAlter(Oid relid)
{
	/* a database without the extension may still hold labels (DROP EXTENSION keeps them) */
	if (!PgCall([] { return OidIsValid(get_extension_oid("pg_retention", true)); }))
		return InvalidOid;
	std::optional<DeclaredTable> table = FindDeclaredTable(relid);
	if (!table)
		return InvalidOid;
	SyncTrigger(*table, kMinimizeTrigger, "");
	SyncTrigger(*table, kLateRowTrigger, "");
	return table->info.relid;
}

void RecreateWriteTriggersAfterAlter(Oid root)
{
	InvalidatePolicyCache();
	std::optional<DeclaredTable> table = FindDeclaredTable(root);
	if (table)
		SyncWriteTrigger(*table);
}

int64_t MinimizeExisting(Oid relid)
{
	std::optional<DeclaredTable> table = FindDeclaredTable(relid);
	if (!table)
		return 0;
	std::string sets;
	std::string differs;
	for (const DeclaredColumn &c : table->columns) {
		if (!c.policy.minimize)
			continue;
		std::string column = QuoteIdent(c.info.facts.name);
		std::string expr = MethodSql(*c.policy.minimize, column, c.info);
		sets += (sets.empty() ? "" : ", ") + column + " = " + expr;
		differs += (differs.empty() ? "" : " OR ") + column + " IS DISTINCT FROM " + expr;
	}
	if (sets.empty())
		return 0;
	/* the trigger minimizes as the row is written; SET names the columns to touch */
	std::string target =
	    relid == table->info.relid ? table->info.qualified : LoadTableInfo(relid).qualified;
	return OwnerSql(relid, "UPDATE " + target + " SET " + sets + " WHERE " + differs).processed;
}

/*
 * retention.write_trigger(): FOR EACH ROW on INSERT or UPDATE; BEFORE it
 * minimizes (retention_minimize), AFTER it queues a late row
 * (retention_late_rows).  Under the name retention_write (a database still
 * at 0.1.0) it does both, BEFORE, as 0.1.0 did.
 */
PGR_FUNCTION(retention_write_trigger)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		throw Error(ErrorKind::ObjectNotInPrerequisiteState,
		            "retention.write_trigger() must be called as a trigger");
	TriggerData *trigger = reinterpret_cast<TriggerData *>(fcinfo->context);
	if (!TRIGGER_FIRED_FOR_ROW(trigger->tg_event) ||
	    !(TRIGGER_FIRED_BY_INSERT(trigger->tg_event) || TRIGGER_FIRED_BY_UPDATE(trigger->tg_event)))
		throw Error(ErrorKind::ObjectNotInPrerequisiteState,
		            "retention.write_trigger() must be called FOR EACH ROW on INSERT or UPDATE");
	if (TRIGGER_FIRED_BEFORE(trigger->tg_event)) {
		const MinimizePlan &plan = PlanFor(RelationGetRelid(trigger->tg_relation));
		HeapTuple result = PgCall([&] { return MinimizeTuple(trigger, plan); });
		/*
		 * 0.1.0's retention_write, until ALTER EXTENSION UPDATE, also queues;
		 * so does the internal trigger of a database with Citus
		 * (retention_write_<oid>: citus_trigger.cpp), which has no AFTER twin
		 */
		if (strcmp(trigger->tg_trigger->tgname, kLegacyWriteTrigger) == 0 ||
		    trigger->tg_trigger->tgisinternal)
			QueueLateRow(trigger, result);
		return PointerGetDatum(result);
	}
	QueueLateRow(trigger, TRIGGER_FIRED_BY_UPDATE(trigger->tg_event) ? trigger->tg_newtuple
	                                                                 : trigger->tg_trigtuple);
	return PointerGetDatum(nullptr);
}

/*
 * retention._sync_write_triggers() -> tables: gives every labelled table the
 * write triggers of this version.  Called, then dropped, by the update from
 * 0.1.0, whose tables carry retention_write.
 */
PGR_FUNCTION(retention_sync_write_triggers)
{
	int64_t count = 0;
	DeclaredTables tables = AllDeclaredTables();
	for (const DeclaredTable &table : *tables) {
		SyncWriteTrigger(table);
		count++;
	}
	return Int64GetDatum(count);
}

/* retention.minimize_existing(relation regclass) -> rows changed */
PGR_FUNCTION(retention_minimize_existing)
{
	Oid relid = PG_GETARG_OID(0);
	RequireOwnerOrAdmin(relid, "minimize the existing rows of");
	return Int64GetDatum(MinimizeExisting(relid));
}

} // namespace pg_retention::pg
