/*-------------------------------------------------------------------------
 *
 * envelope.hpp
 *		Envelope encryption of the archive: AES-256-GCM under a random data
 *		key per subject, data keys wrapped by a key derived from the server
 *		key.
 *
 *		Each archived row is sealed with its subject's data key; the data key
 *		is stored only wrapped (WrapDataKey) under KeyRing::Derive(Wrap), with
 *		the key version in clear in the blob so that, during a rotation, the
 *		glue can pick the matching server key (WrappedKeyVersion).  Forgetting
 *		a subject deletes its wrapped data key: every sealed copy of its rows,
 *		in backups too, can no longer be opened.
 *
 *		Blobs are self-describing, all integers big endian:
 *		  wrapped data key: format 0x01 | key version (4) | nonce (12) |
 *		                    encrypted data key (32) | GCM tag (16)
 *		  sealed data:      format 0x02 | nonce (12) | ciphertext | GCM tag (16)
 *		The format byte (and key version) is authenticated along with the
 *		caller's AAD, so neither can be altered and one kind of blob cannot
 *		pass for the other.  The AAD binds a blob to its context (the glue
 *		passes e.g. the table OID and the subject id's hash): a blob copied
 *		to another row does not open.
 *
 *		Nonces are 96 random bits from RAND_bytes, never a counter.  The
 *		collision bound (NIST SP 800-38D) allows 2^32 messages per key; a
 *		data key seals one subject's rows, so it stays far below that.
 *
 *		Seal and Open run once per archived row: the cipher is fetched once
 *		per process, the AES-GCM context allocated once per thread (its keyed
 *		state wiped after every call), nonces drawn from RAND_bytes in
 *		blocks, and each result allocated once at its final size.
 *
 *		Nothing here is tied to a transaction: when an error leaves one of
 *		these functions, everything it held has already been released and
 *		wiped (RAII), so no OpenSSL object leaks whatever the caller does
 *		next.  The lifetime of the keys passed in, and what happens to them
 *		when a transaction aborts, is the glue layer's policy.
 *
 * IDENTIFICATION
 *		src/core/crypto/envelope.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/keys.hpp"
#include "crypto/secure_bytes.hpp"
#include "base/cpp_only.hpp"

namespace pg_retention
{

/* Size of a WrapDataKey blob. */
constexpr size_t kWrappedKeyLength = 1 + 4 + 12 + kKeyLength + 16;
/* What Seal adds to the plaintext's length. */
constexpr size_t kSealOverhead = 1 + 12 + 16;

/* A fresh random data key (kKeyLength bytes). */
SecureBytes NewDataKey();

/* Encrypts data_key under wrapping_key; key_version (>= 1) is recorded in clear. */
std::string WrapDataKey(const SecureBytes &wrapping_key, uint32_t key_version,
                        const SecureBytes &data_key, std::string_view aad);

/*
 * The key version a wrapped blob was written under, to choose the server
 * key that unwraps it.  Throws like UnwrapDataKey on a malformed blob.
 */
uint32_t WrappedKeyVersion(std::string_view blob);

/* Reverses WrapDataKey; any mismatch (key, AAD, altered blob) throws. */
SecureBytes UnwrapDataKey(const SecureBytes &wrapping_key, std::string_view blob,
                          std::string_view aad);

/* Encrypts plaintext under a data key: plaintext.size() + kSealOverhead bytes. */
std::string Seal(const SecureBytes &data_key, std::string_view plaintext, std::string_view aad);

/*
 * Seals many plaintexts under one data key, as Seal does each: the AES
 * key schedule and GHASH key are computed once, and each row only sets a
 * fresh nonce (EVP_CipherInit_ex2 with the key left out).  The keyed
 * context is wiped when the sealer goes (the archive seals a batch of a
 * subject's rows with one).  Same blobs as Seal; Open reads them.
 */
class RowSealer
{
public:
	explicit RowSealer(const SecureBytes &data_key);
	~RowSealer();
	RowSealer(const RowSealer &) = delete;
	RowSealer &operator=(const RowSealer &) = delete;

	std::string Seal(std::string_view plaintext, std::string_view aad);

private:
	void *ctx_; /* EVP_CIPHER_CTX, keyed */
};

/*
 * Reverses Seal.  A wrong key or AAD, or an altered, truncated or malformed
 * blob, throws Error(InvalidParameterValue, "could not decrypt archived
 * data") and returns nothing of the plaintext.
 */
std::string Open(const SecureBytes &data_key, std::string_view sealed, std::string_view aad);

} // namespace pg_retention
