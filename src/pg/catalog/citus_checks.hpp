/*-------------------------------------------------------------------------
 *
 * citus_checks.hpp
 *		What the lifecycle and check() need to know of a Citus table beyond
 *		catalog/citus.hpp: whether a method can rewrite its columns, and the
 *		problems check() reports (a method Citus cannot
 *		run, a table distributed on a column unrelated to its subject, a
 *		node without the extension or with another server key).
 *
 * IDENTIFICATION
 *		src/pg/catalog/citus_checks.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/policy_store.hpp"

namespace pg_retention::pg
{

/*
 * Why `method` cannot rewrite a column of a Citus table ("" when it can):
 * Citus applies only IMMUTABLE functions to a distributed table's columns.
 */
std::string CitusMethodProblem(const std::string &qualified, const MethodCall &method);

/* One problem check() reports about a Citus table. */
struct CitusProblem {
	const char *severity;
	std::optional<std::string> column;
	std::string problem;
	std::string hint;
};

/* The Citus problems of a declared table (none for a plain table). */
std::vector<CitusProblem> CitusProblems(const DeclaredTable &t,
                                        const std::vector<DeclaredTable> &all);

} // namespace pg_retention::pg
