/*-------------------------------------------------------------------------
 *
 * erasure.hpp
 *		Erasure requests and the erasure log, as the background worker and
 *		_PG_init see them.  The SQL side (request_erasure, approve, reject,
 *		the at-risk view, export and import of the log) is in
 *		src/sql/50_subject_rights.sql; docs/rights.md walks through it.
 *
 * IDENTIFICATION
 *		src/pg/rights/erasure.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstdint>

namespace pg_retention::pg
{

/*
 * Carries out every approved erasure request (each in its own
 * subtransaction: one that fails is marked with its error and the others
 * go on) and marks received requests past their due date as overdue.
 * Returns how many requests were done.  Runs in the caller's transaction;
 * the background worker calls it once per run, then commits.
 */
int64_t ProcessErasureRequests();

} // namespace pg_retention::pg
