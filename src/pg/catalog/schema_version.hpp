/*-------------------------------------------------------------------------
 *
 * schema_version.hpp
 *		The library against the schema a database has installed.
 *
 *		One shared library serves every database of the cluster, and a
 *		package upgrade replaces it before anyone runs ALTER EXTENSION
 *		pg_retention UPDATE: a database may still hold an older version's
 *		tables and functions.  The library reads and writes the extension's
 *		tables as its own version defines them (PGR_EXTVERSION, the control
 *		file's default_version), so the entry points that touch those tables
 *		refuse to run on another version, with a hint to update, and the
 *		background worker skips such a database (docs/versions.md).
 *		Functions that touch no table of the extension (the methods, the
 *		write trigger, the restriction policies' check) keep working.
 *
 * IDENTIFICATION
 *		src/pg/catalog/schema_version.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <optional>
#include <string>

namespace pg_retention::pg
{

/* The schema version this library reads and writes. */
const char *LibraryVersion();

/* The version installed in this database when it is not the library's ("(none)" when the
 * extension is not installed); nullopt when they agree. */
std::optional<std::string> OtherSchemaVersion();

/*
 * Throws ObjectNotInPrerequisiteState when the installed version is not the
 * library's, with a hint to run ALTER EXTENSION pg_retention UPDATE.
 * `action` names what was refused in the detail ("retention.run()").
 */
void RequireCurrentSchema(const char *action);

} // namespace pg_retention::pg
