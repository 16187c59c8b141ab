/*-------------------------------------------------------------------------
 *
 * subject_path.cpp
 *		Resolving and checking subject paths (see subject_path.hpp).
 *
 * IDENTIFICATION
 *		src/pg/rights/subject_path.cpp
 *-------------------------------------------------------------------------
 */
#include <string>
#include <vector>

#include "base/error.hpp"

#include "rights/subject_path.hpp"
#include "boundary/guard.hpp"

namespace pg_retention::pg
{

namespace
{

const DeclaredTable *FindByRelid(const std::vector<DeclaredTable> &all, Oid relid)
{
	for (const DeclaredTable &t : all)
		if (t.info.relid == relid)
			return &t;
	return nullptr;
}

bool DeclaresSubject(const DeclaredTable &t, const std::string &subject)
{
	return t.policy && t.policy->subject && t.policy->subject->subject == subject;
}

bool IsIdentity(const DeclaredTable &t)
{
	return t.policy && t.policy->subject &&
	       t.policy->subject->role == SubjectClause::Role::Identity;
}

/*
 * The foreign keys of `table` that can be its hop towards `subject`:
 * the one on the `via` columns, or every key to a table declared for
 * the same subject.  Self-references are never a hop.
 */
std::vector<ForeignKey> CandidateHops(const DeclaredTable &table,
                                      const std::vector<DeclaredTable> &all,
                                      const std::vector<ForeignKey> &keys)
{
	const SubjectClause &s = *table.policy->subject;
	std::vector<ForeignKey> candidates;
	for (const ForeignKey &fk : keys) {
		if (fk.referenced_relid == table.info.relid)
			continue;
		if (!s.columns.empty()) {
			if (fk.columns == s.columns)
				candidates.push_back(fk);
			continue;
		}
		const DeclaredTable *parent = FindByRelid(all, fk.referenced_relid);
		if (parent != nullptr && DeclaresSubject(*parent, s.subject))
			candidates.push_back(fk);
	}
	return candidates;
}

std::string DescribeCandidates(const std::vector<ForeignKey> &candidates)
{
	std::string text;
	for (const ForeignKey &fk : candidates) {
		if (!text.empty())
			text += ", ";
		text += "via " + ColumnList(fk.columns);
	}
	return text;
}

/*
 * What keeps a partitioned table's path from resolving when its key towards
 * the subject is declared on some partitions only: "" when no such key.
 */
std::string MissingOnPartitions(const DeclaredTable &table, const std::vector<DeclaredTable> &all)
{
	std::string text;
	for (const PartialForeignKey &p : LoadPartialForeignKeys(table.info.relid)) {
		if (CandidateHops(table, all, {p.key}).empty())
			continue;
		std::string missing;
		for (const std::string &leaf : p.missing)
			missing += (missing.empty() ? "" : ", ") + leaf;
		text += (text.empty() ? "" : "; ") + std::string("the foreign key on ") +
		        ColumnList(p.key.columns) + " is declared on some partitions of " +
		        table.info.qualified + " only: missing on " + missing;
	}
	return text;
}

/*
 * Naming a subject table claims the subject name for every table owner of
 * the database: whoever declares it first decides what forget, export and
 * restriction reach.  So only a superuser or a member of retention_admin may
 * declare a subject table; the owner of a table already declared the
 * subject table of that name may relabel it (change its delays).
 */
void RequireSubjectTableRights(const DeclaredTable &table, const std::vector<DeclaredTable> &all)
{
	const std::string &subject = table.policy->subject->subject;
	for (const DeclaredTable &t : all)
		if (t.info.relid == table.info.relid && IsIdentity(t) && DeclaresSubject(t, subject))
			return;
	bool allowed = PgCall([] {
		Oid admin = get_role_oid("retention_admin", true);
		return superuser() || (OidIsValid(admin) && has_privs_of_role(GetUserId(), admin));
	});
	if (!allowed)
		throw Error(ErrorKind::InsufficientPrivilege,
		            "permission denied to declare the subject table of subject \"" + subject + "\"",
		            "a subject table names the subject for every table of the database",
		            "ask a member of retention_admin to declare it; owners of other tables attach "
		            "them with \"subject " +
		                subject + " via <column>\"");
}

} // namespace

std::string ColumnList(const std::vector<std::string> &columns)
{
	std::string text;
	for (const std::string &c : columns) {
		if (!text.empty())
			text += ", ";
		text += QuoteIdent(c);
	}
	return text;
}

SubjectPath ResolveSubjectPath(const DeclaredTable &table, const std::vector<DeclaredTable> &all)
{
	SubjectPath path;
	if (!table.policy || !table.policy->subject) {
		path.problem = "no subject declared";
		return path;
	}
	path.subject = table.policy->subject->subject;
	const DeclaredTable *current = &table;
	std::vector<Oid> seen;
	while (!IsIdentity(*current)) {
		seen.push_back(current->info.relid);
		if (!current->policy || !current->policy->subject ||
		    current->policy->subject->subject != path.subject) {
			path.problem = current->info.qualified + " is not declared for subject " + path.subject;
			return path;
		}
		std::vector<ForeignKey> candidates =
		    CandidateHops(*current, all, LoadForeignKeys(current->info.relid));
		if (candidates.size() != 1) {
			std::string partial =
			    candidates.empty() ? MissingOnPartitions(*current, all) : std::string();
			if (candidates.empty() && current->info.relkind == RELKIND_PARTITIONED_TABLE &&
			    LeafPartitions(current->info.relid).empty())
				partial = current->info.qualified +
				          " has no partitions: no foreign key to follow until one is attached";
			path.problem = !partial.empty() ? partial
			               : candidates.empty()
			                   ? "no foreign key leads from " + current->info.qualified +
			                         " to a table declared for subject " + path.subject
			                   : "more than one foreign key leads from " + current->info.qualified +
			                         " towards subject " + path.subject + ": " +
			                         DescribeCandidates(candidates);
			return path;
		}
		const ForeignKey &fk = candidates.front();
		path.hops.push_back(SubjectHop{current->info.relid, fk.referenced_relid, fk.columns,
		                               fk.referenced_columns});
		current = FindByRelid(all, fk.referenced_relid);
		if (current == nullptr) {
			path.problem = "the table referenced by " + ColumnList(fk.columns) +
			               " has no retention label for subject " + path.subject;
			return path;
		}
		for (Oid s : seen)
			if (s == current->info.relid) {
				path.problem = "the foreign keys towards subject " + path.subject + " form a cycle";
				return path;
			}
	}
	path.subject_relid = current->info.relid;
	path.key_columns = current->policy->subject->columns;
	return path;
}

void CheckSubjectDeclaration(const DeclaredTable &table)
{
	if (!table.policy || !table.policy->subject)
		return;
	const SubjectClause &s = *table.policy->subject;
	DeclaredTables all = AllDeclaredTables();

	if (s.role == SubjectClause::Role::Identity) {
		RequireSubjectTableRights(table, *all);
		for (const DeclaredTable &other : *all)
			if (other.info.relid != table.info.relid && DeclaresSubject(other, s.subject) &&
			    IsIdentity(other))
				throw Error(ErrorKind::InvalidObjectDefinition,
				            "subject \"" + s.subject + "\" already has a subject table",
				            other.info.qualified + " is declared as the subject table of \"" +
				                s.subject + "\"",
				            "declare this table with \"subject " + s.subject +
				                " via <column>\" to attach it to that subject");
		return;
	}

	std::vector<ForeignKey> keys = LoadForeignKeys(table.info.relid);
	std::vector<ForeignKey> candidates = CandidateHops(table, *all, keys);
	if (candidates.size() == 1) {
		const DeclaredTable *parent = FindByRelid(*all, candidates.front().referenced_relid);
		std::string columns = ColumnList(s.columns);
		if (parent == nullptr || !DeclaresSubject(*parent, s.subject))
			PgCall([&] {
				ereport(WARNING,
				        (errmsg("the table referenced by %s is not declared for subject \"%s\"",
				                columns.c_str(), s.subject.c_str()),
				         errhint("Declare it with \"subject %s(<key>)\" or \"subject %s via "
				                 "<column>\"; retention.check() reports the path until then.",
				                 s.subject.c_str(), s.subject.c_str())));
			});
		return;
	}

	if (candidates.size() > 1)
		throw Error(ErrorKind::InvalidObjectDefinition,
		            "subject path of " + table.info.qualified + " is ambiguous",
		            "more than one foreign key leads towards subject \"" + s.subject +
		                "\": " + DescribeCandidates(candidates),
		            "state the path with \"subject " + s.subject + " via <column>\"");
	std::string partial = MissingOnPartitions(table, *all);
	if (!partial.empty()) {
		/* partitions attached or restored before their keys: reported until they all have it */
		PgCall([&] {
			ereport(WARNING,
			        (errmsg("subject path of %s is not resolved yet", table.info.qualified.c_str()),
			         errdetail("%s.", partial.c_str()),
			         errhint("Add the foreign key to those partitions, or declare it once on "
			                 "the partitioned table; retention.check() reports the path until "
			                 "it resolves.")));
		});
		return;
	}
	if (!keys.empty())
		throw Error(ErrorKind::InvalidObjectDefinition,
		            "no subject path from " + table.info.qualified + " to subject \"" + s.subject +
		                "\"",
		            s.columns.empty()
		                ? "no foreign key of the table references a table declared for subject \"" +
		                      s.subject + "\""
		                : "no foreign key of the table is on " + ColumnList(s.columns),
		            "declare the referenced table for subject \"" + s.subject +
		                "\" first, or name the foreign key columns with via");
	/* No foreign key at all yet: pg_restore adds them after the labels. */
	PgCall([&] {
		ereport(WARNING,
		        (errmsg("subject path of %s is not resolved yet", table.info.qualified.c_str()),
		         errdetail("The table has no foreign key yet."),
		         errhint("Add the foreign key towards subject \"%s\"; retention.check() reports "
		                 "the path until it resolves.",
		                 s.subject.c_str())));
	});
}

} // namespace pg_retention::pg
