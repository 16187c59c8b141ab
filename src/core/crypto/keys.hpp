/*-------------------------------------------------------------------------
 *
 * keys.hpp
 *		The server key and the purpose-specific keys derived from it.
 *
 *		The server key (the key-encryption key, KEK) is read when the server
 *		starts, from a key file or a key command's output (src/pg reads it and
 *		calls ParseKeyMaterial); it is never visible to SQL or logs.  Nothing
 *		uses it directly: each use gets its own key, derived with HKDF-SHA256
 *		from the server key, the purpose and a key version, so that one use
 *		cannot be turned against another and the key can be rotated (the
 *		version is stored beside what each key protects, see envelope.hpp).
 *
 * IDENTIFICATION
 *		src/core/crypto/keys.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/secure_bytes.hpp"
#include "base/cpp_only.hpp"

namespace pg_retention
{

/* Every key pg_retention handles is an AES-256 / HMAC-SHA256 key of this size. */
constexpr size_t kKeyLength = 32;

/*
 * Parses the server key as written in a key file or printed by a key
 * command: 32 bytes as 64 hex digits (either case), or as base64 (standard
 * or URL-safe alphabet, padded or not).  Surrounding whitespace is ignored.
 * Anything else throws Error(ConfigFileError, "invalid server key"); the
 * error never quotes the input.
 */
SecureBytes ParseKeyMaterial(std::string_view text);

/*
 * HKDF-SHA256 (RFC 5869), extract then expand, with raw inputs.  Exposed so
 * that it can be checked against the RFC's test vectors; code should derive
 * keys through KeyRing::Derive.  length is at most 255 * 32.
 */
SecureBytes Hkdf(std::string_view ikm, std::string_view salt, std::string_view info, size_t length);

/* What a derived key is for; each purpose gets an independent key. */
enum class KeyPurpose {
	Hash,      /* keyed hash anonymization (HMAC-SHA256 pseudonyms) */
	Fake,      /* seeds deterministic fake_* values */
	Wrap,      /* wraps the per-subject data keys of the archive */
	ErasureLog /* HMAC of forgotten subjects in the erasure log */
};

/* The purpose's name as it appears in the HKDF info string ("erasure_log"). */
const char *KeyPurposeName(KeyPurpose purpose);

/*
 * The loaded server key with its version.  Derived keys are computed on
 * demand; callers that need one per row derive it once and keep it.
 */
class KeyRing
{
public:
	/* master must be kKeyLength bytes (as ParseKeyMaterial returns); version >= 1. */
	KeyRing(SecureBytes master, uint32_t version);

	/*
	 * HKDF-SHA256 of the server key, salt "pg_retention", info
	 * "pg_retention/v1/<purpose>/<version>": 32 bytes.
	 */
	SecureBytes Derive(KeyPurpose purpose) const;

	uint32_t version() const noexcept { return version_; }

	/*
	 * A non-secret name for the key, 16 hex digits (first 8 bytes of
	 * HMAC-SHA256(server key, "fingerprint")), so that an administrator can
	 * tell which key is loaded without seeing it.
	 */
	const std::string &Fingerprint() const noexcept { return fingerprint_; }

private:
	SecureBytes master_;
	uint32_t version_;
	std::string fingerprint_;
};

/* Lower-case hex of bytes (for fingerprints, test vectors and logs of non-secrets). */
std::string HexEncode(std::string_view bytes);

/*
 * Reports a failure inside OpenSSL (out of memory, missing algorithm) as
 * Error(Internal); clears OpenSSL's error queue so that a stale entry cannot
 * confuse a later, unrelated OpenSSL caller in the same backend (libpq SSL).
 */
[[noreturn]] void ThrowCryptoFailure(const char *what);

} // namespace pg_retention
