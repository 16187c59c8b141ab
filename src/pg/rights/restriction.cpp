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

bool RowSecurityOn(const TableInfo &target)
{
	return Sql("SELECT relrowsecurity FROM pg_catalog.pg_class WHERE oid = $1::oid",
	           {std::to_string(target.relid)})
	           .Scalar() == SqlValue("t");
}

/*
 * Is retention_restriction the permissive policy of a Citus table (which
 * enable_restriction gives it, with row-level security, when it had none)?
 */
bool CitusRestriction(const TableInfo &target)
{
	return Sql("SELECT 1 FROM pg_catalog.pg_policy WHERE polrelid = $1::oid AND polname = $2 "
	           "AND polpermissive",
	           {std::to_string(target.relid), std::string(kRestrictivePolicy)})
	           .processed > 0;
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
	std::shared_ptr<const SubjectScope> scope = SubjectScope::Load(t.policy->subject->subject);
	const SubjectMember &m = MemberFor(*scope, t.info.relid);
	if (!m.path.problem.empty())
		throw Error(ErrorKind::ObjectNotInPrerequisiteState,
		            "subject path of " + t.info.qualified + " does not resolve", m.path.problem,
		            "retention.check() lists the problem; fix it first");
	/*
	 * Citus puts the policy on every shard (each node's _visible() reads its
	 * own copy of retention.restricted_subject, which restrict_subject keeps
	 * equal), but refuses a subquery in a policy: the row must hold its
	 * subject's id itself.
	 */
	CitusKind citus = CitusRelationOf(t.info.relid).kind;
	if ((citus == CitusKind::Distributed || citus == CitusKind::Reference) &&
	    !scope->JoinToKey(m, QuoteIdent(t.info.name)).from.empty())
		throw Error(ErrorKind::FeatureNotSupported,
		            "restriction of processing is not supported on the Citus table " +
		                t.info.qualified + ": it is more than one foreign key away from subject " +
		                scope->subject(),
		            "the predicate would read the parent rows in a subquery, which Citus does not "
		            "allow in a policy on a distributed table",
		            "add the subject's key to the table and declare \"subject " + scope->subject() +
		                " via <column>\" with a foreign key to the subject table");
	bool on_citus = citus == CitusKind::Distributed || citus == CitusKind::Reference;
	std::vector<TableInfo> targets = PolicyTargets(t);
	if (on_citus)
		for (const TableInfo &target : targets)
			if (RowSecurityOn(target) && !CitusRestriction(target))
				throw Error(ErrorKind::FeatureNotSupported,
				            "restriction of processing is not supported on the Citus table " +
				                target.qualified + ": it has row-level security of its own",
				            "Citus gives the shards every policy as PERMISSIVE: the restriction "
				            "would be ORed with the table's own policies, not ANDed",
				            "disable the table's row-level security, or hide restricted "
				            "subjects in its own policies");
	for (const TableInfo &target : targets) {
		bool rls = RowSecurityOn(target);
		if (on_citus) {
			/*
			 * The one permissive policy of the table: Citus would turn a
			 * restrictive one into a permissive one on the shards (it
			 * does not propagate AS RESTRICTIVE), which would let everything
			 * through beside retention_visible.
			 */
			if (!rls)
				Sql("ALTER TABLE " + target.qualified + " ENABLE ROW LEVEL SECURITY");
			DropPolicy(target, kRestrictivePolicy);
			std::string predicate = PolicyPredicate(*scope, m, target);
			Sql("CREATE POLICY " + std::string(kRestrictivePolicy) + " ON " + target.qualified +
			    " AS PERMISSIVE FOR ALL TO PUBLIC USING (" + predicate + ") WITH CHECK (" +
			    predicate + ")");
			continue;
		}
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
		bool citus_restriction = CitusRestriction(target);
		DropPolicy(target, kRestrictivePolicy);
		/* row-level security was ours to enable only if we added the permissive policy */
		if (DropPolicy(target, kPermissivePolicy) || citus_restriction)
			Sql("ALTER TABLE " + target.qualified + " DISABLE ROW LEVEL SECURITY");
	}
	return (Datum)0;
}

namespace
{

/* The hash argument n as the text form of a bytea ('\\x...'). */
std::string HashArgument(FunctionCallInfo fcinfo, int n)
{
	if (PG_ARGISNULL(n))
		throw Error(ErrorKind::NullValueNotAllowed, "subject_hash must not be NULL");
	bytea *hash = PG_GETARG_BYTEA_PP(n);
	static const char digits[] = "0123456789abcdef";
	std::string hex = "\\x";
	const unsigned char *bytes = reinterpret_cast<const unsigned char *>(VARDATA_ANY(hash));
	for (size_t i = 0; i < VARSIZE_ANY_EXHDR(hash); i++) {
		hex += digits[bytes[i] >> 4];
		hex += digits[bytes[i] & 15];
	}
	return hex;
}

/*
 * Does this node hand its restrictions on to workers?  The coordinator of
 * a Citus cluster does; a plain server and a worker node have nobody to tell.
 */
bool HasWorkersToSync()
{
	return CitusPresent() && IsCitusCoordinator();
}

/*
 * Runs `command` (a statement on retention.restricted_subject) on every
 * worker, each in its own transaction (run_command_on_workers opens new
 * connections: they commit at once, outside the caller's transaction).
 * Returns the nodes that failed, with their errors.
 */
std::vector<std::string> RunOnWorkers(const std::string &command,
                                      const std::vector<SqlValue> &params)
{
	SqlResult r = Sql("SELECT nodename || ':' || nodeport, success::text, result FROM "
	                  "pg_catalog.run_command_on_workers((" +
	                      command + ")) ORDER BY 1",
	                  params);
	std::vector<std::string> failed;
	for (const SqlRow &row : r.rows)
		if (row[1] != SqlValue("true"))
			failed.push_back(row[0].value_or("?") + ": " + row[2].value_or(""));
	return failed;
}

std::string Joined(const std::vector<std::string> &items)
{
	std::string out;
	for (const std::string &i : items)
		out += (out.empty() ? "" : "; ") + i;
	return out;
}

/* The statement, built from the coordinator's list, that makes a worker's list equal to it. */
constexpr const char *kWholeList =
    "SELECT pg_catalog.format('WITH wanted AS (SELECT * FROM ROWS FROM "
    "(pg_catalog.unnest(%L::text[]), "
    "pg_catalog.unnest(%L::bytea[]), pg_catalog.unnest(%L::float8[]), "
    "pg_catalog.unnest(%L::text[])) "
    "AS w(subject, subject_hash, at, reason)), "
    "gone AS (DELETE FROM retention.restricted_subject r WHERE NOT EXISTS (SELECT FROM wanted w "
    "WHERE w.subject = r.subject AND w.subject_hash = r.subject_hash)) "
    "INSERT INTO retention.restricted_subject (subject, subject_hash, restricted_at, reason) "
    "SELECT subject, subject_hash, pg_catalog.to_timestamp(at), reason FROM wanted "
    "ON CONFLICT DO NOTHING', coalesce(pg_catalog.array_agg(subject), '{}'), "
    "coalesce(pg_catalog.array_agg(subject_hash), '{}'), "
    "coalesce(pg_catalog.array_agg(extract(epoch FROM restricted_at)::float8), '{}'), "
    "coalesce(pg_catalog.array_agg(reason), '{}')) FROM retention.restricted_subject";

/* A digest of a node's list, equal on two nodes that restrict the same subjects. */
constexpr const char *kListDigest =
    "SELECT coalesce(pg_catalog.md5(pg_catalog.string_agg(subject || ':' || "
    "pg_catalog.encode(subject_hash, 'hex'), ',' ORDER BY subject, subject_hash)), 'none') "
    "FROM retention.restricted_subject";

} // namespace

/*
 * retention._restriction_to_workers(subject, subject_hash, restricted) -> void:
 * restrict_subject and unrestrict_subject hand the change on to every
 * worker of a Citus cluster, whose _visible() reads its own copy of the list.
 * The workers commit at once, the coordinator at the end of the caller's
 * transaction, so the order is chosen for failures to err on hiding:
 * - restrict: called after the coordinator's INSERT; a worker that fails
 *   raises an error (the coordinator's row is rolled back; workers that
 *   answered keep hiding the subject until unrestrict_subject or
 *   sync_restrictions);
 * - unrestrict: called before the coordinator's DELETE; when a worker
 *   fails, the workers that answered get the subject back, then the error.
 */
PGR_FUNCTION(retention_restriction_to_workers)
{
	std::string subject = RequiredText(fcinfo, 0, "subject");
	std::string hash = HashArgument(fcinfo, 1);
	bool restricted = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	if (!HasWorkersToSync())
		return (Datum)0;
	std::string insert =
	    "SELECT pg_catalog.format('INSERT INTO retention.restricted_subject (subject, "
	    "subject_hash, restricted_at, reason) VALUES (%L, %L::bytea, pg_catalog.to_timestamp(%s), "
	    "%L) ON CONFLICT DO NOTHING', subject, subject_hash, extract(epoch FROM restricted_at)"
	    "::float8, reason) FROM retention.restricted_subject WHERE subject = $1 AND subject_hash "
	    "= $2::bytea";
	if (restricted) {
		std::vector<std::string> failed = RunOnWorkers(insert, {subject, hash});
		if (!failed.empty())
			throw Error(ErrorKind::ObjectNotInPrerequisiteState,
			            "could not restrict the subject on every Citus worker",
			            Joined(failed) +
			                "; the workers that answered hide the subject's rows until it is "
			                "unrestricted",
			            "call retention.restrict_subject again once every worker is reachable");
		return (Datum)0;
	}
	std::vector<std::string> failed =
	    RunOnWorkers("SELECT pg_catalog.format('DELETE FROM retention.restricted_subject WHERE "
	                 "subject = %L AND subject_hash = %L::bytea', $1::text, $2::bytea)",
	                 {subject, hash});
	if (failed.empty())
		return (Datum)0;
	/* the subject stays restricted: the workers that unrestricted it restrict it again */
	std::vector<std::string> again = RunOnWorkers(insert, {subject, hash});
	throw Error(ErrorKind::ObjectNotInPrerequisiteState,
	            "could not unrestrict the subject on every Citus worker",
	            Joined(failed) + (again.empty()
	                                  ? "; the subject stays restricted on every node"
	                                  : "; could not restrict it again on " + Joined(again) +
	                                        ": call retention.sync_restrictions()"),
	            "call retention.unrestrict_subject again once every worker is reachable");
}

/*
 * retention.sync_restrictions() -> workers: makes every worker's list of
 * restricted subjects equal to this coordinator's (a worker added after
 * restrictions were made, or one a failure left behind).  0 where there is
 * no worker.
 */
PGR_FUNCTION(retention_sync_restrictions)
{
	if (!HasWorkersToSync())
		return Int32GetDatum(0);
	/* no restrict or unrestrict in between: they take the same lock */
	Sql("LOCK TABLE retention.restricted_subject IN SHARE ROW EXCLUSIVE MODE");
	std::vector<std::string> failed = RunOnWorkers(kWholeList, {});
	if (!failed.empty())
		throw Error(ErrorKind::ObjectNotInPrerequisiteState,
		            "could not copy the restricted subjects to every Citus worker", Joined(failed),
		            "call retention.sync_restrictions() again once every worker is reachable");
	return Int32GetDatum(static_cast<int32>(
	    Sql("SELECT count(*) FROM pg_catalog.pg_dist_node WHERE groupid <> 0 AND isactive AND "
	        "noderole = 'primary'")
	        .ScalarInt()));
}

std::vector<std::string> RestrictionListProblems()
{
	std::vector<std::string> problems;
	if (!HasWorkersToSync())
		return problems;
	std::string mine = Sql(kListDigest).Scalar().value_or("");
	SqlResult nodes = Sql(std::string("SELECT nodename || ':' || nodeport, success::text, result "
	                                  "FROM pg_catalog.run_command_on_workers($$") +
	                      kListDigest + "$$) ORDER BY 1");
	for (const SqlRow &row : nodes.rows)
		if (row[1] == SqlValue("true") && row[2].value_or("") != mine)
			problems.push_back("node " + row[0].value_or("?") +
			                   " restricts other subjects than this coordinator");
	return problems;
}

} // namespace pg_retention::pg
