/*-------------------------------------------------------------------------
 *
 * module.cpp
 *		Library entry point: _PG_init only registers.
 *
 *		pg_retention needs shared_preload_libraries: the server key is read
 *		once by the postmaster, the label provider must exist before any
 *		label is restored, and the background worker is registered here.
 *
 * IDENTIFICATION
 *		src/pg/module.cpp
 *-------------------------------------------------------------------------
 */
#include "write_path/late_rows.hpp"
#include "boundary/guard.hpp"
#include "archive/archive.hpp"
#include "rights/erasure.hpp"
#include "guc.hpp"
#include "module.hpp"
#include "boundary/owner_sql.hpp"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);
}

namespace
{

void RegisterEverything()
{
	pg_retention::pg::DefineSettings();
	pg_retention::pg::LoadServerKey();
	pg_retention::pg::RegisterLabelProvider();
	pg_retention::pg::RegisterArchiveCallbacks();
	pg_retention::pg::RegisterWorkers();
	pg_retention::pg::InstallStatementGuard();
	pg_retention::pg::InstallEngineWriteHook();
	MarkGUCPrefixReserved("retention");
}

} // namespace

void _PG_init(void)
{
	/*
	 * pg_upgrade's new server restores the old cluster's schema: its labels
	 * need the provider, nothing else may run (no worker, no key, no hooks);
	 * pg_upgrade also LOADs the library there, preloaded or not.
	 */
	if (IsBinaryUpgrade) {
		pg_retention::pg::InvokeGuarded("_PG_init",
		                                pg_retention::pg::RegisterLabelProviderForUpgrade);
		return;
	}
	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		                errmsg("pg_retention must be loaded via shared_preload_libraries"),
		                errhint("Add pg_retention to shared_preload_libraries in postgresql.conf "
		                        "and restart the server.")));
	pg_retention::pg::InvokeGuarded("_PG_init", RegisterEverything);
}
