/*-------------------------------------------------------------------------
 *
 * citus_checks.cpp
 *		Citus tables as the lifecycle and check() see them (citus_checks.hpp).
 *		Reads Citus's own catalog (pg_dist_partition) only when it exists.
 *
 * IDENTIFICATION
 *		src/pg/catalog/citus_checks.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>
#include <string>
#include <vector>

#include "catalog/citus_checks.hpp"
#include "catalog/citus.hpp"
#include "boundary/spi_query.hpp"
#include "rights/subject_path.hpp"

namespace pg_retention::pg
{

namespace
{

/*
 * The nodes whose pg_retention cannot process this cluster's shards: no
 * extension, no server key, or another key than this node's (keyed values
 * would differ by shard).  Empty on a node that is not the coordinator.
 */
std::vector<std::string> NodeKeyProblems()
{
	std::vector<std::string> problems;
	if (!IsCitusCoordinator())
		return problems;
	std::string mine =
	    Sql("SELECT coalesce((SELECT fingerprint FROM retention.key_info()), '')", {})
	        .Scalar()
	        .value_or("");
	SqlResult nodes =
	    Sql("SELECT nodename || ':' || nodeport, success::text, result FROM "
	        "pg_catalog.run_command_on_workers($$SELECT coalesce((SELECT fingerprint FROM "
	        "retention.key_info()), '')$$) ORDER BY 1",
	        {});
	for (const SqlRow &row : nodes.rows) {
		std::string node = row[0].value_or("?");
		std::string result = row[2].value_or("");
		if (row[1] != SqlValue("true"))
			problems.push_back("node " + node + " cannot run pg_retention: " + result);
		else if (result != mine)
			problems.push_back(
			    "node " + node + " holds " +
			    (result.empty() ? std::string("no server key")
			                    : "a different server key (fingerprint " + result + ")") +
			    " from this coordinator's" + (mine.empty() ? "" : " (fingerprint " + mine + ")"));
	}
	return problems;
}

} // namespace

std::string CitusMethodProblem(const std::string &qualified, const MethodCall &method)
{
	const MethodSpec &spec = *method.spec;
	bool random = method.args.size() > 1 && method.args[1].text == "random";
	if (spec.deterministic && !spec.needs_key && !random)
		return "";
	return std::string("method ") + spec.name + " cannot run on the Citus table " + qualified +
	       ": it " +
	       (spec.needs_key && !random ? "uses the server key (STABLE)" : "is random (VOLATILE)") +
	       ", and Citus applies only IMMUTABLE functions to a distributed table's columns";
}

std::vector<CitusProblem> CitusProblems(const DeclaredTable &t,
                                        const std::vector<DeclaredTable> &all)
{
	std::vector<CitusProblem> out;
	CitusRelation citus = CitusRelationOf(t.info.relid);
	if (citus.kind != CitusKind::Distributed && citus.kind != CitusKind::Reference)
		return out;
	for (const DeclaredColumn &c : t.columns) {
		if (c.policy.minimize && !CitusMethodProblem(t.info.qualified, *c.policy.minimize).empty())
			out.push_back({"warning", c.info.facts.name,
			               CitusMethodProblem(t.info.qualified, *c.policy.minimize),
			               "the lifecycle does not minimize this column's existing rows (the run "
			               "is partial): minimize to an IMMUTABLE method (redact, partial, "
			               "mask_email, generalize, nullify, constant)"});
		if (c.policy.anonymize_using &&
		    !CitusMethodProblem(t.info.qualified, *c.policy.anonymize_using).empty())
			out.push_back({"warning", c.info.facts.name,
			               CitusMethodProblem(t.info.qualified, *c.policy.anonymize_using),
			               "the lifecycle computes it on the coordinator: each batch's values "
			               "pass through the coordinator (slower than an IMMUTABLE method run "
			               "on the shards)"});
	}
	const std::string &dist = citus.distribution_column;
	if (!dist.empty() && t.policy && t.policy->subject) {
		SubjectPath path = ResolveSubjectPath(t, all);
		std::vector<std::string> subject_columns =
		    path.hops.empty() ? path.key_columns : path.hops.front().child_columns;
		if (path.problem.empty() && std::find(subject_columns.begin(), subject_columns.end(),
		                                      dist) == subject_columns.end())
			out.push_back({"warning", dist,
			               "the table is distributed on " + dist +
			                   ", a column unrelated to its subject " + t.policy->subject->subject,
			               "forget and export of one subject query every shard; distribute on "
			               "the subject's key to route them to one node"});
	}
	for (const std::string &p : NodeKeyProblems())
		out.push_back({"error", std::nullopt, p,
		               "install pg_retention and load the same retention.key_file on every node"});
	return out;
}

} // namespace pg_retention::pg
