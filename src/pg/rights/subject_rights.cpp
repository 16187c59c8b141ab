/*-------------------------------------------------------------------------
 *
 * subject_rights.cpp
 *		The scope of one subject (see subject_rights.hpp); the SQL side is
 *		in subject_sql.cpp.
 *
 *		A scope is built from the cached declarations and kept per backend
 *		until the declarations change (PolicyGeneration), so a forget or an
 *		export pays for resolving paths and foreign keys once, not per call.
 *
 * IDENTIFICATION
 *		src/pg/rights/subject_rights.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/error.hpp"

#include "archive/archive.hpp"
#include "boundary/guard.hpp"
#include "boundary/owner_sql.hpp"
#include "rights/subject_rights.hpp"
#include "catalog/table_order.hpp"

namespace pg_retention::pg
{

namespace
{

/* The subject a table declares, or "" . */
const std::string &SubjectOf(const DeclaredTable &t)
{
	static const std::string none;
	return t.policy && t.policy->subject ? t.policy->subject->subject : none;
}

std::string Qualify(const std::string &alias, const std::string &column)
{
	return alias.empty() ? QuoteIdent(column) : alias + "." + QuoteIdent(column);
}

/* "t.c" for one column, "t(a, b)" for several. */
std::string ColumnsOfTable(const std::string &table, const std::vector<std::string> &columns)
{
	if (columns.size() == 1)
		return table + "." + QuoteIdent(columns[0]);
	return table + "(" + ColumnList(columns) + ")";
}

/*
 * Parses the text form of a composite value, "(1,abc)" or '(1,"a b")', into
 * its fields; an unquoted empty field is NULL (nullopt).  Follows
 * record_in's rules: quotes may be doubled or backslash-escaped.
 */
std::vector<SqlValue> ParseRowText(const std::string &text, bool &ok)
{
	std::vector<SqlValue> fields;
	ok = false;
	size_t i = 0;
	while (i < text.size() && isspace(static_cast<unsigned char>(text[i])))
		i++;
	if (i >= text.size() || text[i] != '(')
		return fields;
	i++;
	for (;;) {
		std::string field;
		bool quoted = false;
		while (i < text.size() && text[i] != ',' && text[i] != ')') {
			char c = text[i];
			if (c == '\\' && i + 1 < text.size()) {
				field += text[i + 1];
				i += 2;
			} else if (c == '"') {
				quoted = true;
				i++;
				while (i < text.size()) {
					if (text[i] == '\\' && i + 1 < text.size()) {
						field += text[i + 1];
						i += 2;
					} else if (text[i] == '"' && i + 1 < text.size() && text[i + 1] == '"') {
						field += '"';
						i += 2;
					} else if (text[i] == '"') {
						i++;
						break;
					} else {
						field += text[i++];
					}
				}
			} else {
				field += c;
				i++;
			}
		}
		if (i >= text.size())
			return fields;
		fields.push_back(field.empty() && !quoted ? SqlValue() : SqlValue(field));
		if (text[i++] == ')')
			break;
	}
	while (i < text.size() && isspace(static_cast<unsigned char>(text[i])))
		i++;
	ok = i == text.size();
	return fields;
}

/*
 * The text of a row of canonical values, as record_out writes it: a value
 * is quoted when empty or holding a quote, backslash, parenthesis, comma
 * or white space, with quotes and backslashes doubled.
 */
std::string RowText(const std::vector<SqlValue> &values)
{
	std::string text = "(";
	for (size_t i = 0; i < values.size(); i++) {
		if (i > 0)
			text += ',';
		const std::string &v = *values[i];
		bool quote = v.empty();
		for (char ch : v)
			quote = quote || ch == '"' || ch == '\\' || ch == '(' || ch == ')' || ch == ',' ||
			        isspace(static_cast<unsigned char>(ch));
		if (!quote) {
			text += v;
			continue;
		}
		text += '"';
		for (char ch : v) {
			if (ch == '"' || ch == '\\')
				text += ch;
			text += ch;
		}
		text += '"';
	}
	return text + ")";
}

/* The foreign keys pointing at each of `relids`, as forget judges them. */
std::map<Oid, std::vector<IncomingReference>>
LoadIncoming(const std::vector<Oid> &relids, const std::map<Oid, const DeclaredTable *> &declared)
{
	std::map<Oid, std::vector<IncomingReference>> refs;
	for (const ReferencingKey &key : LoadReferencingKeys(relids)) {
		IncomingReference ref{};
		ref.child_relid = key.child_relid;
		ref.child_qualified = key.child_qualified;
		ref.child_columns = key.columns;
		ref.parent_columns = key.referenced_columns;
		ref.on_delete = key.on_delete;
		ref.nullable = key.nullable;
		auto found = declared.find(ref.child_relid);
		const DeclaredTable *child = found != declared.end() ? found->second : nullptr;
		ref.child_declared = child != nullptr;
		if (child != nullptr && !SubjectOf(*child).empty())
			ref.child_keeps =
			    child->policy->on_forget.value_or(ForgetAction::Delete) == ForgetAction::Keep;
		refs[key.referenced_relid].push_back(std::move(ref));
	}
	return refs;
}

/*
 * Children before parents: a member is placed once every member holding a
 * foreign key to it is placed.  Ties (and cycles, placed last) go by name,
 * so the order is stable.
 */
std::vector<SubjectMember> ChildrenFirst(std::vector<SubjectMember> members)
{
	std::sort(members.begin(), members.end(), [](const SubjectMember &a, const SubjectMember &b) {
		return a.table->info.qualified < b.table->info.qualified;
	});
	std::map<Oid, std::set<Oid>> children; /* parent -> members referencing it */
	for (const SubjectMember &m : members)
		for (const IncomingReference &ref : m.references)
			children[m.table->info.relid].insert(ref.child_relid);
	return ChildrenFirstOrder(
	    members, [](const SubjectMember &m) { return m.table->info.relid; }, children);
}

} // namespace

std::string SubjectId::HashHex() const
{
	static const char digits[] = "0123456789abcdef";
	std::string hex;
	for (unsigned char c : hash) {
		hex += digits[c >> 4];
		hex += digits[c & 15];
	}
	return hex;
}

std::string TypeNameOf(Oid type)
{
	const char *name = PgCall([&] { return format_type_be(type); });
	return name;
}

std::vector<std::string> DeclaredSubjects()
{
	std::set<std::string> names;
	DeclaredTables all = AllDeclaredTables();
	for (const DeclaredTable &t : *all)
		if (!SubjectOf(t).empty())
			names.insert(SubjectOf(t));
	return {names.begin(), names.end()};
}

std::shared_ptr<const SubjectScope> SubjectScope::Load(const std::string &subject)
{
	static std::map<std::string, std::shared_ptr<const SubjectScope>> cache;
	static uint64_t cached_generation = 0;
	/* building may itself rebuild the policy cache: compare after */
	DeclaredTables all = AllDeclaredTables();
	if (cached_generation != PolicyGeneration()) {
		cache.clear();
		cached_generation = PolicyGeneration();
	}
	auto it = cache.find(subject);
	if (it != cache.end())
		return it->second;
	std::shared_ptr<SubjectScope> scope(new SubjectScope());
	scope->InitFrom(subject);
	if (cached_generation == PolicyGeneration())
		cache[subject] = scope;
	return scope;
}

void SubjectScope::InitFrom(const std::string &subject)
{
	subject_ = subject;
	all_ = AllDeclaredTables();
	bool known = false;
	std::map<Oid, const DeclaredTable *> declared;
	for (const DeclaredTable &t : *all_) {
		declared[t.info.relid] = &t;
		if (SubjectOf(t) != subject)
			continue;
		known = true;
		if (t.policy->subject->role == SubjectClause::Role::Identity)
			identity_ = &t;
	}
	if (!known) {
		std::string list;
		for (const std::string &s : DeclaredSubjects())
			list += (list.empty() ? "" : ", ") + s;
		throw Error(ErrorKind::UndefinedObject, "unknown subject \"" + subject + "\"",
		            list.empty() ? "no table declares a subject in this database"
		                         : "declared subjects: " + list,
		            "subjects are declared by retention labels: \"subject " + subject +
		                "(<key>)\" on the subject table");
	}
	if (identity_ == nullptr)
		throw Error(ErrorKind::ObjectNotInPrerequisiteState,
		            "subject \"" + subject + "\" has no subject table",
		            "tables belong to subject \"" + subject +
		                "\" but none is declared as its subject table",
		            "declare it with SECURITY LABEL FOR retention ON TABLE ... IS 'subject " +
		                subject + "(<key>)'");

	key_columns_ = identity_->policy->subject->columns;
	for (const std::string &k : key_columns_) {
		const ColumnInfo *c = identity_->info.FindColumn(k);
		if (c == nullptr)
			throw Error(ErrorKind::UndefinedColumn,
			            "key column \"" + k + "\" of subject \"" + subject + "\" does not exist",
			            "", "fix the label of " + identity_->info.qualified);
		key_types_.push_back(TypeNameOf(c->type_oid));
		key_type_oids_.push_back(c->type_oid);
	}

	std::vector<Oid> member_relids;
	for (const DeclaredTable &t : *all_)
		if (SubjectOf(t) == subject)
			member_relids.push_back(t.info.relid);
	std::map<Oid, std::vector<IncomingReference>> incoming = LoadIncoming(member_relids, declared);
	std::vector<SubjectMember> members;
	for (const DeclaredTable &t : *all_) {
		if (SubjectOf(t) != subject)
			continue;
		/* a partitioned table without partitions holds no row, and no key to follow yet */
		if (t.info.relkind == RELKIND_PARTITIONED_TABLE && LeafPartitions(t.info.relid).empty())
			continue;
		SubjectMember m;
		m.table = &t;
		m.path = ResolveSubjectPath(t, *all_);
		m.action = t.policy->on_forget.value_or(ForgetAction::Delete);
		m.references = incoming[t.info.relid];
		for (const KeyColumn &k : LoadPrimaryKey(t.info.relid))
			m.primary_key.push_back(k.name);
		for (const SubjectHop &hop : m.path.hops)
			m.hop_parents.push_back(LoadTableInfo(hop.parent_relid).qualified);
		members.push_back(std::move(m));
	}
	members = ChildrenFirst(std::move(members));
	/*
	 * Children first, decide which members lose every row of the subject:
	 * a parent's key from such a child never blocks.
	 */
	for (const SubjectMember &child : members) {
		bool deletes_all = child.action == ForgetAction::Delete && child.path.problem.empty();
		for (const IncomingReference &ref : child.references)
			deletes_all = deletes_all && !ref.KeepsInPlace();
		if (!deletes_all || child.path.hops.empty())
			continue;
		const SubjectHop &hop = child.path.hops.front();
		for (SubjectMember &parent : members)
			if (parent.table->info.relid == hop.parent_relid)
				for (IncomingReference &ref : parent.references)
					if (ref.child_relid == child.table->info.relid &&
					    ref.child_columns == hop.child_columns)
						ref.child_rows_deleted = true;
	}
	members_ = std::move(members);
}

void SubjectScope::RequireResolvedPaths(const char *action) const
{
	for (const SubjectMember &m : members_)
		if (!m.path.problem.empty())
			throw Error(ErrorKind::ObjectNotInPrerequisiteState,
			            std::string("cannot ") + action + " subject \"" + subject_ +
			                "\": the subject path of " + m.table->info.qualified +
			                " does not resolve",
			            m.path.problem,
			            "retention.check() lists the problem; fix the foreign key or the label, "
			            "then retry");
}

SubjectId SubjectScope::Canonical(const std::string &id) const
{
	std::vector<SqlValue> fields;
	if (key_columns_.size() == 1) {
		fields.push_back(id);
	} else {
		bool ok = false;
		fields = ParseRowText(id, ok);
		if (!ok || fields.size() != key_columns_.size())
			throw Error(ErrorKind::InvalidTextRepresentation,
			            "invalid id for subject \"" + subject_ + "\": \"" + id + "\"",
			            "the key of " + identity_->info.qualified + " has " +
			                std::to_string(key_columns_.size()) + " columns: (" +
			                ColumnList(key_columns_) + ")",
			            "write a composite id as a row: '(value1,value2)'");
	}
	for (const SqlValue &v : fields)
		if (!v)
			throw Error(ErrorKind::NullValueNotAllowed,
			            "invalid id for subject \"" + subject_ + "\": a key value is NULL", "",
			            "a subject's key never holds NULL");
	SubjectId out;
	for (size_t i = 0; i < fields.size(); i++)
		out.key.push_back(CanonicalValue(i, *fields[i]));
	out.text = key_columns_.size() == 1 ? *out.key[0] : RowText(out.key);
	out.hash = SubjectHash(subject_, out.text);
	return out;
}

/*
 * A key value as the key's type prints it, through its input and output
 * functions, as `value::type::text` would.  A value the type rejects keeps
 * PostgreSQL's SQLSTATE and gains what the key is.
 */
std::string SubjectScope::CanonicalValue(size_t column, const std::string &value) const
{
	Oid type = key_type_oids_[column];
	try {
		/* a domain's CHECK is the owner's code: read as the subject table's owner */
		const char *text = nullptr;
		AsTableOwner(identity_->info.relid, [&] {
			text = PgCall([&] {
				Oid input;
				Oid ioparam;
				Oid output;
				bool varlena;
				getTypeInputInfo(type, &input, &ioparam);
				Datum datum =
				    OidInputFunctionCall(input, const_cast<char *>(value.c_str()), ioparam, -1);
				getTypeOutputInfo(type, &output, &varlena);
				return OidOutputFunctionCall(output, datum);
			});
		});
		return text;
	} catch (const PgError &e) {
		ErrorData *edata = e.edata();
		std::string message = "invalid id for subject \"" + subject_ +
		                      "\": " + (edata->message ? edata->message : "");
		std::string detail = "the key of " + identity_->info.qualified + " is (" +
		                     ColumnList(key_columns_) + ") of type ";
		for (size_t i = 0; i < key_types_.size(); i++)
			detail += (i > 0 ? ", " : "") + key_types_[i];
		std::string hint = key_columns_.size() == 1
		                       ? "pass the id as text in the key's input format, e.g. '42'"
		                       : "write a composite id as a row: '(value1,value2)'";
		PgCall([&] { /* where the error lives: it outlasts this context (guard.hpp) */
			         MemoryContext errors = GetMemoryChunkContext(edata);
			         edata->message = MemoryContextStrdup(errors, message.c_str());
			         edata->detail = MemoryContextStrdup(errors, detail.c_str());
			         edata->hint = MemoryContextStrdup(errors, hint.c_str());
		});
		throw;
	}
}

std::string SubjectScope::KeyTextSql(const std::string &alias) const
{
	std::vector<std::string> key;
	for (const std::string &k : key_columns_)
		key.push_back(Qualify(alias, k));
	return KeyText(key);
}

std::string KeyText(const std::vector<std::string> &key)
{
	if (key.size() == 1)
		return key[0] + "::text";
	std::string sql = "ROW(";
	for (size_t i = 0; i < key.size(); i++)
		sql += (i > 0 ? ", " : "") + key[i];
	return sql + ")::text";
}

PathJoin SubjectScope::JoinToKey(const SubjectMember &m, const std::string &alias) const
{
	PathJoin join;
	const std::vector<SubjectHop> &hops = m.path.hops;
	join.key.resize(key_columns_.size());
	if (hops.empty()) {
		for (size_t j = 0; j < key_columns_.size(); j++)
			join.key[j] = Qualify(alias, key_columns_[j]);
		return join;
	}
	/* the last hop lands on the key: read its referencing columns, skip the join */
	std::vector<std::string> sorted_last = hops.back().parent_columns;
	std::vector<std::string> sorted_key = key_columns_;
	std::sort(sorted_last.begin(), sorted_last.end());
	std::sort(sorted_key.begin(), sorted_key.end());
	bool shortcut = sorted_last == sorted_key;
	size_t joined = shortcut ? hops.size() - 1 : hops.size();
	std::string previous = alias;
	for (size_t i = 0; i < joined; i++) {
		std::string a = "retention_h" + std::to_string(i);
		join.from += (i > 0 ? ", " : "") + m.hop_parents[i] + " " + a;
		for (size_t c = 0; c < hops[i].child_columns.size(); c++)
			join.conditions.push_back(Qualify(previous, hops[i].child_columns[c]) + " = " +
			                          Qualify(a, hops[i].parent_columns[c]));
		previous = a;
	}
	if (!shortcut) {
		for (size_t j = 0; j < key_columns_.size(); j++)
			join.key[j] = Qualify(previous, key_columns_[j]);
		return join;
	}
	const SubjectHop &last = hops.back();
	for (size_t c = 0; c < last.child_columns.size(); c++) {
		size_t j = std::find(key_columns_.begin(), key_columns_.end(), last.parent_columns[c]) -
		           key_columns_.begin();
		join.key[j] = Qualify(previous, last.child_columns[c]);
	}
	return join;
}

std::string SubjectScope::RowsOf(const SubjectMember &m, const std::string &alias) const
{
	PathJoin join = JoinToKey(m, alias);
	std::string where;
	for (const std::string &c : join.conditions)
		where += (where.empty() ? "" : " AND ") + c;
	for (size_t j = 0; j < join.key.size(); j++)
		where += (where.empty() ? "" : " AND ") + join.key[j] + " = $" + std::to_string(j + 1) +
		         "::" + key_types_[j];
	if (join.from.empty())
		return "(" + where + ")";
	return "EXISTS (SELECT 1 FROM " + join.from + " WHERE " + where + ")";
}

std::string SubjectScope::PathText(const SubjectMember &m) const
{
	if (m.path.hops.empty())
		return ColumnsOfTable(m.table->info.qualified, key_columns_) + " (subject table)";
	std::string text;
	for (const SubjectHop &hop : m.path.hops) {
		std::string child = LoadTableInfo(hop.child_relid).qualified;
		std::string parent = LoadTableInfo(hop.parent_relid).qualified;
		text += (text.empty() ? "" : ", ") + ColumnsOfTable(child, hop.child_columns) + " → " +
		        ColumnsOfTable(parent, hop.parent_columns);
	}
	return text;
}

} // namespace pg_retention::pg
