/*-------------------------------------------------------------------------
 *
 * session.cpp
 *		The session around a run (see session.hpp).
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/session.cpp
 *-------------------------------------------------------------------------
 */
#include <string>

#include "lifecycle/batch.hpp"
#include "lifecycle/session.hpp"

namespace pg_retention::pg::lifecycle
{

FixedDateStyle::FixedDateStyle()
{
	datestyle_ = Setting("DateStyle");
	timezone_ = Setting("TimeZone");
	lock_timeout_ = Setting("lock_timeout");
	Set("DateStyle", "ISO, YMD");
	Set("TimeZone", "UTC");
	/* no statement of the run waits longer than a batch would for a lock */
	Set("lock_timeout", (std::to_string(LockTimeoutMs()) + "ms").c_str());
}

void FixedDateStyle::Restore()
{
	Set("DateStyle", datestyle_.c_str());
	Set("TimeZone", timezone_.c_str());
	Set("lock_timeout", lock_timeout_.c_str());
}

std::string FixedDateStyle::Setting(const char *name)
{
	const char *value = PgCall([&] { return GetConfigOption(name, false, false); });
	return value != nullptr ? value : "";
}

void FixedDateStyle::Set(const char *name, const char *value)
{
	PgCall([&] { SetConfigOption(name, value, PGC_USERSET, PGC_S_SESSION); });
}

void ProcedureTransactions::CommitAndContinue()
{
	if (atomic_)
		return; /* called inside a transaction block: one transaction for all */
	/* SPI_commit starts the next transaction itself (PostgreSQL 15 and later) */
	PgCall([] { SPI_commit(); });
}

} // namespace pg_retention::pg::lifecycle
