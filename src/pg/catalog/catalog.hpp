/*-------------------------------------------------------------------------
 *
 * catalog.hpp
 *		Reading what the catalogs say about declared tables: columns and
 *		their type categories, retention labels, foreign keys, indexes.
 *
 *		Every function here is safe to call with C++ objects alive: the
 *		PostgreSQL calls run under PgCall, so an error arrives as PgError.
 *
 * IDENTIFICATION
 *		src/pg/catalog/catalog.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "label/policy.hpp"

#include "boundary/pg_headers.hpp"

namespace pg_retention::pg
{

constexpr const char *kLabelProvider = "retention";

struct ColumnInfo {
	ColumnFacts facts;
	AttrNumber attnum = InvalidAttrNumber;
	Oid type_oid = InvalidOid;
	int32 typmod = -1;
};

/* A table as the catalogs describe it (live columns only). */
struct TableInfo {
	Oid relid = InvalidOid;
	std::string schema;
	std::string name;
	std::string qualified; /* quoted, for SQL and messages */
	char relkind = 0;
	bool is_partition = false;
	std::vector<ColumnInfo> columns;

	TableFacts Facts() const;
	const ColumnInfo *FindColumn(const std::string &name) const;
	const ColumnInfo *FindColumn(AttrNumber attnum) const;
};

/* One retention label as stored in pg_seclabel. */
struct StoredLabel {
	Oid relid;
	int32 subid; /* 0 = table, else attnum */
	std::string label;
};

/* A foreign key from a table to another one. */
struct ForeignKey {
	Oid constraint_oid;
	std::string constraint_name;
	Oid referenced_relid;
	std::vector<std::string> columns;            /* referencing columns, in key order */
	std::vector<std::string> referenced_columns; /* referenced columns, same order */
};

/*
 * A foreign key declared on some leaf partitions of a partitioned table
 * (same columns, same referenced table) but not on all of them.
 */
struct PartialForeignKey {
	ForeignKey key;                   /* as declared on the partitions that have it */
	std::vector<std::string> missing; /* the leaf partitions without it, quoted */
};

/*
 * A foreign key pointing at a table.  A key declared on a partition counts
 * for the partitioned table at the root of its tree (a query of the root
 * reads every partition); keys repeated on several partitions come once.
 */
struct ReferencingKey {
	Oid referenced_relid;
	Oid child_relid; /* the referencing table, or the root of its partition tree */
	std::string child_qualified;
	std::vector<std::string> columns;            /* referencing columns, in key order */
	std::vector<std::string> referenced_columns; /* referenced columns, same order */
	char on_delete; /* pg_constraint.confdeltype; 'a' when partitions disagree on it */
	bool nullable;  /* every referencing column accepts NULL (on every partition) */
};

TypeCategory CategoryOfType(Oid type_oid);
TableInfo LoadTableInfo(Oid relid);
/* Every retention label of every table and column in this database. */
std::vector<StoredLabel> LoadAllLabels();
/* The retention labels of one table and its columns. */
std::vector<StoredLabel> LoadLabelsOf(Oid relid);
/*
 * The foreign keys of a table, as PostgreSQL enforces them: those declared
 * on it and, for a partitioned table, those declared on every one of its
 * leaf partitions (constraint_oid is then InvalidOid).  The one reader of
 * foreign keys: subject paths, the lifecycle's order and check() use it.
 */
std::vector<ForeignKey> LoadForeignKeys(Oid relid);
/* Keys declared on some leaf partitions of `relid` only (empty for a plain table). */
std::vector<PartialForeignKey> LoadPartialForeignKeys(Oid relid);
/* The foreign keys pointing at any of `referenced` (see ReferencingKey). */
std::vector<ReferencingKey> LoadReferencingKeys(const std::vector<Oid> &referenced);
/*
 * True when some valid index of `relid` has `column` as its first key; for
 * a partitioned table, when every leaf partition has one.
 */
bool HasLeadingIndex(Oid relid, const std::string &column);
/* One column of a primary key. */
struct KeyColumn {
	std::string name;
	AttrNumber attnum;
	Oid type_oid;
	std::string type_sql; /* format_type(type, typmod) */
};
/*
 * The primary key columns of `relid`, in key order (empty when it has
 * none).  The one reader of primary keys: the lifecycle, the late-row
 * queue and subject scopes use it.
 */
std::vector<KeyColumn> LoadPrimaryKey(Oid relid);
/* The topmost partitioned ancestor of a partition, or relid itself. */
Oid PartitionRoot(Oid relid);
/* The leaf partitions of a partitioned table (relid itself when it is a plain table). */
std::vector<Oid> LeafPartitions(Oid relid);
/* quote_identifier as a std::string. */
std::string QuoteIdent(const std::string &name);

} // namespace pg_retention::pg
