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
#include <map>
#include <string>
#include <vector>

#include "anon/anon.hpp"
#include "base/error.hpp"

#include "methods/anon_functions.hpp"
#include "boundary/guard.hpp"
#include "boundary/owner_sql.hpp"
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

bool TriggerExists(Oid relid)
{
	return PgCall([&] {
		Relation rel = table_open(relid, AccessShareLock);
		bool found = false;
		TriggerDesc *triggers = rel->trigdesc;
		for (int i = 0; triggers != nullptr && i < triggers->numtriggers; i++)
			if (strcmp(triggers->triggers[i].tgname, kWriteTrigger) == 0)
				found = true;
		table_close(rel, AccessShareLock);
		return found;
	});
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

} // namespace

void SyncWriteTrigger(const DeclaredTable &table)
{
	bool wanted = HasWatermarkedStages(table);
	for (const DeclaredColumn &c : table.columns)
		wanted = wanted || c.policy.minimize.has_value();
	if (CitusPresent()) {
		SyncCitusWriteTriggers(table, wanted);
		return;
	}
	bool exists = TriggerExists(table.info.relid);
	if (wanted && !exists)
		RunSql(std::string("CREATE TRIGGER ") + kWriteTrigger + " BEFORE INSERT OR UPDATE ON " +
		           table.info.qualified +
		           " FOR EACH ROW EXECUTE FUNCTION retention.write_trigger()",
		       SPI_OK_UTILITY);
	else if (!wanted && exists)
		RunSql(std::string("DROP TRIGGER ") + kWriteTrigger + " ON " + table.info.qualified,
		       SPI_OK_UTILITY);
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

/* retention.write_trigger(): BEFORE INSERT OR UPDATE FOR EACH ROW */
PGR_FUNCTION(retention_write_trigger)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		throw Error(ErrorKind::ObjectNotInPrerequisiteState,
		            "retention.write_trigger() must be called as a trigger");
	TriggerData *trigger = reinterpret_cast<TriggerData *>(fcinfo->context);
	const MinimizePlan &plan = PlanFor(RelationGetRelid(trigger->tg_relation));
	HeapTuple result = PgCall([&] { return MinimizeTuple(trigger, plan); });
	QueueLateRow(trigger, result);
	return PointerGetDatum(result);
}

/* retention.minimize_existing(relation regclass) -> rows changed */
PGR_FUNCTION(retention_minimize_existing)
{
	Oid relid = PG_GETARG_OID(0);
	RequireOwnerOrAdmin(relid, "minimize the existing rows of");
	return Int64GetDatum(MinimizeExisting(relid));
}

} // namespace pg_retention::pg
