/*-------------------------------------------------------------------------
 *
 * catalog.cpp
 *		Catalog access for declared tables (see catalog.hpp).
 *
 *		Each PostgreSQL call sits in a PgCall lambda that only touches
 *		PostgreSQL data (palloc'd arrays, Datums); the C++ containers are
 *		filled outside the lambdas.
 *
 * IDENTIFICATION
 *		src/pg/catalog/catalog.cpp
 *-------------------------------------------------------------------------
 */
#include <algorithm>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "boundary/guard.hpp"
#include "boundary/spi_query.hpp"

extern "C" {
#include "catalog/pg_index.h"
#include "utils/array.h"
}

namespace pg_retention::pg
{

namespace
{

/* A column as read under PgCall: plain data only. */
struct RawColumn {
	NameData name;
	AttrNumber attnum;
	Oid type_oid;
	int32 typmod;
	Oid base_type_oid;
	int32 base_typmod;
	bool not_null;
	bool domain_checks;
	char generated; /* attgenerated, or 'a' for an identity GENERATED ALWAYS */
	char *type_name;
};

/*
 * NOT NULL and CHECK constraints of a domain and of the domains it is
 * built on (a domain over a domain inherits both).
 */
void ReadDomainConstraints(Oid type_oid, bool *not_null, bool *checks)
{
	Relation conrel = nullptr;
	for (;;) {
		HeapTuple tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type_oid));
		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for type %u", type_oid);
		Form_pg_type type = (Form_pg_type)GETSTRUCT(tuple);
		bool domain = type->typtype == TYPTYPE_DOMAIN;
		Oid base = type->typbasetype;
		*not_null = *not_null || (domain && type->typnotnull);
		ReleaseSysCache(tuple);
		if (!domain)
			break;
		if (conrel == nullptr)
			conrel = table_open(ConstraintRelationId, AccessShareLock);
		ScanKeyData key;
		ScanKeyInit(&key, Anum_pg_constraint_contypid, BTEqualStrategyNumber, F_OIDEQ,
		            ObjectIdGetDatum(type_oid));
		SysScanDesc scan = systable_beginscan(conrel, ConstraintTypidIndexId, true, NULL, 1, &key);
		HeapTuple con;
		while (HeapTupleIsValid(con = systable_getnext(scan)))
			if (((Form_pg_constraint)GETSTRUCT(con))->contype == CONSTRAINT_CHECK)
				*checks = true;
		systable_endscan(scan);
		type_oid = base;
	}
	if (conrel != nullptr)
		table_close(conrel, AccessShareLock);
}

struct RawTable {
	char *schema;
	char *name;
	char relkind;
	bool is_partition;
	int ncolumns;
	RawColumn *columns;
};

RawTable *ReadRawTable(Oid relid)
{
	/*
	 * From the syscache, without a lock: the policy cache reads every
	 * declared table, from the write trigger too, and must not wait for a
	 * table another session holds (ALTER TABLE); a concurrent change
	 * invalidates the cache anyway.  Opening the relation would need a lock
	 * (guard.hpp: locked before opened).
	 */
	HeapTuple class_tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(class_tuple))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
		                errmsg("relation with OID %u does not exist", relid)));
	Form_pg_class form = reinterpret_cast<Form_pg_class>(GETSTRUCT(class_tuple));
	RawTable *raw = static_cast<RawTable *>(palloc0(sizeof(RawTable)));
	raw->schema = get_namespace_name(form->relnamespace);
	raw->name = pstrdup(NameStr(form->relname));
	raw->relkind = form->relkind;
	raw->is_partition = form->relispartition;
	int natts = form->relnatts;
	ReleaseSysCache(class_tuple);
	raw->columns = static_cast<RawColumn *>(palloc0(sizeof(RawColumn) * (natts + 1)));
	for (int attnum = 1; attnum <= natts; attnum++) {
		HeapTuple att_tuple =
		    SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
		if (!HeapTupleIsValid(att_tuple))
			continue;
		Form_pg_attribute att = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(att_tuple));
		if (!att->attisdropped) {
			RawColumn *col = &raw->columns[raw->ncolumns++];
			col->name = att->attname;
			col->attnum = att->attnum;
			col->type_oid = att->atttypid;
			col->typmod = att->atttypmod;
			col->base_typmod = att->atttypmod;
			col->base_type_oid = getBaseTypeAndTypmod(att->atttypid, &col->base_typmod);
			col->not_null = att->attnotnull;
			ReadDomainConstraints(att->atttypid, &col->not_null, &col->domain_checks);
			col->generated =
			    att->attidentity == ATTRIBUTE_IDENTITY_ALWAYS ? 'a' : att->attgenerated;
			col->type_name = format_type_with_typemod(att->atttypid, att->atttypmod);
		}
		ReleaseSysCache(att_tuple);
	}
	return raw;
}

/* Text of a Datum array of attnums as column names of relid. */
std::vector<std::string> AttnumsToNames(Oid relid, const std::vector<AttrNumber> &attnums)
{
	std::vector<std::string> names;
	for (AttrNumber attnum : attnums) {
		char *name = PgCall([&] { return get_attname(relid, attnum, false); });
		names.emplace_back(name);
	}
	return names;
}

struct RawForeignKey {
	Oid oid;
	NameData name;
	Oid confrelid;
	int nkeys;
	AttrNumber conkey[INDEX_MAX_KEYS];
	AttrNumber confkey[INDEX_MAX_KEYS];
};

/* Reads an int2[] constraint column into `out`. */
int ReadKeyArray(HeapTuple tuple, AttrNumber column, AttrNumber *out)
{
	bool isnull;
	Datum datum = SysCacheGetAttr(CONSTROID, tuple, column, &isnull);
	if (isnull)
		return 0;
	ArrayType *arr = DatumGetArrayTypeP(datum);
	int n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	n = Min(n, INDEX_MAX_KEYS);
	memcpy(out, ARR_DATA_PTR(arr), sizeof(int16) * n);
	return n;
}

List *ReadRawForeignKeys(Oid relid)
{
	List *result = NIL;
	Relation conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber, F_OIDEQ,
	            ObjectIdGetDatum(relid));
	SysScanDesc scan =
	    systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true, NULL, 1, &key);
	HeapTuple tuple;
	while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
		Form_pg_constraint con = (Form_pg_constraint)GETSTRUCT(tuple);
		if (con->contype != CONSTRAINT_FOREIGN)
			continue;
		/* a partition's copy of its parent's key is not a path of its own */
		if (OidIsValid(con->conparentid))
			continue;
		RawForeignKey *fk = static_cast<RawForeignKey *>(palloc0(sizeof(RawForeignKey)));
		fk->oid = con->oid;
		fk->name = con->conname;
		fk->confrelid = con->confrelid;
		fk->nkeys = ReadKeyArray(tuple, Anum_pg_constraint_conkey, fk->conkey);
		ReadKeyArray(tuple, Anum_pg_constraint_confkey, fk->confkey);
		result = lappend(result, fk);
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
	return result;
}

struct RawLabel {
	Oid objoid;
	int32 objsubid;
	char *label;
};

/* Scans pg_seclabel for our provider's labels on pg_class objects. */
List *ReadRawLabels(Oid only_relid)
{
	List *result = NIL;
	Relation rel = table_open(SecLabelRelationId, AccessShareLock);
	ScanKeyData keys[2];
	int nkeys = 0;
	if (OidIsValid(only_relid))
		ScanKeyInit(&keys[nkeys++], Anum_pg_seclabel_objoid, BTEqualStrategyNumber, F_OIDEQ,
		            ObjectIdGetDatum(only_relid));
	ScanKeyInit(&keys[nkeys++], Anum_pg_seclabel_classoid, BTEqualStrategyNumber, F_OIDEQ,
	            ObjectIdGetDatum(RelationRelationId));
	SysScanDesc scan =
	    systable_beginscan(rel, SecLabelObjectIndexId, OidIsValid(only_relid), NULL, nkeys, keys);
	HeapTuple tuple;
	while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
		FormData_pg_seclabel *form = (FormData_pg_seclabel *)GETSTRUCT(tuple);
		bool isnull;
		Datum provider =
		    heap_getattr(tuple, Anum_pg_seclabel_provider, RelationGetDescr(rel), &isnull);
		if (isnull || strcmp(TextDatumGetCString(provider), kLabelProvider) != 0)
			continue;
		Datum label = heap_getattr(tuple, Anum_pg_seclabel_label, RelationGetDescr(rel), &isnull);
		if (isnull)
			continue;
		RawLabel *raw = static_cast<RawLabel *>(palloc(sizeof(RawLabel)));
		raw->objoid = form->objoid;
		raw->objsubid = form->objsubid;
		raw->label = TextDatumGetCString(label);
		result = lappend(result, raw);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

std::vector<StoredLabel> LoadLabels(Oid only_relid)
{
	List *raw = PgCall([&] { return ReadRawLabels(only_relid); });
	std::vector<StoredLabel> labels;
	ListCell *lc;
	foreach (lc, raw) {
		RawLabel *l = static_cast<RawLabel *>(lfirst(lc));
		labels.push_back(StoredLabel{l->objoid, l->objsubid, l->label});
	}
	return labels;
}

} // namespace

std::string QuoteIdent(const std::string &name)
{
	const char *quoted = PgCall([&] { return quote_identifier(name.c_str()); });
	return quoted;
}

TypeCategory CategoryOfType(Oid type_oid)
{
	switch (type_oid) {
	case TEXTOID:
	case VARCHAROID:
	case BPCHAROID:
		return TypeCategory::Text;
	case INT2OID:
	case INT4OID:
	case INT8OID:
		return TypeCategory::Integer;
	case NUMERICOID:
	case FLOAT4OID:
	case FLOAT8OID:
		return TypeCategory::Numeric;
	case DATEOID:
		return TypeCategory::Date;
	case TIMESTAMPOID:
	case TIMESTAMPTZOID:
		return TypeCategory::Timestamp;
	case INETOID:
	case CIDROID:
		return TypeCategory::Inet;
	default:
		break;
	}
	return TypeCategory::Other;
}

TableFacts TableInfo::Facts() const
{
	TableFacts facts;
	facts.qualified_name = qualified;
	for (const ColumnInfo &c : columns)
		facts.columns.push_back(c.facts);
	return facts;
}

const ColumnInfo *TableInfo::FindColumn(const std::string &column) const
{
	for (const ColumnInfo &c : columns)
		if (c.facts.name == column)
			return &c;
	return nullptr;
}

const ColumnInfo *TableInfo::FindColumn(AttrNumber attnum) const
{
	for (const ColumnInfo &c : columns)
		if (c.attnum == attnum)
			return &c;
	return nullptr;
}

TableInfo LoadTableInfo(Oid relid)
{
	RawTable *raw = PgCall([&] { return ReadRawTable(relid); });
	TableInfo info;
	info.relid = relid;
	info.schema = raw->schema;
	info.name = raw->name;
	info.relkind = raw->relkind;
	info.is_partition = raw->is_partition;
	info.qualified = PgCall([&] { return quote_qualified_identifier(raw->schema, raw->name); });
	for (int i = 0; i < raw->ncolumns; i++) {
		const RawColumn &rc = raw->columns[i];
		ColumnInfo c;
		c.facts.name = NameStr(rc.name);
		c.facts.category = CategoryOfType(rc.base_type_oid);
		c.facts.type_name = rc.type_name;
		c.facts.not_null = rc.not_null;
		c.facts.generated = rc.generated == ATTRIBUTE_GENERATED_STORED ? Generated::Stored
		                    : rc.generated == 'a'                      ? Generated::IdentityAlways
		                                                               : Generated::No;
		bool characters = rc.base_type_oid == VARCHAROID || rc.base_type_oid == BPCHAROID;
		c.facts.max_chars =
		    characters && rc.base_typmod >= VARHDRSZ ? rc.base_typmod - VARHDRSZ : -1;
		c.facts.domain_checks = rc.domain_checks;
		c.attnum = rc.attnum;
		c.type_oid = rc.type_oid;
		c.typmod = rc.typmod;
		info.columns.push_back(std::move(c));
	}
	return info;
}

std::vector<StoredLabel> LoadAllLabels()
{
	return LoadLabels(InvalidOid);
}

std::vector<StoredLabel> LoadLabelsOf(Oid relid)
{
	return LoadLabels(relid);
}

namespace
{

/* The foreign keys declared on `relid` itself (a partition's copies of its parent's keys excluded).
 */
std::vector<ForeignKey> OwnForeignKeys(Oid relid)
{
	List *raw = PgCall([&] { return ReadRawForeignKeys(relid); });
	std::vector<ForeignKey> keys;
	ListCell *lc;
	foreach (lc, raw) {
		RawForeignKey *r = static_cast<RawForeignKey *>(lfirst(lc));
		ForeignKey fk;
		fk.constraint_oid = r->oid;
		fk.constraint_name = NameStr(r->name);
		fk.referenced_relid = r->confrelid;
		fk.columns =
		    AttnumsToNames(relid, std::vector<AttrNumber>(r->conkey, r->conkey + r->nkeys));
		fk.referenced_columns = AttnumsToNames(
		    r->confrelid, std::vector<AttrNumber>(r->confkey, r->confkey + r->nkeys));
		keys.push_back(std::move(fk));
	}
	return keys;
}

bool SameKey(const ForeignKey &a, const ForeignKey &b)
{
	return a.referenced_relid == b.referenced_relid && a.columns == b.columns &&
	       a.referenced_columns == b.referenced_columns;
}

/* A key declared on leaf partitions: the first one seen, and the leaves that have it. */
struct KeyOnLeaves {
	ForeignKey key;
	std::vector<Oid> leaves;
};

/*
 * The keys declared on the leaf partitions of a partitioned table, each with
 * the leaves that declare it (keys also declared on `relid` itself left out).
 */
std::vector<KeyOnLeaves> KeysOnLeaves(Oid relid, const std::vector<ForeignKey> &own,
                                      std::vector<Oid> &leaves)
{
	std::vector<KeyOnLeaves> found;
	if (PgCall([&] { return get_rel_relkind(relid); }) != RELKIND_PARTITIONED_TABLE)
		return found;
	leaves = LeafPartitions(relid);
	for (Oid leaf : leaves)
		for (ForeignKey &fk : OwnForeignKeys(leaf)) {
			bool on_parent = false;
			for (const ForeignKey &p : own)
				on_parent = on_parent || SameKey(p, fk);
			if (on_parent)
				continue;
			KeyOnLeaves *entry = nullptr;
			for (KeyOnLeaves &k : found)
				if (SameKey(k.key, fk))
					entry = &k;
			if (entry == nullptr) {
				fk.constraint_oid = InvalidOid;
				found.push_back(KeyOnLeaves{std::move(fk), {}});
				entry = &found.back();
			}
			if (entry->leaves.empty() || entry->leaves.back() != leaf)
				entry->leaves.push_back(leaf);
		}
	return found;
}

} // namespace

std::vector<ForeignKey> LoadForeignKeys(Oid relid)
{
	std::vector<ForeignKey> keys = OwnForeignKeys(relid);
	std::vector<Oid> leaves;
	for (KeyOnLeaves &k : KeysOnLeaves(relid, keys, leaves))
		if (k.leaves.size() == leaves.size())
			keys.push_back(std::move(k.key));
	return keys;
}

std::vector<PartialForeignKey> LoadPartialForeignKeys(Oid relid)
{
	std::vector<PartialForeignKey> partial;
	std::vector<Oid> leaves;
	for (KeyOnLeaves &k : KeysOnLeaves(relid, OwnForeignKeys(relid), leaves)) {
		if (k.leaves.size() == leaves.size())
			continue;
		PartialForeignKey p{std::move(k.key), {}};
		for (Oid leaf : leaves)
			if (std::find(k.leaves.begin(), k.leaves.end(), leaf) == k.leaves.end())
				p.missing.push_back(LoadTableInfo(leaf).qualified);
		partial.push_back(std::move(p));
	}
	return partial;
}

std::vector<ReferencingKey> LoadReferencingKeys(const std::vector<Oid> &referenced)
{
	std::string relids = "{";
	for (Oid r : referenced)
		relids += (relids.size() > 1 ? "," : "") + std::to_string(r);
	relids += "}";
	/* one row per key column; a partition's own key is read as its root's */
	SqlResult r = Sql("SELECT con.confrelid::text, con.oid::text, root.oid::text, "
	                  "  format('%I.%I', n.nspname, root.relname), con.confdeltype::text, "
	                  "  a.attname::text, pa.attname::text, (NOT a.attnotnull)::text "
	                  "FROM pg_catalog.pg_constraint con "
	                  "JOIN pg_catalog.pg_class root ON root.oid = CASE WHEN "
	                  "  (SELECT c.relispartition FROM pg_catalog.pg_class c WHERE c.oid = "
	                  "con.conrelid) "
	                  "  THEN pg_catalog.pg_partition_root(con.conrelid) ELSE con.conrelid END "
	                  "JOIN pg_catalog.pg_namespace n ON n.oid = root.relnamespace, "
	                  "  unnest(con.conkey, con.confkey) WITH ORDINALITY k(c, p, i), "
	                  "  pg_catalog.pg_attribute a, pg_catalog.pg_attribute pa "
	                  "WHERE con.contype = 'f' AND con.conparentid = 0 "
	                  "AND con.confrelid = ANY ($1::oid[]) "
	                  "AND a.attrelid = con.conrelid AND a.attnum = k.c "
	                  "AND pa.attrelid = con.confrelid AND pa.attnum = k.p "
	                  "ORDER BY con.confrelid, root.oid, con.conname, con.oid, k.i",
	                  {relids});
	std::vector<ReferencingKey> keys;
	std::string current;
	for (const SqlRow &row : r.rows) {
		if (row[1].value() != current) {
			current = row[1].value();
			ReferencingKey key{};
			key.referenced_relid = static_cast<Oid>(std::stoul(row[0].value()));
			key.child_relid = static_cast<Oid>(std::stoul(row[2].value()));
			key.child_qualified = row[3].value();
			key.on_delete = row[4].value().empty() ? 'a' : row[4].value()[0];
			key.nullable = true;
			keys.push_back(key);
		}
		ReferencingKey &key = keys.back();
		key.columns.push_back(row[5].value());
		key.referenced_columns.push_back(row[6].value());
		key.nullable = key.nullable && row[7] == SqlValue("true");
	}
	/* the same key on several partitions of one tree: once, as strict as its strictest copy */
	std::vector<ReferencingKey> merged;
	for (ReferencingKey &k : keys) {
		ReferencingKey *same = nullptr;
		for (ReferencingKey &m : merged)
			if (m.referenced_relid == k.referenced_relid && m.child_relid == k.child_relid &&
			    m.columns == k.columns && m.referenced_columns == k.referenced_columns)
				same = &m;
		if (same == nullptr) {
			merged.push_back(std::move(k));
			continue;
		}
		if (same->on_delete != k.on_delete)
			same->on_delete = 'a';
		same->nullable = same->nullable && k.nullable;
	}
	return merged;
}

bool HasLeadingIndex(Oid relid, const std::string &column)
{
	bool partitioned = PgCall([&] { return get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE; });
	if (partitioned) {
		std::vector<Oid> leaves = LeafPartitions(relid);
		bool all = true;
		for (Oid leaf : leaves)
			all = all && leaf != relid && HasLeadingIndex(leaf, column);
		return all; /* no partition: nothing to scan */
	}
	return PgCall([&] {
		AttrNumber attnum = get_attnum(relid, column.c_str());
		if (attnum == InvalidAttrNumber)
			return false;
		Relation rel = relation_open(relid, AccessShareLock);
		List *indexes = RelationGetIndexList(rel);
		bool found = false;
		ListCell *lc;
		foreach (lc, indexes) {
			HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
			if (!HeapTupleIsValid(tuple))
				continue;
			Form_pg_index index = (Form_pg_index)GETSTRUCT(tuple);
			if (index->indisvalid && index->indnatts > 0 && index->indkey.values[0] == attnum)
				found = true;
			ReleaseSysCache(tuple);
		}
		relation_close(rel, AccessShareLock);
		return found;
	});
}

std::vector<KeyColumn> LoadPrimaryKey(Oid relid)
{
	SqlResult r = Sql("SELECT a.attname, a.attnum::text, a.atttypid::text, "
	                  "pg_catalog.format_type(a.atttypid, a.atttypmod) "
	                  "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a "
	                  "ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
	                  "WHERE i.indrelid = $1::oid AND i.indisprimary "
	                  "ORDER BY array_position(i.indkey::int2[], a.attnum)",
	                  {std::to_string(relid)});
	std::vector<KeyColumn> key;
	for (const SqlRow &row : r.rows)
		key.push_back(KeyColumn{row[0].value(), static_cast<AttrNumber>(std::stoi(row[1].value())),
		                        static_cast<Oid>(std::stoul(row[2].value())), row[3].value()});
	return key;
}

Oid PartitionRoot(Oid relid)
{
	return PgCall([&] {
		Oid root = relid;
		while (get_rel_relispartition(root))
			root = get_partition_parent(root, true);
		return root;
	});
}

std::vector<Oid> LeafPartitions(Oid relid)
{
	List *all = PgCall([&] {
		if (get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
			return list_make1_oid(relid);
		List *inheritors = find_all_inheritors(relid, AccessShareLock, NULL);
		List *leaves = NIL;
		ListCell *lc;
		foreach (lc, inheritors) {
			Oid child = lfirst_oid(lc);
			if (get_rel_relkind(child) == RELKIND_RELATION)
				leaves = lappend_oid(leaves, child);
		}
		return leaves;
	});
	std::vector<Oid> result;
	ListCell *lc;
	foreach (lc, all)
		result.push_back(lfirst_oid(lc));
	return result;
}

} // namespace pg_retention::pg
