/*-------------------------------------------------------------------------
 *
 * subject_path.hpp
 *		How a declared table's rows reach their subject: the chain of
 *		foreign keys from the table up to the subject table.
 *
 *		Each hop is a foreign key from a table to a parent that is itself
 *		declared for the same subject, so paths follow the declarations and
 *		never wander through unrelated tables.  A `via` clause names the
 *		hop; without it the hop is inferred and must be unique.
 *
 *		Foreign keys are restored after labels by pg_restore, so a path
 *		that cannot be resolved because the table has no foreign key at all
 *		yet is a warning when declared, and retention.check() reports it
 *		until it resolves.
 *
 * IDENTIFICATION
 *		src/pg/rights/subject_path.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <string>
#include <vector>

#include "catalog/policy_store.hpp"

namespace pg_retention::pg
{

struct SubjectHop {
	Oid child_relid;
	Oid parent_relid;
	std::vector<std::string> child_columns;
	std::vector<std::string> parent_columns;
};

struct SubjectPath {
	std::string subject;
	Oid subject_relid = InvalidOid;       /* the subject table */
	std::vector<std::string> key_columns; /* the subject table's key */
	std::vector<SubjectHop> hops;         /* from the table up to the subject table */
	std::string problem;                  /* why it does not resolve, or "" */
};

/* Checks a table's subject clause as it is being declared (errors or warns). */
void CheckSubjectDeclaration(const DeclaredTable &table);

/* The path from `table` to its subject through the other declarations. */
SubjectPath ResolveSubjectPath(const DeclaredTable &table, const std::vector<DeclaredTable> &all);

/* "(a, b)" for messages. */
std::string ColumnList(const std::vector<std::string> &columns);

} // namespace pg_retention::pg
