/*-------------------------------------------------------------------------
 *
 * archive.hpp
 *		The encrypted archive: per-subject data keys, sealing rows as they
 *		leave their live table, opening them for an authorized role, and
 *		destroying a subject's key when it is forgotten.
 *
 *		Rows are sealed with AES-256-GCM under a random data key of their
 *		subject; data keys are wrapped by a key derived from the server key
 *		(src/core/envelope.hpp).  The additional authenticated data binds a
 *		ciphertext to its subject, so a payload moved to another subject's
 *		row does not open.  Nothing here survives without the server key.
 *
 * IDENTIFICATION
 *		src/pg/archive/archive.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <string>
#include <vector>

#include "boundary/pg_headers.hpp"
#include "boundary/spi_query.hpp"

namespace pg_retention::pg
{

/* Keyed HMAC of a subject id: how the archive and the erasure log name a subject. */
std::string SubjectHash(const std::string &subject, const std::string &subject_id);

/* Forgets every cached data key (at run start, after a forget). */
void ClearDataKeyCache() noexcept;

/* Registers the abort callbacks that keep the key cache true to the archive (_PG_init). */
void RegisterArchiveCallbacks();

/*
 * Seals rows that left table `relid` and writes them into the archive, as
 * the extension, in one statement.  `rows` as the owner's DELETE returned
 * them: row i's subject id (text), its age (timestamptz), the row itself
 * (json), in columns 0, 1 and 2.  Each row's subject hash is computed once
 * (and once for a run of rows of the same subject), each data key is keyed
 * into a cipher once per batch.  Returns the rows written.
 */
int64_t WriteArchivedRows(unsigned int relid, const std::string &table_name,
                          const std::string &subject, const SqlValue &purge_delay,
                          const std::string &run_id, const DatumResult &rows);

/* Deletes a subject's data key; returns whether one existed. */
bool DestroySubjectKey(const std::string &subject, const std::string &subject_hash);

} // namespace pg_retention::pg
