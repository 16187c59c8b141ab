/*-------------------------------------------------------------------------
 *
 * inspect.cpp
 *		What is declared, and what is wrong with it:
 *		retention.policies (one row per rule), retention.check() (lints),
 *		retention.processing_register() (GDPR Art. 30 register).
 *
 * IDENTIFICATION
 *		src/pg/catalog/inspect.cpp
 *-------------------------------------------------------------------------
 */
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "label/policy.hpp"

#include "catalog/citus_checks.hpp"
#include "catalog/column_values.hpp"
#include "boundary/guard.hpp"
#include "lifecycle/lifecycle_sql.hpp"
#include "catalog/policy_store.hpp"
#include "boundary/result_set.hpp"
#include "archive/server_key.hpp"
#include "rights/subject_path.hpp"
#include "rights/subject_rights.hpp"
#include "catalog/citus.hpp"
#include "write_path/citus_trigger.hpp"

namespace pg_retention::pg
{

namespace
{

/* The fields every rule of a table shares. */
struct RuleContext {
	Oid relid;
	std::optional<std::string> subject;
	std::optional<std::string> age_column;
	std::optional<std::string> purpose;
	std::optional<std::string> basis;
};

RuleContext ContextOf(const DeclaredTable &t)
{
	RuleContext ctx{t.info.relid, {}, {}, {}, {}};
	if (t.policy) {
		if (t.policy->subject)
			ctx.subject = t.policy->subject->subject;
		ctx.age_column = t.policy->age_column;
		ctx.purpose = t.policy->purpose;
		if (t.policy->basis)
			ctx.basis = LegalBasisName(*t.policy->basis);
	}
	return ctx;
}

std::optional<std::string> BasisOf(const std::optional<LegalBasis> &own,
                                   const std::optional<std::string> &inherited)
{
	return own ? std::optional<std::string>(LegalBasisName(*own)) : inherited;
}

/* policies: (table, column, stage, after, method, subject, age_column, purpose, basis, label) */
void AddRule(ResultSet &out, const RuleContext &ctx, const std::optional<std::string> &column,
             const char *stage, const std::optional<Delay> &after,
             const std::optional<std::string> &method, const std::optional<std::string> &purpose,
             const std::optional<std::string> &basis, const std::string &label)
{
	out.Add({ctx.relid, Nullable(column), std::string(stage), Nullable(after), Nullable(method),
	         Nullable(ctx.subject), Nullable(ctx.age_column), Nullable(purpose), Nullable(basis),
	         label});
}

void AddTableRules(ResultSet &out, const DeclaredTable &t)
{
	if (!t.policy)
		return;
	const TablePolicy &p = *t.policy;
	RuleContext ctx = ContextOf(t);
	std::string canonical = ToLabel(p);
	bool any = false;
	if (p.archive_after) {
		AddRule(out, ctx, {}, "archive", p.archive_after, {}, ctx.purpose, ctx.basis, canonical);
		any = true;
	}
	if (p.purge_after) {
		AddRule(out, ctx, {}, "purge", p.purge_after, {}, ctx.purpose, ctx.basis, canonical);
		any = true;
	}
	if (p.subject) {
		ForgetAction action = p.on_forget.value_or(ForgetAction::Delete);
		AddRule(out, ctx, {}, "forget", {}, std::string(ForgetActionName(action)), ctx.purpose,
		        ctx.basis, canonical);
		any = true;
	}
	if (!any)
		AddRule(out, ctx, {}, "declare", {}, {}, ctx.purpose, ctx.basis, canonical);
}

void AddColumnRules(ResultSet &out, const DeclaredTable &t, const DeclaredColumn &c)
{
	RuleContext ctx = ContextOf(t);
	const ColumnPolicy &p = c.policy;
	std::optional<std::string> column = c.info.facts.name;
	std::optional<std::string> purpose = p.purpose ? p.purpose : ctx.purpose;
	std::optional<std::string> basis = BasisOf(p.basis, ctx.basis);
	std::string canonical = ToLabel(p);
	bool any = false;
	if (p.minimize) {
		AddRule(out, ctx, column, "minimize", {}, p.minimize->ToString(), purpose, basis,
		        canonical);
		any = true;
	}
	if (p.anonymize_after) {
		AddRule(out, ctx, column, "anonymize", p.anonymize_after,
		        p.anonymize_using ? std::optional<std::string>(p.anonymize_using->ToString())
		                          : std::nullopt,
		        purpose, basis, canonical);
		any = true;
	}
	if (p.purge_after) {
		AddRule(out, ctx, column, "purge", p.purge_after, {}, purpose, basis, canonical);
		any = true;
	}
	if (!any)
		AddRule(out, ctx, column, "personal", {}, {}, purpose, basis, canonical);
}

/* check(): (severity, table, column, problem, hint) */
void Report(ResultSet &out, const char *severity, Oid relid,
            const std::optional<std::string> &column, const std::string &problem,
            const std::string &hint)
{
	out.Add({std::string(severity), relid, Nullable(column), problem, hint});
}

bool NeedsKey(const DeclaredTable &t)
{
	if (t.policy && t.policy->archive_after)
		return true;
	for (const DeclaredColumn &c : t.columns)
		for (const std::optional<MethodCall> *m : {&c.policy.minimize, &c.policy.anonymize_using})
			if (*m && (*m)->spec->needs_key)
				return true;
	return false;
}

void CheckIndex(ResultSet &out, const DeclaredTable &t, const std::string &column, const char *role)
{
	if (t.info.FindColumn(column) == nullptr || HasLeadingIndex(t.info.relid, column))
		return;
	Report(out, "warning", t.info.relid, column,
	       std::string("no index leads with the ") + role + " column",
	       "CREATE INDEX ON " + t.info.qualified + " (" + QuoteIdent(column) +
	           "); without it every run scans the whole table");
}

/*
 * A BEFORE UPDATE trigger that assigns the age column (a "last_update"
 * trigger) would reset the age of every row the run anonymizes, purges a
 * value of or minimizes: such rows would never age out.  The run detects it
 * and fails the table; check() says so beforehand.
 */
void CheckAgeTriggers(ResultSet &out, const DeclaredTable &t, const std::string &age)
{
	for (const UpdateTrigger &trigger : BeforeUpdateTriggers(t.info.relid, age))
		if (trigger.may_assign_age)
			Report(out, "warning", t.info.relid, age,
			       "BEFORE UPDATE trigger " + QuoteIdent(trigger.name) + " (function " +
			           trigger.function + ") may assign the age column",
			       "the run's own updates (anonymize, purge values, minimize) must not change a "
			       "row's age: a run that sees it happen fails the table; let the trigger keep "
			       "OLD's age when only other columns change, or take the age from another column");
}

void CheckTable(ResultSet &out, const DeclaredTable &t, const std::vector<DeclaredTable> &all)
{
	if (!t.problem.empty()) {
		Report(out, "error", t.info.relid, {}, t.problem,
		       "fix the label with SECURITY LABEL FOR retention; the lifecycle skips this table "
		       "until then");
		return;
	}
	/* values tried against the columns as they are now (after ALTER COLUMN TYPE, a new domain
	 * CHECK) */
	try {
		for (const std::string &column : CheckDeclaredValues(t))
			Report(out, "warning", t.info.relid, column,
			       "the method could not be tried against the column's domain: no sample value "
			       "satisfies its constraints",
			       "make sure the method's values satisfy the domain's CHECK constraints, or every "
			       "run applying it fails");
	} catch (const Error &e) {
		Report(out, "error", t.info.relid, {}, e.what(),
		       "fix the label with SECURITY LABEL FOR retention; every run that applies it fails");
	}
	if (t.policy && t.policy->age_column) {
		CheckIndex(out, t, *t.policy->age_column, "age");
		CheckAgeTriggers(out, t, *t.policy->age_column);
	}
	bool has_subject = t.policy && t.policy->subject;
	if (has_subject) {
		const SubjectClause &s = *t.policy->subject;
		if (s.role == SubjectClause::Role::Identity) {
			if (!s.columns.empty())
				CheckIndex(out, t, s.columns.front(), "subject key");
		} else {
			SubjectPath path = ResolveSubjectPath(t, all);
			if (!path.problem.empty())
				Report(out, "error", t.info.relid, {},
				       "subject path does not resolve: " + path.problem,
				       "add the foreign key, declare the parent table for subject " + s.subject +
				           ", or state the path with via");
			else if (!path.hops.empty())
				CheckIndex(out, t, path.hops.front().child_columns.front(), "subject");
		}
	}
	if (!has_subject && !t.columns.empty())
		Report(out, "warning", t.info.relid, {},
		       "personal data is declared on a table that has no subject",
		       "declare \"subject <name>(<key>)\" or \"subject <name> via <column>\" on the table "
		       "so that forget and export reach these columns");
	if (NeedsKey(t) && !ServerKeyLoaded())
		Report(out, "error", t.info.relid, {},
		       "these rules need the server key, which is not loaded",
		       "set retention.key_file or retention.key_command and restart the server");
	for (const CitusProblem &p : CitusProblems(t, all))
		Report(out, p.severity, t.info.relid, p.column, p.problem, p.hint);
	std::vector<std::string> missing = MissingWriteTriggers(t);
	if (!missing.empty()) {
		std::string names;
		for (const std::string &m : missing)
			names += (names.empty() ? "" : ", ") + m;
		Report(out, "error", t.info.relid, {}, "write trigger missing on " + names,
		       "SELECT retention.repair_triggers(); (as retention_admin) recreates it: minimize on "
		       "write and the late-row queue do nothing there until then (pg_upgrade does not "
		       "restore the internal triggers used where Citus is installed)");
	}
}

/*
 * On a Citus coordinator, a worker whose list of restricted subjects differs
 * from the coordinator's, reported on each Citus table that enforces
 * restriction (its shards on that worker decide by that list).
 */
void CheckRestrictionLists(ResultSet &out, const std::vector<DeclaredTable> &all)
{
	std::vector<std::string> problems;
	bool read = false;
	for (const DeclaredTable &t : all) {
		CitusKind kind = CitusRelationOf(t.info.relid).kind;
		if ((kind != CitusKind::Distributed && kind != CitusKind::Reference) ||
		    Sql("SELECT 1 FROM pg_catalog.pg_policy WHERE polrelid = $1::oid AND polname = "
		        "'retention_restriction'",
		        {std::to_string(t.info.relid)})
		            .processed == 0)
			continue;
		if (!read) {
			problems = RestrictionListProblems();
			read = true;
		}
		for (const std::string &p : problems)
			Report(out, "error", t.info.relid, {}, p,
			       "SELECT retention.sync_restrictions(); (as retention_dpo) copies the "
			       "coordinator's list to every worker (a worker added after restrictions were "
			       "made, or one a failed restrict_subject or unrestrict_subject left behind)");
	}
}

} // namespace

PGR_FUNCTION(retention_policies)
{
	ResultSet out(fcinfo);
	DeclaredTables tables = AllDeclaredTables();
	for (const DeclaredTable &t : *tables) {
		AddTableRules(out, t);
		for (const DeclaredColumn &c : t.columns)
			AddColumnRules(out, t, c);
	}
	return (Datum)0;
}

/* rules_for(regclass): the rules governing a table or partition, as in policies. */
PGR_FUNCTION(retention_rules_for)
{
	Oid relid = PG_GETARG_OID(0);
	ResultSet out(fcinfo);
	std::optional<DeclaredTable> t = FindDeclaredTable(relid);
	if (t) {
		AddTableRules(out, *t);
		for (const DeclaredColumn &c : t->columns)
			AddColumnRules(out, *t, c);
	}
	return (Datum)0;
}

PGR_FUNCTION(retention_check)
{
	ResultSet out(fcinfo);
	DeclaredTables tables = AllDeclaredTables();
	for (const DeclaredTable &t : *tables)
		CheckTable(out, t, *tables);
	CheckRestrictionLists(out, *tables);
	return (Datum)0;
}

/*
 * register: (table, column, subject, purpose, basis, minimize, anonymize_after,
 * anonymize_method, archive_after, purge_after, on_forget)
 */
PGR_FUNCTION(retention_processing_register)
{
	ResultSet out(fcinfo);
	DeclaredTables tables = AllDeclaredTables();
	for (const DeclaredTable &t : *tables) {
		RuleContext ctx = ContextOf(t);
		std::optional<std::string> on_forget;
		std::optional<Delay> archive_after;
		std::optional<Delay> purge_after;
		if (t.policy) {
			archive_after = t.policy->archive_after;
			purge_after = t.policy->purge_after;
			if (t.policy->subject)
				on_forget = ForgetActionName(t.policy->on_forget.value_or(ForgetAction::Delete));
		}
		out.Add({t.info.relid, Value(), Nullable(ctx.subject), Nullable(ctx.purpose),
		         Nullable(ctx.basis), Value(), Value(), Value(), Nullable(archive_after),
		         Nullable(purge_after), Nullable(on_forget)});
		for (const DeclaredColumn &c : t.columns) {
			const ColumnPolicy &p = c.policy;
			out.Add({t.info.relid, c.info.facts.name, Nullable(ctx.subject),
			         Nullable(p.purpose ? p.purpose : ctx.purpose),
			         Nullable(BasisOf(p.basis, ctx.basis)),
			         p.minimize ? Value(p.minimize->ToString()) : Value(),
			         Nullable(p.anonymize_after),
			         p.anonymize_using ? Value(p.anonymize_using->ToString()) : Value(),
			         Nullable(archive_after), Nullable(p.purge_after ? p.purge_after : purge_after),
			         Nullable(on_forget)});
		}
	}
	return (Datum)0;
}

} // namespace pg_retention::pg
