/*-------------------------------------------------------------------------
 *
 * module.hpp
 *		What _PG_init registers, one function per concern.
 *
 * IDENTIFICATION
 *		src/pg/module.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

namespace pg_retention::pg
{

/* label_provider.cpp: the "retention" provider, cache callback, rename hook. */
void RegisterLabelProvider();
/* label_provider.cpp: the provider alone, accepting any label (pg_upgrade's restore). */
void RegisterLabelProviderForUpgrade();
/* server_key.cpp: reads the server key once, in the postmaster. */
void LoadServerKey();
/* worker_launcher.cpp: the background worker's settings, shared memory and launcher. */
void RegisterWorkers();

} // namespace pg_retention::pg
