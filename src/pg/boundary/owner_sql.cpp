/*-------------------------------------------------------------------------
 *
 * owner_sql.cpp
 *		The execution layer for user tables (see owner_sql.hpp): statements
 *		run as the table's owner, the statement guard, the engine capability.
 *
 * IDENTIFICATION
 *		src/pg/boundary/owner_sql.cpp
 *-------------------------------------------------------------------------
 */
#include <cstring>
#include <string>
#include <vector>

#include "base/error.hpp"

#include "boundary/guard.hpp"
#include "boundary/owner_sql.hpp"
#include "boundary/compat.hpp"

namespace pg_retention::pg
{

namespace
{

StatementIdentity current_identity = StatementIdentity::None;
ExecutorCheckPerms_hook_type previous_check_perms = nullptr;

using detail::OwnerSwitch;

Oid OwnerOf(Oid relid)
{
	return PgCall([&] {
		HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
		if (!HeapTupleIsValid(tuple))
			ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
			                errmsg("relation with OID %u does not exist", relid),
			                errhint("The table was dropped during the operation.")));
		Oid owner = ((Form_pg_class)GETSTRUCT(tuple))->relowner;
		ReleaseSysCache(tuple);
		return owner;
	});
}

/*
 * Becomes `owner` the way vacuum_rel() does; the settings are set in the
 * new nest level, so the owner's code cannot leave any behind.
 */
OwnerSwitch BecomeOwner(Oid owner)
{
	OwnerSwitch s{};
	PgCall([&] {
		GetUserIdAndSecContext(&s.user, &s.security_context);
		SetUserIdAndSecContext(owner, s.security_context | SECURITY_LOCAL_USERID_CHANGE |
		                                  SECURITY_RESTRICTED_OPERATION);
		s.nest_level = NewGUCNestLevel();
		compat::RestrictSearchPath();
		(void)set_config_option("row_security", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
		                        true, 0, false);
	});
	return s;
}

/* This backend's engine capability: random, made once, never shown. */
int64_t capability = 0;

int64_t EngineCapability()
{
	while (capability == 0)
		PgCall([] {
			if (!pg_strong_random(&capability, sizeof(capability)))
				ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
				                errmsg("could not generate random bytes")));
		});
	return capability;
}

/*
 * Replaces kCapabilityParam outside quoted identifiers and string literals
 * by `$n::pg_catalog.int8`; returns whether it was there.
 */
bool BindCapability(std::string &sql, int n)
{
	const std::string mark = kCapabilityParam;
	const std::string param = "$" + std::to_string(n) + "::pg_catalog.int8";
	bool found = false;
	std::string out;
	out.reserve(sql.size());
	for (size_t i = 0; i < sql.size();) {
		char ch = sql[i];
		if (ch == '"' || ch == '\'') {
			/* E'...' literals escape with backslashes; doubled quotes everywhere */
			bool backslashes = ch == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e');
			size_t j = i + 1;
			while (j < sql.size()) {
				if (backslashes && sql[j] == '\\') {
					j += 2;
					continue;
				}
				if (sql[j] == ch) {
					if (j + 1 < sql.size() && sql[j + 1] == ch) {
						j += 2;
						continue;
					}
					break;
				}
				j++;
			}
			j = std::min(j + 1, sql.size());
			out.append(sql, i, j - i);
			i = j;
		} else if (sql.compare(i, mark.size(), mark) == 0) {
			out += param;
			i += mark.size();
			found = true;
		} else {
			out += ch;
			i++;
		}
	}
	sql = std::move(out);
	return found;
}

/* Sets the statement identity for a scope; restoring a global calls no PostgreSQL. */
class IdentityScope
{
public:
	explicit IdentityScope(StatementIdentity next) : previous_(SwapStatementIdentity(next)) {}
	~IdentityScope() { SwapStatementIdentity(previous_); }
	IdentityScope(const IdentityScope &) = delete;
	IdentityScope &operator=(const IdentityScope &) = delete;

private:
	StatementIdentity previous_;
};

/* Runs run(sql, params, types) as the owner of relid, the capability bound when asked for. */
template <typename Run>
auto AsOwner(Oid relid, std::string sql, std::vector<SqlValue> params, std::vector<Oid> types,
             Run &&run)
{
	if (BindCapability(sql, static_cast<int>(params.size()) + 1)) {
		params.push_back(std::to_string(EngineCapability()));
		types.push_back(INT8OID);
	}
	/*
	 * Deferred triggers would fire at commit, after the switch back: with
	 * the caller's rights (PostgreSQL refuses to queue them inside a
	 * security-restricted operation).  Constraints are made immediate first,
	 * as the caller, so the caller's own pending checks fire as the caller
	 * and the statement's fire within it, as the owner.
	 */
	detail::Execute("SET CONSTRAINTS ALL IMMEDIATE", {}, {});
	decltype(run(sql, params, types)) result;
	AsTableOwner(relid, [&] {
		IdentityScope owner(StatementIdentity::TableOwner);
		result = run(sql, params, types);
	});
	return result;
}

bool IsExtensionNamespace(Oid nsp)
{
	if (nsp == PG_CATALOG_NAMESPACE || nsp == PG_TOAST_NAMESPACE)
		return true;
	char *name = get_namespace_name(nsp);
	return name != nullptr &&
	       (strcmp(name, "retention") == 0 || strcmp(name, "retention_archive") == 0);
}

/*
 * The statement guard: while the extension's own identity runs a statement,
 * no relation outside its own schemas and the catalogs may be read or
 * written.  A C hook: it runs inside the executor and reports with elog.
 */
bool CheckPerms(PGR_CHECK_PERMS_PARAMS)
{
	if (current_identity == StatementIdentity::Extension) {
		List *relids = compat::CheckedRelations(range_table, PGR_PERM_INFOS);
		ListCell *lc;
		foreach (lc, relids) {
			Oid relid = lfirst_oid(lc);
			Oid nsp = get_rel_namespace(relid);
			if (OidIsValid(nsp) && !IsExtensionNamespace(nsp))
				elog(ERROR,
				     "pg_retention: statement of the extension's own identity reaches relation "
				     "%u outside the owner execution layer",
				     relid);
		}
	}
	return previous_check_perms == nullptr || previous_check_perms(PGR_CHECK_PERMS_ARGS);
}

} // namespace

namespace detail
{

OwnerSwitch BecomeOwnerOf(Oid relid)
{
	return BecomeOwner(OwnerOf(relid));
}

/* Undoes BecomeOwnerOf; also after the work failed (before any subtransaction rolls back). */
void BecomeSelf(const OwnerSwitch &s)
{
	PgCall([&] {
		AtEOXact_GUC(false, s.nest_level);
		SetUserIdAndSecContext(s.user, s.security_context);
	});
}

} // namespace detail

StatementIdentity SwapStatementIdentity(StatementIdentity next) noexcept
{
	StatementIdentity previous = current_identity;
	current_identity = next;
	return previous;
}

SqlResult OwnerSql(Oid relid, const std::string &sql, const std::vector<SqlValue> &params)
{
	return OwnerTypedSql(relid, sql, params, std::vector<Oid>(params.size(), TEXTOID));
}

SqlResult OwnerTypedSql(Oid relid, const std::string &sql, const std::vector<SqlValue> &params,
                        const std::vector<Oid> &param_types)
{
	return AsOwner(relid, sql, params, param_types,
	               [](const std::string &s, const std::vector<SqlValue> &p,
	                  const std::vector<Oid> &t) { return detail::Execute(s, p, t); });
}

SqlResult OwnerTypedSql(Oid relid, const std::string &sql, const std::vector<SqlValue> &params,
                        const std::vector<Oid> &param_types, const DatumParams &datums)
{
	/* a capability AsOwner binds goes after every parameter: no DatumParam at its index */
	if (datums.size() > params.size())
		throw Error(ErrorKind::Internal, "more binary parameters than parameters");
	return AsOwner(
	    relid, sql, params, param_types,
	    [&datums](const std::string &s, const std::vector<SqlValue> &p, const std::vector<Oid> &t) {
		    return detail::Execute(s, p, t, datums);
	    });
}

DatumResult OwnerDatumSql(Oid relid, const std::string &sql, const std::vector<SqlValue> &params,
                          const std::vector<Oid> &param_types)
{
	return AsOwner(relid, sql, params, param_types,
	               [](const std::string &s, const std::vector<SqlValue> &p,
	                  const std::vector<Oid> &t) { return detail::ExecuteDatums(s, p, t); });
}

DatumResult OwnerGatheredSql(Oid relid, const std::string &sql, const std::vector<SqlValue> &params,
                             const std::vector<Oid> &param_types)
{
	return AsOwner(relid, sql, params, param_types,
	               [](const std::string &s, const std::vector<SqlValue> &p,
	                  const std::vector<Oid> &t) { return detail::ExecuteGathered(s, p, t); });
}

SqlResult OwnerPreparedSql(Oid relid, const std::string &sql, const std::vector<SqlValue> &params)
{
	/* prepared statements bind text: the capability's $n is cast to int8 in the text */
	return AsOwner(relid, sql, params, {},
	               [](const std::string &s, const std::vector<SqlValue> &p,
	                  const std::vector<Oid> &) { return detail::ExecutePrepared(s, p); });
}

void CheckEngineCapability(int64_t presented)
{
	if (capability == 0 || presented != capability)
		throw Error(ErrorKind::InsufficientPrivilege,
		            "this function is reserved to the lifecycle engine",
		            "keyed methods are not executable by PUBLIC",
		            "call retention.hash or retention.fake_* with a role granted EXECUTE on them");
}

void RequireOwnerOrAdmin(Oid relid, const char *action)
{
	Oid owner = OwnerOf(relid);
	bool allowed = PgCall([&] {
		Oid admin = get_role_oid("retention_admin", true);
		return has_privs_of_role(GetUserId(), owner) ||
		       (OidIsValid(admin) && has_privs_of_role(GetUserId(), admin));
	});
	if (!allowed) {
		const char *name = PgCall([&] { return get_rel_name(relid); });
		throw Error(ErrorKind::InsufficientPrivilege,
		            std::string("permission denied to ") + action + " table \"" +
		                (name != nullptr ? name : "?") + "\"",
		            "", "only the table's owner or a member of retention_admin may");
	}
}

void InstallStatementGuard()
{
	previous_check_perms = ExecutorCheckPerms_hook;
	ExecutorCheckPerms_hook = CheckPerms;
}

} // namespace pg_retention::pg
