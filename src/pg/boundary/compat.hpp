/*-------------------------------------------------------------------------
 *
 * compat.hpp
 *		The differences between the PostgreSQL majors pg_retention builds
 *		against, in one place: 15 and 18 are built and tested, 16 and 17
 *		are guarded by version number so that they compile.
 *
 *		The rest of src/pg calls what is defined here instead of testing
 *		PG_VERSION_NUM itself.  Differences that need no code here: 16 made
 *		pg_class_aclcheck/pg_attribute_aclcheck the only per-class checks
 *		(pg_retention uses no other), 15 made SPI_start_transaction a
 *		no-op (still declared in 18), 18 dropped ExecutorRun's execute_once
 *		(pg_retention has no executor hook but ExecutorCheckPerms), 17 added
 *		foreach_oid and friends (not used, so 15 still compiles).
 *
 * IDENTIFICATION
 *		src/pg/compat.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include "boundary/pg_headers.hpp"

extern "C" {
#include "executor/executor.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/datetime.h"
}

namespace pg_retention::pg::compat
{

/*
 * ExecutorCheckPerms_hook: from 16 the permissions to check are a list of
 * RTEPermissionInfo beside the range table (RangeTblEntry.requiredPerms is
 * gone).  A hook is declared with PGR_CHECK_PERMS_PARAMS and passes its
 * arguments on with PGR_CHECK_PERMS_ARGS; PGR_PERM_INFOS is its list of
 * RTEPermissionInfo (NIL before 16).
 */
#if PG_VERSION_NUM >= 160000
#define PGR_CHECK_PERMS_PARAMS List *range_table, List *perm_infos, bool report
#define PGR_CHECK_PERMS_ARGS range_table, perm_infos, report
#define PGR_PERM_INFOS perm_infos
#else
#define PGR_CHECK_PERMS_PARAMS List *range_table, bool report
#define PGR_CHECK_PERMS_ARGS range_table, report
#define PGR_PERM_INFOS NIL
#endif

/*
 * The OIDs of the relations a statement reaches: every relation of the range
 * table (partitions and inheritance children included), and from 16 every
 * relation whose permissions are checked (views, which 16 turned into
 * subqueries of the range table, included).  May repeat an OID.
 */
inline List *CheckedRelations(List *range_table, List *perm_infos)
{
	List *relids = NIL;
	ListCell *lc;
	foreach (lc, range_table) {
		RangeTblEntry *rte = static_cast<RangeTblEntry *>(lfirst(lc));
		if (rte->rtekind == RTE_RELATION)
			relids = lappend_oid(relids, rte->relid);
	}
#if PG_VERSION_NUM >= 160000
	foreach (lc, perm_infos)
		relids = lappend_oid(relids, static_cast<RTEPermissionInfo *>(lfirst(lc))->relid);
#endif
	return relids;
}

/*
 * search_path = pg_catalog, pg_temp in the current GUC nest level, as
 * maintenance commands run a table owner's code: 17's RestrictSearchPath(),
 * the same setting made by hand before.
 */
inline void RestrictSearchPath()
{
#if PG_VERSION_NUM >= 170000
	::RestrictSearchPath();
#else
	(void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
	                        GUC_ACTION_SAVE, true, 0, false);
#endif
}

/* Whether this backend holds the lock in `mode` (17 added "or stronger"). */
inline bool HoldsLock(const LOCKTAG *tag, LOCKMODE mode)
{
#if PG_VERSION_NUM >= 170000
	return ::LockHeldByMe(tag, mode, false);
#else
	return ::LockHeldByMe(tag, mode);
#endif
}

/*
 * Memory for what a GUC check hook hands its assign hook ("extra"): malloc'd
 * before 16, from 16 in the GUC memory context (PostgreSQL frees it with
 * guc_free, which crashes on malloc'd memory).  nullptr when out of memory.
 */
inline void *GucExtraAlloc(size_t size)
{
#if PG_VERSION_NUM >= 160000
	return guc_malloc(LOG, size);
#else
	return malloc(size);
#endif
}

/* DecodeDateTime without its error details, which 16 added as an out-parameter. */
inline int DecodeDateTime(char **field, int *ftype, int nf, int *dtype, struct pg_tm *tm,
                          fsec_t *fsec, int *tz)
{
#if PG_VERSION_NUM >= 160000
	DateTimeErrorExtra extra;
	return ::DecodeDateTime(field, ftype, nf, dtype, tm, fsec, tz, &extra);
#else
	return ::DecodeDateTime(field, ftype, nf, dtype, tm, fsec, tz);
#endif
}

/* This backend's local transaction id: 17 moved it into PGPROC.vxid. */
inline LocalTransactionId MyLocalTransactionId()
{
#if PG_VERSION_NUM >= 170000
	return MyProc->vxid.lxid;
#else
	return MyProc->lxid;
#endif
}

/* A new heap tuple's index entries (no uniqueness check): 16 added onlySummarizing. */
inline void InsertIndexEntries(ResultRelInfo *result_rel, TupleTableSlot *slot, EState *estate)
{
#if PG_VERSION_NUM >= 160000
	list_free(ExecInsertIndexTuples(result_rel, slot, estate, false, false, NULL, NIL, false));
#else
	list_free(ExecInsertIndexTuples(result_rel, slot, estate, false, false, NULL, NIL));
#endif
}

} // namespace pg_retention::pg::compat
