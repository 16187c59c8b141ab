/*-------------------------------------------------------------------------
 *
 * subject_sql.cpp
 *		The SQL side of a subject's scope: reading the subject arguments of
 *		the rights functions, JSON values, and the two SQL functions that
 *		only read a scope: retention.subject_map(subject) and
 *		retention._canonical_id(subject, id).
 *
 * IDENTIFICATION
 *		src/pg/rights/subject_sql.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>
#include <string>
#include <vector>

#include "base/error.hpp"

#include "boundary/guard.hpp"
#include "boundary/result_set.hpp"
#include "rights/subject_rights.hpp"

extern "C" {
#include "utils/jsonb.h"
}

namespace pg_retention::pg
{

std::string JsonString(const std::string &value)
{
	std::string out = "\"";
	for (unsigned char c : value) {
		switch (c) {
		case '"':
			out += "\\\"";
			break;
		case '\\':
			out += "\\\\";
			break;
		case '\n':
			out += "\\n";
			break;
		case '\r':
			out += "\\r";
			break;
		case '\t':
			out += "\\t";
			break;
		default:
			if (c < 0x20) {
				char buf[8];
				snprintf(buf, sizeof(buf), "\\u%04x", c);
				out += buf;
			} else {
				out += static_cast<char>(c);
			}
		}
	}
	return out + "\"";
}

ResolvedSubject ResolveSubject(const std::string &subject, const std::string &id,
                               const char *action)
{
	ResolvedSubject resolved;
	resolved.scope = SubjectScope::Load(subject);
	resolved.scope->RequireResolvedPaths(action);
	resolved.id = resolved.scope->Canonical(id);
	return resolved;
}

ResolvedSubject SubjectArguments(FunctionCallInfo fcinfo, const char *action)
{
	std::string subject = RequiredText(fcinfo, 0, "subject");
	return ResolveSubject(subject, RequiredText(fcinfo, 1, "subject id"), action);
}

std::string RequiredText(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		throw Error(ErrorKind::NullValueNotAllowed, std::string(what) + " must not be NULL", "",
		            "pass a subject name (as declared in the labels) and the subject's id as text");
	return OptionalText(fcinfo, n).value();
}

SqlValue OptionalText(FunctionCallInfo fcinfo, int n)
{
	if (PG_ARGISNULL(n))
		return std::nullopt;
	/* detoasting may ereport: through PgCall, other arguments' strings may be alive */
	text *t = PgCall([&] { return PG_GETARG_TEXT_PP(n); });
	return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

Datum JsonbDatum(const std::string &json)
{
	return PgCall([&] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(json.c_str())); });
}

/* retention._canonical_id(subject text, id text) -> text */
PGR_FUNCTION(retention_canonical_id)
{
	std::string subject = RequiredText(fcinfo, 0, "subject");
	std::string id = RequiredText(fcinfo, 1, "subject id");
	std::string canonical = SubjectScope::Load(subject)->Canonical(id).text;
	return PgCall([&] { return PointerGetDatum(cstring_to_text(canonical.c_str())); });
}

/*
 * retention.subject_map(subject) -> (table_name, depth, path, on_forget,
 * personal_columns, problem): where the subject's data lives.
 */
PGR_FUNCTION(retention_subject_map)
{
	std::string subject = RequiredText(fcinfo, 0, "subject");
	std::shared_ptr<const SubjectScope> scope = SubjectScope::Load(subject);
	ResultSet out(fcinfo);
	std::vector<const SubjectMember *> rows;
	for (const SubjectMember &m : scope->members())
		rows.push_back(&m);
	/* the subject table first, then by distance and name */
	std::stable_sort(rows.begin(), rows.end(), [](const SubjectMember *a, const SubjectMember *b) {
		if (a->path.hops.size() != b->path.hops.size())
			return a->path.hops.size() < b->path.hops.size();
		return a->table->info.qualified < b->table->info.qualified;
	});
	for (const SubjectMember *m : rows) {
		std::string columns = "{";
		for (const DeclaredColumn &c : m->table->columns) {
			columns += columns.size() > 1 ? "," : "";
			columns += "\"";
			for (char ch : c.info.facts.name)
				columns += (ch == '"' || ch == '\\') ? std::string("\\") + ch : std::string(1, ch);
			columns += "\"";
		}
		columns += "}";
		bool resolved = m->path.problem.empty();
		out.Add({m->table->info.relid, static_cast<int64_t>(m->path.hops.size()),
		         resolved ? Value(scope->PathText(*m)) : Value(),
		         std::string(ForgetActionName(m->action)), columns,
		         resolved ? Value() : Value(m->path.problem)});
	}
	return (Datum)0;
}

} // namespace pg_retention::pg
