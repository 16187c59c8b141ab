/*-------------------------------------------------------------------------
 *
 * k_anonymity.cpp
 *		retention._k_anonymity(): the size of the smallest group of rows
 *		sharing the same quasi-identifiers, read as the table's owner.
 *
 *		retention.k_anonymity() (SQL, 20_methods.sql) checks its arguments
 *		and calls this.  The caller must be allowed to read those columns;
 *		the count itself runs as the table's owner (owner_sql.hpp), so the
 *		table's row-level security policies and any code reached by the scan
 *		never run with the caller's rights.
 *
 * IDENTIFICATION
 *		src/pg/methods/k_anonymity.cpp
 *-------------------------------------------------------------------------
 */
#include <string>
#include <vector>

#include "base/error.hpp"

#include "catalog/catalog.hpp"
#include "boundary/guard.hpp"
#include "boundary/owner_sql.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/rls.h"
}

namespace pg_retention::pg
{

/* retention._k_anonymity(relation regclass, quasi_identifiers name[]) -> bigint */
PGR_FUNCTION(retention_k_anonymity)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		throw Error(ErrorKind::NullValueNotAllowed,
		            "k_anonymity needs a table and at least one quasi-identifier");
	Oid relid = PG_GETARG_OID(0);
	Datum array = PG_GETARG_DATUM(1);
	struct Names {
		int n;
		Datum *values;
		bool *nulls;
	} names = PgCall([&] {
		Names out{0, nullptr, nullptr};
		deconstruct_array(DatumGetArrayTypeP(array), NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR,
		                  &out.values, &out.nulls, &out.n);
		return out;
	});
	std::vector<std::string> columns;
	for (int i = 0; i < names.n; i++) {
		if (names.nulls[i])
			throw Error(ErrorKind::NullValueNotAllowed, "a quasi-identifier must not be NULL");
		columns.push_back(NameStr(*DatumGetName(names.values[i])));
	}
	if (columns.empty())
		throw Error(ErrorKind::InvalidParameterValue,
		            "k_anonymity needs a table and at least one quasi-identifier");
	TableInfo table = LoadTableInfo(relid);
	/* the count runs as the owner, who sees every row: not for a caller policies restrict */
	bool restricted =
	    PgCall([&] { return check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED; });
	if (restricted)
		throw Error(ErrorKind::InsufficientPrivilege,
		            "k_anonymity cannot count " + table.qualified + " for this role",
		            "row-level security limits the rows this role sees, and the count would "
		            "include every row",
		            "ask the table's owner or a role that bypasses row-level security");
	std::string list;
	for (const std::string &c : columns) {
		AclResult acl = PgCall([&] {
			AttrNumber attnum = get_attnum(relid, c.c_str());
			if (attnum == InvalidAttrNumber)
				ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
				                errmsg("column \"%s\" of relation %s does not exist", c.c_str(),
				                       table.qualified.c_str())));
			/* SELECT on the table, or on the column (column ACLs alone ignore the table's) */
			if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
				return ACLCHECK_OK;
			return pg_attribute_aclcheck(relid, attnum, GetUserId(), ACL_SELECT);
		});
		if (acl != ACLCHECK_OK)
			throw Error(ErrorKind::InsufficientPrivilege,
			            "permission denied for column \"" + c + "\" of " + table.qualified, "",
			            "k_anonymity reads the quasi-identifiers: the caller needs SELECT on them");
		list += (list.empty() ? "" : ", ") + QuoteIdent(c);
	}
	SqlValue k = OwnerSql(relid, "SELECT pg_catalog.min(n) FROM (SELECT pg_catalog.count(*) AS n "
	                             "FROM " +
	                                 table.qualified + " GROUP BY " + list + ") AS groups")
	                 .Scalar();
	if (!k)
		PG_RETURN_NULL();
	return Int64GetDatum(std::stoll(*k));
}

} // namespace pg_retention::pg
