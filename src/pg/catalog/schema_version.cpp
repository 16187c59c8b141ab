/*-------------------------------------------------------------------------
 *
 * schema_version.cpp
 *		The installed extension version against the library's: see
 *		schema_version.hpp.  The check is a lookup in pg_extension, made
 *		once per call of an entry point (never per row).
 *
 * IDENTIFICATION
 *		src/pg/catalog/schema_version.cpp
 *-------------------------------------------------------------------------
 */
#include <string>

#include "base/error.hpp"

#include "catalog/schema_version.hpp"
#include "boundary/spi_query.hpp"

#ifndef PGR_EXTVERSION
#error "PGR_EXTVERSION (the control file's default_version) is defined by the Makefile"
#endif

namespace pg_retention::pg
{

const char *LibraryVersion()
{
	return PGR_EXTVERSION;
}

std::optional<std::string> OtherSchemaVersion()
{
	SqlValue installed =
	    Sql("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_retention'", {})
	        .Scalar();
	if (installed && *installed == LibraryVersion())
		return std::nullopt;
	return installed.value_or("(none)");
}

void RequireCurrentSchema(const char *action)
{
	std::optional<std::string> installed = OtherSchemaVersion();
	if (!installed)
		return;
	throw Error(ErrorKind::ObjectNotInPrerequisiteState,
	            "extension \"pg_retention\" is at version " + *installed +
	                " in this database, its library at version " + LibraryVersion(),
	            std::string(action) + " reads and writes the extension's tables as version " +
	                LibraryVersion() + " defines them",
	            "run ALTER EXTENSION pg_retention UPDATE in this database");
}

} // namespace pg_retention::pg
