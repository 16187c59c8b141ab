/*-------------------------------------------------------------------------
 *
 * forget.hpp
 *		Forgetting one subject (the right to erasure, GDPR Art. 17), in the
 *		caller's transaction: every row of the subject in every declared
 *		table handled as its "on forget" says, children before parents;
 *		the subject's archived rows deleted and its archive data key
 *		destroyed; a receipt with counts and a keyed hash of the id, and
 *		no personal data, recorded in retention.erasure_log.
 *
 *		Rows other rows still reference (docs/rights.md):
 *		- a reference from another declared table that accepts NULL is
 *		  cleared: the referencing row stays, no longer pointing at the
 *		  subject (an anonymized order, another patient's "referred by");
 *		- a row still referenced by rows of an "on forget keep" table (legal
 *		  hold), through a NOT NULL key, or from an undeclared table, cannot
 *		  be deleted: it is anonymized in place instead, and the receipt
 *		  says which legal-hold tables hold it.
 *
 * IDENTIFICATION
 *		src/pg/rights/forget.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <string>
#include <vector>

#include "boundary/spi_query.hpp"
#include "rights/subject_rights.hpp"

namespace pg_retention::pg
{

/*
 * Forgets the subject `id` of `scope` and returns its receipt (jsonb text),
 * already recorded in retention.erasure_log.  When id.key is empty (only
 * the hash is known, e.g. re-applying an erasure whose subject row is
 * gone) only the archive is forgotten.  `reason` and `request_id` go to
 * the log as given.
 */
std::string ForgetSubject(const SubjectScope &scope, const SubjectId &id, const SqlValue &reason,
                          const SqlValue &request_id);

/* ARRAY[alias.k1::text, ...]: a row's primary key as retention.forgotten_row and late_row name it.
 */
std::string RowKey(const std::vector<std::string> &primary_key, const std::string &alias);

/*
 * " AND <row not in retention.forgotten_row>" for a lifecycle statement on
 * a partition or table of declared table `relid` whose primary key is
 * `key` (columns qualified by `alias` unless empty), or "" when a forget
 * left no row of it in place.  The anonymize stages use it so that no value
 * is anonymized twice, the archive stage so that a forgotten subject's rows
 * are never sealed again under a new key.
 */
std::string SkipForgottenRows(Oid relid, const std::vector<std::string> &key,
                              const std::string &alias);

/*
 * The run's last step after a forget (docs/rights.md): deletes the held
 * rows nothing holds any more (logging each completed erasure in
 * retention.erasure_log), forgets the entries of rows that are gone, and
 * destroys the archive data keys of forgotten subjects with no archived
 * row left.  Returns the rows deleted.
 */
int64_t CompleteDeferredForgets();

} // namespace pg_retention::pg
