/*-------------------------------------------------------------------------
 *
 * server_key.hpp
 *		The server key (key-encryption key), as the rest of the glue sees
 *		it: loaded once by the postmaster from retention.key_file or
 *		retention.key_command, inherited by every backend, never visible to
 *		SQL, to logs or to error messages.  Only derived keys leave here.
 *
 * IDENTIFICATION
 *		src/pg/archive/server_key.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <string>

#include "crypto/keys.hpp"

namespace pg_retention::pg
{

bool ServerKeyLoaded() noexcept;
/* During a rotation, the key being retired (retention.previous_key_file), or nullptr. */
const KeyRing *PreviousServerKey() noexcept;
/* The loaded key ring; throws Error (55000, with a hint) when none is loaded. */
const KeyRing &RequireServerKey();

} // namespace pg_retention::pg
