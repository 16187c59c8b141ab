/*-------------------------------------------------------------------------
 *
 * lifecycle_sql.hpp
 *		The SQL of each lifecycle stage, built for one relation: quoted
 *		identifiers, values as $n parameters.  Kept apart from the engine's
 *		control flow (engine.cpp and the stage files) so each statement can be read whole.
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/lifecycle_sql.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <string>
#include <vector>

#include "catalog/policy_store.hpp"
#include "catalog/citus.hpp"
#include "rights/subject_path.hpp"
#include "boundary/spi_query.hpp"

namespace pg_retention::pg
{

/* A foreign key that points at a table: rows it references cannot be deleted. */
struct IncomingKey {
	std::string child_qualified;
	std::vector<std::string> child_columns;
	std::vector<std::string> parent_columns;
};

/* One relation the engine processes: a table, or a leaf partition of a declared table. */
struct Target {
	const DeclaredTable *declared = nullptr;
	TableInfo leaf;               /* the relation itself */
	std::vector<std::string> key; /* its primary key columns ("" when none) */
	std::string age_sql;          /* quoted age column */
	std::string age_type;         /* its SQL type */
	std::vector<std::string> key_types;
	Oid age_type_oid = InvalidOid; /* for typed parameters (TypedSql) */
	std::vector<Oid> key_type_oids;
	std::vector<IncomingKey> blockers; /* NO ACTION / RESTRICT keys pointing at it */
	SubjectPath path;                  /* how rows reach their subject */
	CitusKind citus = CitusKind::None; /* Distributed or Reference on the coordinator */
	bool values_here = false;          /* the value stage's method runs here, not on the shards */
	bool by_key = false; /* batches select rows by primary key (lifecycle/key_rows.cpp) */
};

/* `(age, k1, k2)` for keyset comparisons. */
std::string KeysetColumns(const Target &t, const std::string &alias = "");
/* `($a::type, $b::type, ...)` for the keyset starting at parameter `first`. */
std::string KeysetParams(const Target &t, int first);
/*
 * The rows `rows` names (each the key's columns as text, in the key's order)
 * as one array parameter per key column, appended to `p`: returns
 * "$n::type[], ..." for unnest(...) (special syntax, never qualified).
 */
std::string KeyArrayParams(const Target &t, const std::vector<SqlRow> &rows,
                           std::vector<SqlValue> &p);
/* ` AND NOT EXISTS (...)` per blocking key, for row deletions. */
std::string NotBlocked(const Target &t, const std::string &alias);
/* An expression over `alias` giving the row's subject id as text. */
std::string SubjectIdSql(const Target &t, const std::string &alias);

/* An enabled BEFORE UPDATE row trigger of a table (other than the write triggers). */
struct UpdateTrigger {
	std::string name;     /* the trigger */
	std::string function; /* its function, as regprocedure text */
	bool may_assign_age;  /* its source names the age column, or it is not SQL/PL/pgSQL */
};
/*
 * The BEFORE UPDATE row triggers of `relid`: one that assigns the age column
 * makes the run's own updates reset rows' ages (check() warns, the run fails
 * the table when it happens).
 */
std::vector<UpdateTrigger> BeforeUpdateTriggers(Oid relid, const std::string &age_column);
/* "t1 (function f()), t2 (...)": the triggers that may assign the age, else all. */
std::string DescribeAgeTriggers(const std::vector<UpdateTrigger> &triggers);

} // namespace pg_retention::pg
