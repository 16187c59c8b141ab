/*-------------------------------------------------------------------------
 *
 * subtransaction.hpp
 *		Running a piece of work in a subtransaction from C++: released when
 *		the work returns, rolled back when it throws (the exception then
 *		goes on up unchanged, a PostgreSQL error as PgError).  Lets a loop
 *		over independent items (erasure requests) record one item's failure
 *		and go on with the next -- unless it is a cancel or a termination
 *		(RethrowIfInterrupt, guard.hpp).
 *
 * IDENTIFICATION
 *		src/pg/boundary/subtransaction.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include "boundary/guard.hpp"

extern "C" {
#include "utils/resowner.h"
}

namespace pg_retention::pg
{

template <typename Work> void InSubtransaction(Work &&work)
{
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	PgCall([] { BeginInternalSubTransaction(NULL); });
	/* allocations stay in the caller's context (a PgError's, in the guard's: guard.hpp) */
	MemoryContextSwitchTo(context);
	try {
		work();
	} catch (...) {
		PgCall([] { RollbackAndReleaseCurrentSubTransaction(); });
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
		throw;
	}
	PgCall([] { ReleaseCurrentSubTransaction(); });
	MemoryContextSwitchTo(context);
	CurrentResourceOwner = owner;
}

} // namespace pg_retention::pg
