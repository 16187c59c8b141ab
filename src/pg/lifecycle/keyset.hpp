/*-------------------------------------------------------------------------
 *
 * keyset.hpp
 *		The keyset of a value stage: the due rows of one relation ahead of
 *		the last row processed, in (age, primary key) order.  Each batch
 *		takes the next rows of the window and moves the position to its
 *		last row; the position is the stage's watermark, stored with the
 *		batch (retention.stage_state), so a later run starts after it.
 *
 *		Usable on its own: it only builds the WHERE clause and its
 *		parameters; running the statements is the caller's.
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/keyset.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <string>
#include <vector>

#include "lifecycle/lifecycle_sql.hpp"
#include "boundary/spi_query.hpp"

namespace pg_retention::pg::lifecycle
{

class Keyset
{
public:
	/*
	 * `due`: the rows due, over the relation's unqualified columns, with $1
	 * the cutoff (bound in the age's type).  `position`: the age and key
	 * values of the last row processed (empty: from the start).
	 */
	Keyset(const Target &t, const std::string &due, const SqlValue &cutoff,
	       const std::vector<SqlValue> &position);

	/* The rows ahead of the position: a WHERE clause over $1.. params(). */
	const std::string &window() const { return window_; }
	const std::vector<SqlValue> &params() const { return params_; }
	const std::vector<Oid> &types() const { return types_; }
	/* The types of a keyset row: the age, then the key columns. */
	const std::vector<Oid> &row_types() const { return row_types_; }

	/* The next batch starts after `last` (age, then key values, as text). */
	void Advance(const SqlRow &last);

	/* The key values of `last` as the text[] literal stage_state keeps. */
	static std::string KeyArray(const SqlRow &last);

private:
	const Target &t_;
	std::string window_;
	std::vector<SqlValue> params_;
	std::vector<Oid> types_;
	std::vector<Oid> row_types_;
	bool positioned_ = false;

	void StartAfterPosition();
};

} // namespace pg_retention::pg::lifecycle
