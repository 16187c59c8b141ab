/*-------------------------------------------------------------------------
 *
 * subject_rights.hpp
 *		One subject as the rights of data subjects see it: every declared
 *		table that holds its data, the path from each to the subject table,
 *		what forgetting does there, and the SQL that selects one subject's
 *		rows in each.
 *
 *		forget (forget.cpp), export (subject_export.cpp), restriction
 *		(restriction.cpp) and the erasure log (erasure.cpp) all start from a
 *		SubjectScope, so they agree on which rows are the subject's.  An id
 *		is always used in its canonical form, the key's own text output
 *		('042' -> '42', composite keys as ROW(...)::text): the form the
 *		archive hashes, so a hash computed here finds archived rows.
 *
 * IDENTIFICATION
 *		src/pg/rights/subject_rights.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "label/policy.hpp"

#include "catalog/policy_store.hpp"
#include "boundary/spi_query.hpp"
#include "rights/subject_path.hpp"

namespace pg_retention::pg
{

/*
 * A foreign key pointing at a declared table, and what it means when the
 * subject's rows of that table are forgotten (docs/rights.md):
 * - rows of a legal-hold table ("on forget keep") hold the rows they
 *   reference (unless the key is ON DELETE SET NULL / SET DEFAULT): those
 *   are anonymized in place, never deleted;
 * - a NO ACTION / RESTRICT key blocks deleting, unless this same forget
 *   deletes every referencing row first (a child deleted through its path);
 * - a blocking key of a declared table that accepts NULL is cleared;
 * - a row still blocked stays, anonymized in place.
 */
struct IncomingReference {
	Oid child_relid;
	std::string child_qualified;
	std::vector<std::string> child_columns;
	std::vector<std::string> parent_columns;
	char on_delete;      /* pg_constraint.confdeltype: a, r, c, n, d */
	bool nullable;       /* every referencing column accepts NULL */
	bool child_declared; /* the referencing table has a retention label */
	bool child_keeps;    /* ... with "on forget keep": its rows are a legal hold */
	/* the child is the subject's, reached through this key, and forget deletes all its rows */
	bool child_rows_deleted;

	/* SET NULL / SET DEFAULT keys let the row go: the schema chose to detach the held rows */
	bool Holds() const { return child_keeps && on_delete != 'n' && on_delete != 'd'; }
	bool Blocks() const
	{
		return !Holds() && (on_delete == 'a' || on_delete == 'r') && !child_rows_deleted;
	}
	bool Unlinkable() const { return Blocks() && child_declared && nullable; }
	/* a subject's row referenced this way cannot be deleted */
	bool KeepsInPlace() const { return Holds() || (Blocks() && !Unlinkable()); }
};

/* A declared table holding data of the subject. */
struct SubjectMember {
	const DeclaredTable *table = nullptr;
	SubjectPath path;
	ForgetAction action = ForgetAction::Delete;
	std::vector<IncomingReference> references; /* foreign keys pointing at this table */
	std::vector<std::string> primary_key;      /* for a stable row order ("" when none) */
	std::vector<std::string> hop_parents;      /* the quoted name of each hop's parent */
};

/* An id in canonical form, its key values, and its keyed hash. */
struct SubjectId {
	std::string text;          /* canonical text: key::text or ROW(k1, k2)::text */
	std::vector<SqlValue> key; /* one text value per key column, for $1..$n */
	std::string hash;          /* SubjectHash(subject, text), raw bytes */
	std::string HashHex() const;
};

/*
 * How a member's row reaches its subject's key: the parent tables to join
 * (FROM items with aliases retention_h0, ...), the join conditions, and an
 * expression for each key column of the subject table.
 */
struct PathJoin {
	std::string from; /* "" when the row itself holds the key values */
	std::vector<std::string> conditions;
	std::vector<std::string> key; /* one expression per key column */
};

class SubjectScope
{
public:
	/*
	 * Everything declared for `subject`.  Throws 22004 for NULL-like empty
	 * names, 42704 (with the declared subjects as hint) for an unknown one,
	 * 55000 when it has no subject table.
	 */
	static std::shared_ptr<const SubjectScope> Load(const std::string &subject);

	const std::string &subject() const { return subject_; }
	const DeclaredTable &identity() const { return *identity_; }
	const std::vector<std::string> &key_columns() const { return key_columns_; }
	const std::vector<std::string> &key_types() const { return key_types_; }
	/* Children before parents: deleting in this order never trips a foreign key. */
	const std::vector<SubjectMember> &members() const { return members_; }

	/* Throws 55000 naming the first table whose subject path does not resolve. */
	void RequireResolvedPaths(const char *action) const;

	/*
	 * The canonical form of a user-supplied id.  A value the key type does
	 * not accept keeps PostgreSQL's SQLSTATE (22P02, 22003...) and gains a
	 * hint naming the key.
	 */
	SubjectId Canonical(const std::string &id) const;

	/*
	 * A condition on `alias` (a row of member m) true when the row belongs
	 * to the subject whose key values are the parameters $1..$n.
	 */
	std::string RowsOf(const SubjectMember &m, const std::string &alias) const;

	/* The subject key of a row of member m (alias), as joins and expressions. */
	PathJoin JoinToKey(const SubjectMember &m, const std::string &alias) const;

	/* The key's text over `alias` of the subject table: k::text or ROW(k1, k2)::text. */
	std::string KeyTextSql(const std::string &alias) const;

	/* "shop.orders.customer_id → shop.customer.id", for maps and exports. */
	std::string PathText(const SubjectMember &m) const;

private:
	SubjectScope() = default;
	void InitFrom(const std::string &subject);
	std::string CanonicalValue(size_t column, const std::string &value) const;

	std::string subject_;
	DeclaredTables all_; /* keeps identity_ and members_[i].table alive */
	const DeclaredTable *identity_ = nullptr;
	std::vector<std::string> key_columns_;
	std::vector<std::string> key_types_;
	std::vector<Oid> key_type_oids_;
	std::vector<SubjectMember> members_;
};

/* A subject's scope, every path resolved, and an id of it in canonical form. */
struct ResolvedSubject {
	std::shared_ptr<const SubjectScope> scope;
	SubjectId id;
};

/* Loads the scope of `subject`, requires its paths (for `action`), canonicalizes `id`. */
ResolvedSubject ResolveSubject(const std::string &subject, const std::string &id,
                               const char *action);
/* The same for arguments 0 (subject) and 1 (id) of a SQL function. */
ResolvedSubject SubjectArguments(FunctionCallInfo fcinfo, const char *action);

/* Argument n as text; NULL is an error (22004) naming `what`. */
std::string RequiredText(FunctionCallInfo fcinfo, int n, const char *what);
/* Argument n as text, or nullopt for NULL. */
SqlValue OptionalText(FunctionCallInfo fcinfo, int n);
/* A jsonb Datum from JSON text. */
Datum JsonbDatum(const std::string &json);

/* The subjects declared in this database, sorted (for hints). */
std::vector<std::string> DeclaredSubjects();

/* The canonical id text of key expressions: k::text, or ROW(k1, k2)::text. */
std::string KeyText(const std::vector<std::string> &key);

/* A JSON string literal. */
std::string JsonString(const std::string &value);

/* The SQL type name of a type oid (format_type_be). */
std::string TypeNameOf(Oid type);

/*
 * On a Citus coordinator, the workers whose list of restricted subjects
 * differs from the coordinator's (restriction.cpp), for check().
 */
std::vector<std::string> RestrictionListProblems();

} // namespace pg_retention::pg
