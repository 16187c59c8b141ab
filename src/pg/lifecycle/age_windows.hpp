/*-------------------------------------------------------------------------
 *
 * age_windows.hpp
 *		The age windows of the key path (key_rows.cpp): [lo, hi) ranges of
 *		a table's age column, oldest first, each one batch.  A window names
 *		its rows with conditions on the row alone (`age >= lo AND age <
 *		hi`), so Citus sends the batch's statement to every shard at once
 *		and each shard finds its rows through its own age index; no key
 *		list is gathered on the coordinator and sent back.  The bounds are
 *		whole age values: a row is in exactly one window.  The width starts
 *		from the due rows' span and count and then follows the previous
 *		window's yield (rows per second of age), aiming at the batch size
 *		retention.batch_target asks.  The last window, the one that reaches
 *		the cutoff, has no bounds of its own.
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/age_windows.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstdint>
#include <string>

#include "lifecycle/lifecycle_sql.hpp"
#include "boundary/spi_query.hpp"

namespace pg_retention::pg::lifecycle
{

class AgeWindows
{
public:
	/*
	 * The first window of `due` rows aged from `oldest` to `cutoff` (texts
	 * in the age's type), sized for `rows` of them.
	 */
	AgeWindows(const Target &t, const SqlValue &cutoff, const SqlValue &oldest, int64_t due,
	           int64_t rows);

	/* ` AND r.age >= $lo AND r.age < $hi` ("" for the last window). */
	std::string Condition(int lo, int hi) const;
	const SqlValue &lo() const { return lo_; }
	/* NULL for the last window */
	const SqlValue &hi() const { return hi_; }
	/* The window reaches the cutoff: the stage's last. */
	bool last() const { return !hi_; }

	/*
	 * The next window starts at `lo`.  This one took `rows`; the next
	 * should take `wanted`: it is that much wider (at most 4 times, at
	 * least a tenth); 4 times wider after an empty window.
	 */
	void Next(const SqlValue &lo, int64_t rows, int64_t wanted);

private:
	const Target &t_;
	SqlValue cutoff_;
	SqlValue lo_;
	SqlValue hi_;
	double width_ = 0; /* seconds */

	void Place();
};

} // namespace pg_retention::pg::lifecycle
