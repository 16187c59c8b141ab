/*-------------------------------------------------------------------------
 *
 * owner_sql.hpp
 *		The execution layer for user tables: the one place where pg_retention
 *		runs a statement that reads or writes a table it does not own.
 *
 *		Any table owner may label their table, so whatever code the table
 *		carries (triggers, rules, CHECK and domain constraints, index
 *		expressions, generated columns, casts, row-level security policies)
 *		must never run with more rights than that owner has.  OwnerSql runs a
 *		statement as the owner of the table it names, exactly as VACUUM,
 *		ANALYZE and REINDEX do since CVE-2022-1552:
 *		  - current user = the table's owner, with SECURITY_LOCAL_USERID_CHANGE
 *		    and SECURITY_RESTRICTED_OPERATION (no SET ROLE, no temporary
 *		    objects, no cursors surviving the statement);
 *		  - a new GUC nest level, with search_path = pg_catalog, pg_temp and
 *		    row_security = off (a policy that would hide rows from the owner
 *		    fails the statement instead of silently skipping rows); every
 *		    setting the owner's code changes is undone when it returns.
 *		Deferrable constraints are made immediate for the statement (SET
 *		CONSTRAINTS ALL IMMEDIATE, as the caller, before the switch): a
 *		deferred trigger would otherwise fire at commit with the caller's
 *		rights.  The setting stays for the rest of the caller's transaction.
 *		Then it switches back: the extension's own identity (the caller: the
 *		worker, a procedure's caller, a SECURITY DEFINER function's owner)
 *		writes only the extension's own tables (archive, erasure log, queue,
 *		history), through Sql/TypedSql/PreparedSql (spi_query.hpp).
 *
 *		The rule is enforced, not only followed: while a statement of the
 *		extension's own identity runs, an executor permission hook refuses any
 *		relation outside pg_catalog, retention and retention_archive, so a
 *		statement that reaches a user table around this layer fails in every
 *		test that runs it.
 *
 *		Keyed methods (hash, the deterministic fakes) are not executable by
 *		PUBLIC, so a table owner cannot compute the server's pseudonyms.  The
 *		engine's own statements reach them through engine-only entry points
 *		that demand a per-backend random capability, bound as a $n parameter
 *		(never in the statement's text, which error contexts would show to
 *		the owner's code): MethodSql writes kCapabilityParam where it is
 *		needed and OwnerSql binds it.
 *
 * IDENTIFICATION
 *		src/pg/boundary/owner_sql.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "boundary/spi_query.hpp"

namespace pg_retention::pg
{

/* Runs `sql` as the owner of `relid` (text parameters, like Sql). */
SqlResult OwnerSql(unsigned int relid, const std::string &sql,
                   const std::vector<SqlValue> &params = {});

/* The same with typed parameters (like TypedSql). */
SqlResult OwnerTypedSql(unsigned int relid, const std::string &sql,
                        const std::vector<SqlValue> &params,
                        const std::vector<unsigned int> &param_types);

/* The same with some parameters in binary (DatumParam, spi_query.hpp). */
SqlResult OwnerTypedSql(unsigned int relid, const std::string &sql,
                        const std::vector<SqlValue> &params,
                        const std::vector<unsigned int> &param_types, const DatumParams &datums);

/* The same with the result in binary (DatumResult: no text round trip). */
DatumResult OwnerDatumSql(unsigned int relid, const std::string &sql,
                          const std::vector<SqlValue> &params,
                          const std::vector<unsigned int> &param_types);

/*
 * A statement returning one column, its values gathered into one array as
 * they come (detail::ExecuteGathered): one row, the rows processed and the
 * array.
 */
DatumResult OwnerGatheredSql(unsigned int relid, const std::string &sql,
                             const std::vector<SqlValue> &params,
                             const std::vector<unsigned int> &param_types);

/* The same through a plan kept per backend (like PreparedSql). */
SqlResult OwnerPreparedSql(unsigned int relid, const std::string &sql,
                           const std::vector<SqlValue> &params = {});

namespace detail
{
/* The saved identity and GUC nest level of one switch to a table's owner. */
struct OwnerSwitch {
	unsigned int user;
	int security_context;
	int nest_level;
};
OwnerSwitch BecomeOwnerOf(unsigned int relid);
void BecomeSelf(const OwnerSwitch &s);
} // namespace detail

/*
 * Runs work() as the owner of `relid`, as OwnerSql runs a statement: for
 * calls into PostgreSQL that run a table's code without SQL (a domain's
 * input function and CHECK constraints on a candidate value).
 */
template <typename Work> void AsTableOwner(unsigned int relid, Work &&work)
{
	detail::OwnerSwitch s = detail::BecomeOwnerOf(relid);
	try {
		work();
	} catch (...) {
		detail::BecomeSelf(s);
		throw;
	}
	detail::BecomeSelf(s);
}

/*
 * Written by MethodSql where an engine-only keyed method needs the
 * capability; OwnerSql replaces it (outside quoted text) by a $n parameter.
 */
inline constexpr const char *kCapabilityParam = "$retention_capability";

/*
 * Whose statement is running, for the statement guard: set by Sql & co.
 * (Extension) and OwnerSql & co. (TableOwner) around their execution.
 */
enum class StatementIdentity : int { None, Extension, TableOwner };

/* Sets the identity of the statements about to run; returns the previous one. */
StatementIdentity SwapStatementIdentity(StatementIdentity next) noexcept;

/* Refuses a call that does not carry this backend's capability (insufficient_privilege). */
void CheckEngineCapability(int64_t presented);

/*
 * Refuses (insufficient_privilege) a caller that neither has the privileges
 * of `relid`'s owner nor is a member of retention_admin: for the functions
 * any role may call on a table (minimize_existing).  `action` completes
 * "must be the owner of the table or a member of retention_admin to ...".
 */
void RequireOwnerOrAdmin(unsigned int relid, const char *action);

/* Installs the executor hook that refuses user tables outside this layer (_PG_init). */
void InstallStatementGuard();

} // namespace pg_retention::pg
