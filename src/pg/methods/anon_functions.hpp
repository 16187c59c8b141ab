/*-------------------------------------------------------------------------
 *
 * anon_functions.hpp
 *		Shared by the anonymization SQL functions and their callers in C.
 *
 * IDENTIFICATION
 *		src/pg/methods/anon_functions.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include "anon/anon.hpp"
#include "crypto/keys.hpp"

#include "boundary/pg_headers.hpp"

namespace pg_retention::pg
{

/* The keyed hasher of a purpose (Hash or Fake), derived once per backend from the server key. */
const KeyedHasher &HasherFor(KeyPurpose purpose);

/* SQL functions other C code calls directly (DirectFunctionCall). */
extern "C" {
Datum retention_mask_email(PG_FUNCTION_ARGS);
Datum retention_redact(PG_FUNCTION_ARGS);
Datum retention_ip_prefix(PG_FUNCTION_ARGS);
Datum retention_generalize_date(PG_FUNCTION_ARGS);
Datum retention_generalize_timestamp(PG_FUNCTION_ARGS);
Datum retention_generalize_int4(PG_FUNCTION_ARGS);
Datum retention_generalize_int8(PG_FUNCTION_ARGS);
Datum retention_generalize_float8(PG_FUNCTION_ARGS);
Datum retention_generalize_numeric(PG_FUNCTION_ARGS);
}

/* Which fake a fake_<kind> / random_<kind> SQL function produces, from its name. */
FakeKind FakeKindOfCall(FunctionCallInfo fcinfo, const char *prefix);

} // namespace pg_retention::pg
