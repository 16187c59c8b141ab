/*-------------------------------------------------------------------------
 *
 * pg_headers.hpp
 *		The one place src/pg includes PostgreSQL's headers from.
 *
 *		C++ and OpenSSL headers must come before this file (PostgreSQL's
 *		headers define macros that break them); core headers too, since they
 *		refuse to compile once postgres.h is seen.
 *
 * IDENTIFICATION
 *		src/pg/boundary/pg_headers.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

extern "C" {
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/partition.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_seclabel.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "commands/extension.h"
#include "commands/seclabel.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
}

/* Tested against 15 and 18, 16 and 17 compile-ready: the differences are in compat.hpp. */
#if PG_VERSION_NUM < 150000
#error "pg_retention needs PostgreSQL 15 or later"
#elif PG_VERSION_NUM >= 190000
#warning "pg_retention is tested against PostgreSQL 15 to 18"
#endif
