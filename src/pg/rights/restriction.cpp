/*-------------------------------------------------------------------------
 *
 * restriction.cpp
 *		Restriction of processing (GDPR Art. 18) through row-level security.
 *
 *		retention.enable_restriction(table) puts a RESTRICTIVE policy on a
 *		declared table (and on each of its partitions, which a query may
 *		name directly):
 *			USING (retention._visible('customer', <the row's subject id>))
 *		_visible() is true unless the subject is listed in
 *		retention.restricted_subject, or when the current user is a member
 *		of retention_dpo or retention_admin.  The table's owner and
 *		superusers are not subject to row-level security at all.
 *
 *		The predicate runs once per row, so it must be cheap: the hashes of
 *		restricted subjects are read once per statement (per snapshot) into
 *		a set; when none is restricted the row costs a lookup in an empty
 *		set, otherwise one HMAC of its id.
 *
 * IDENTIFICATION
 *		src/pg/rights/restriction.cpp
 *-------------------------------------------------------------------------
 */
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/error.hpp"

#include "archive/archive.hpp"
#include "boundary/guard.hpp"
#include "methods/method_sql.hpp"
#include "rights/subject_rights.hpp"
#include "boundary/compat.hpp"
#include "catalog/citus.hpp"

extern "C" {
#include "catalog/pg_authid.h"
#include "storage/proc.h"
#include "utils/snapmgr.h"
}

namespace pg_retention::pg
{

namespace
{

constexpr const char *kRestrictivePolicy = "retention_restriction";
constexpr const char *kPermissivePolicy = "retention_visible";

/* What _visible() knows for one statement. */
struct RestrictionCache {
	LocalTransactionId lxid = InvalidLocalTransactionId;
	TransactionId xmin = InvalidTransactionId;
	TransactionId xmax = InvalidTransactionId;
	CommandId curcid = InvalidCommandId;
	Oid user = InvalidOid;
	uint64_t epoch = 1; /* bumped at every refresh: call sites compare it */
	bool privileged = false;
	std::map<std::string, std::unordered_set<std::string>> restricted; /* by subject */
};

/* What one policy expression (fn_extra) knows: its subject's set, as of an epoch. */
struct CallSite {
	uint64_t epoch;
	const std::unordered_set<std::string> *hashes;
	Oid checked_user; /* the role whose rights on the table were checked */
};

RestrictionCache cache;

bool IsMemberOf(Oid user, const char *role)
{
	Oid role_oid = get_role_oid(role, true);
	return OidIsValid(role_oid) && is_member_of_role(user, role_oid);
}

/*
 * Starts afresh when the statement's snapshot or the user changed.  The
 * check runs for every row: it calls nothing that can raise an error.
 */
void RefreshCache()
{
	Snapshot snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : nullptr;
	LocalTransactionId lxid = compat::MyLocalTransactionId();
	Oid user = GetUserId();
	if (snapshot != nullptr && cache.lxid == lxid && cache.xmin == snapshot->xmin &&
	    cache.xmax == snapshot->xmax && cache.curcid == snapshot->curcid && cache.user == user)
		return;
	cache.restricted.clear();
	cache.epoch++;
	cache.lxid = snapshot != nullptr ? lxid : InvalidLocalTransactionId;
	cache.xmin = snapshot != nullptr ? snapshot->xmin : InvalidTransactionId;
	cache.xmax = snapshot != nullptr ? snapshot->xmax : InvalidTransactionId;
	cache.curcid = snapshot != nullptr ? snapshot->curcid : InvalidCommandId;
	cache.user = user;
	cache.privileged = PgCall(
	    [&] { return IsMemberOf(user, "retention_dpo") || IsMemberOf(user, "retention_admin"); });
}

/*
 * The hashes of a subject's restricted ids, read under the bootstrap
 * superuser (application roles cannot read the table) with the caller's
 * snapshot.
 */
const std::unordered_set<std::string> &RestrictedHashes(const std::string &subject)
{
	auto it = cache.restricted.find(subject);
	if (it != cache.restricted.end())
		return it->second;
	struct Raw {
		int n;
		bytea **hashes;
	};
	Raw raw = PgCall([&] {
		Oid saved_user;
		int saved_context;
		GetUserIdAndSecContext(&saved_user, &saved_context);
		SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, saved_context | SECURITY_LOCAL_USERID_CHANGE |
		                                                  SECURITY_RESTRICTED_OPERATION);
		MemoryContext caller = CurrentMemoryContext;
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		Oid types[1] = {TEXTOID};
		Datum values[1] = {CStringGetTextDatum(subject.c_str())};
		int rc = SPI_execute_with_args("SELECT subject_hash FROM retention.restricted_subject "
		                               "WHERE subject OPERATOR(pg_catalog.=) $1",
		                               1, types, values, NULL, true, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "pg_retention: reading restricted subjects failed: %s",
			     SPI_result_code_string(rc));
		Raw r{(int)SPI_processed, nullptr};
		r.hashes = static_cast<bytea **>(MemoryContextAlloc(caller, sizeof(bytea *) * (r.n + 1)));
		for (int i = 0; i < r.n; i++) {
			bool isnull;
			Datum d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
			MemoryContext old = MemoryContextSwitchTo(caller);
			r.hashes[i] = isnull ? nullptr : DatumGetByteaPCopy(d);
			MemoryContextSwitchTo(old);
		}
		SPI_finish();
		SetUserIdAndSecContext(saved_user, saved_context);
		return r;
	});
	std::unordered_set<std::string> hashes;
	for (int i = 0; i < raw.n; i++)
		if (raw.hashes[i] != nullptr)
			hashes.emplace(VARDATA_ANY(raw.hashes[i]), VARSIZE_ANY_EXHDR(raw.hashes[i]));
	return cache.restricted.emplace(subject, std::move(hashes)).first->second;
}

/*
 * The predicate of the restriction policy on `leaf`, a relation of member m.
 * Through several hops the parents are read as the querying user: a parent
 * row hidden from it (restricted itself) hides the row too, and a row
 * whose path is broken halfway (a NULL link in a parent) is hidden as well.
 */
std::string PolicyPredicate(const SubjectScope &scope, const SubjectMember &m,
                            const TableInfo &leaf)
{
	std::string alias = QuoteIdent(leaf.name);
	PathJoin join = scope.JoinToKey(m, alias);
	std::string visible = "retention._visible(" + QuoteLiteral(leaf.qualified) +
	                      "::pg_catalog.regclass, " + QuoteLiteral(scope.subject()) + ", " +
	                      KeyText(join.key) + ")";
	if (join.from.empty())
		return visible;
	std::string no_subject;
	for (const std::string &c : m.path.hops.front().child_columns)
		no_subject += alias + "." + QuoteIdent(c) + " IS NULL OR ";
	std::string where;
	for (const std::string &c : join.conditions)
		where += (where.empty() ? "" : " AND ") + c;
	return "(" + no_subject + "(SELECT " + visible + " FROM " + join.from + " WHERE " + where +
	       ") IS TRUE)";
}

const SubjectMember &MemberFor(const SubjectScope &scope, Oid relid)
{
	for (const SubjectMember &m : scope.members())
		if (m.table->info.relid == relid)
			return m;
	throw Error(ErrorKind::Internal, "declared table is not a member of its subject");
}

/* The table argument: a declared table with a subject, not a partition; or why not. */
DeclaredTable SubjectTableArgument(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		throw Error(ErrorKind::NullValueNotAllowed, "table must not be NULL");
	Oid relid = PG_GETARG_OID(0);
	std::string name = PgCall([&] {
		char *n = get_rel_name(relid);
		return n != nullptr ? n : "?";
	});
	if (PartitionRoot(relid) != relid)
		throw Error(ErrorKind::InvalidParameterValue, "table \"" + name + "\" is a partition",
		            "restriction is enabled on the partitioned table, which covers its partitions",
		            "call retention.enable_restriction on the partitioned table");
	std::optional<DeclaredTable> table = FindDeclaredTable(relid);
	if (!table || !table->policy || !table->policy->subject)
		throw Error(ErrorKind::ObjectNotInPrerequisiteState,
		            "table \"" + name + "\" declares no subject",
		            "restriction hides a subject's rows: the table must belong to a subject",
		            "declare \"subject NAME(key)\" or \"subject NAME via col\" in its retention "
		            "label first");
	return *table;
}

/* Drops policy `name` of `target` if it has one; returns whether it had. */
bool DropPolicy(const TableInfo &target, const char *name)
{
	if (Sql("SELECT 1 FROM pg_catalog.pg_policy WHERE polrelid = $1::oid AND polname = $2",
	        {std::to_string(target.relid), std::string(name)})
	        .processed == 0)
		return false;
	Sql("DROP POLICY " + std::string(name) + " ON " + target.qualified);
	return true;
}

/* The relations a policy must go on: the table, and each partition a query may name. */
std::vector<TableInfo> PolicyTargets(const DeclaredTable &t)
{
	std::vector<TableInfo> targets{t.info};
	if (t.info.relkind == RELKIND_PARTITIONED_TABLE) {
		SqlResult parts = Sql("SELECT c.oid::text FROM pg_catalog.pg_partition_tree($1::oid) p "
		                      "JOIN pg_catalog.pg_class c ON c.oid = p.relid "
		                      "WHERE p.relid <> $1::oid ORDER BY p.level, c.relname",
		                      {std::to_string(t.info.relid)});
		for (const SqlRow &row : parts.rows)
			targets.push_back(LoadTableInfo(static_cast<Oid>(std::stoul(row[0].value()))));
	}
	return targets;
}

} // namespace

/*
 * retention._visible(relation regclass, subject text, subject_id text) -> boolean:
 * the predicate of restriction policies on `relation`.  NULL ids (rows of
 * no subject) are visible.  It answers only a role that has a privilege on
 * the relation (one that would see the rows anyway): to any other role,
 * whether a subject is restricted is none of its business.
 */
PGR_FUNCTION(retention_visible)
{
	if (PG_ARGISNULL(0))
		throw Error(ErrorKind::NullValueNotAllowed, "relation must not be NULL");
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return BoolGetDatum(true);
	Oid relid = PG_GETARG_OID(0);
	CallSite *site = static_cast<CallSite *>(fcinfo->flinfo->fn_extra);
	if (site == nullptr) {
		site = PgCall([&] {
			return static_cast<CallSite *>(
			    MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CallSite)));
		});
		fcinfo->flinfo->fn_extra = site;
	}
	Oid user = PgCall([] { return GetUserId(); });
	if (site->checked_user != user) {
		AclResult acl = PgCall([&] {
			return pg_class_aclcheck(relid, user,
			                         ACL_SELECT | ACL_INSERT | ACL_UPDATE | ACL_DELETE);
		});
		if (acl != ACLCHECK_OK)
			throw Error(ErrorKind::InsufficientPrivilege,
			            "retention._visible is the predicate of restriction policies",
			            "it answers only roles with a privilege on the table it is asked about",
			            "");
		site->checked_user = user;
	}
	RefreshCache();
	if (cache.privileged)
		return BoolGetDatum(true);
	text *s = PG_GETARG_TEXT_PP(1);
	if (site->epoch != cache.epoch) {
		site->hashes = &RestrictedHashes(std::string(VARDATA_ANY(s), VARSIZE_ANY_EXHDR(s)));
		site->epoch = cache.epoch;
	}
	if (site->hashes->empty())
		return BoolGetDatum(true);
	text *i = PG_GETARG_TEXT_PP(2);
	std::string subject(VARDATA_ANY(s), VARSIZE_ANY_EXHDR(s));
	std::string id(VARDATA_ANY(i), VARSIZE_ANY_EXHDR(i));
	return BoolGetDatum(site->hashes->count(SubjectHash(subject, id)) == 0);
}

/*
 * retention.enable_restriction(relation regclass) -> void: the table opts in
 * to restriction of processing.  Runs as the caller: only the table's
 * owner may change its row-level security.
 */
PGR_FUNCTION(retention_enable_restriction)
{
	DeclaredTable t = SubjectTableArgument(fcinfo);
	/* the shards would see neither the restrictive policy nor the coordinator's restrictions */
	CitusKind citus = CitusRelationOf(t.info.relid).kind;
	if (citus == CitusKind::Distributed || citus == CitusKind::Reference)
		throw Error(ErrorKind::FeatureNotSupported,
		            "restriction of processing is not supported on the Citus table " +
		                t.info.qualified,
		            "the queries Citus runs on the shards would not hide restricted subjects' rows",
		            "restrict access to the subject's rows in the application, or keep the table "
		            "local to the coordinator");
	std::shared_ptr<const SubjectScope> scope = SubjectScope::Load(t.policy->subject->subject);
	const SubjectMember &m = MemberFor(*scope, t.info.relid);
	if (!m.path.problem.empty())
		throw Error(ErrorKind::ObjectNotInPrerequisiteState,
		            "subject path of " + t.info.qualified + " does not resolve", m.path.problem,
		            "retention.check() lists the problem; fix it first");
	for (const TableInfo &target : PolicyTargets(t)) {
		bool rls = Sql("SELECT relrowsecurity FROM pg_catalog.pg_class WHERE oid = $1::oid",
		               {std::to_string(target.relid)})
		               .Scalar() == SqlValue("t");
		if (!rls) {
			/* RLS denies everything without a permissive policy: allow all, then restrict */
			Sql("ALTER TABLE " + target.qualified + " ENABLE ROW LEVEL SECURITY");
			Sql("CREATE POLICY " + std::string(kPermissivePolicy) + " ON " + target.qualified +
			    " AS PERMISSIVE FOR ALL TO PUBLIC USING (true) WITH CHECK (true)");
		}
		DropPolicy(target, kRestrictivePolicy);
		std::string predicate = PolicyPredicate(*scope, m, target);
		Sql("CREATE POLICY " + std::string(kRestrictivePolicy) + " ON " + target.qualified +
		    " AS RESTRICTIVE FOR ALL TO PUBLIC USING (" + predicate + ") WITH CHECK (" + predicate +
		    ")");
	}
	return (Datum)0;
}

/* retention.disable_restriction(relation regclass) -> void: undoes enable_restriction. */
PGR_FUNCTION(retention_disable_restriction)
{
	DeclaredTable t = SubjectTableArgument(fcinfo);
	for (const TableInfo &target : PolicyTargets(t)) {
		DropPolicy(target, kRestrictivePolicy);
		/* row-level security was ours to enable only if we added the permissive policy */
		if (DropPolicy(target, kPermissivePolicy))
			Sql("ALTER TABLE " + target.qualified + " DISABLE ROW LEVEL SECURITY");
	}
	return (Datum)0;
}

} // namespace pg_retention::pg
