/*-------------------------------------------------------------------------
 *
 * anon_hash.cpp
 *		KeyedHasher (HMAC-SHA-256 from precomputed midstates) and the hash
 *		method: a keyed pseudonym in hex, base64url or base32.
 *
 *		OpenSSL's low-level SHA256_CTX is used on purpose: copying a prepared
 *		context is a plain struct copy, whereas EVP_MD_CTX_copy_ex duplicates
 *		a provider context on the heap.  bench/micro/bench_anon.cpp keeps
 *		both (about 100 ns against 140 ns for a short value), and OpenSSL's
 *		one-shot HMAC() (about 1 us) as baselines.  The functions are
 *		deprecated in OpenSSL 3 but still exported; the warning is silenced
 *		for this file only.
 *
 * IDENTIFICATION
 *		src/core/anon/anon_hash.cpp
 *-------------------------------------------------------------------------
 */
#include "anon/anon.hpp"

#include <cstring>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "anon/anon_internal.hpp"
#include "base/error.hpp"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace pg_retention
{

namespace
{

constexpr size_t kBlockSize = 64; /* SHA-256 block, the HMAC key size */

/* Absorbs `key` xor `pad` into a fresh context: one block, as HMAC begins. */
void AbsorbPaddedKey(SHA256_CTX &ctx, const uint8_t (&block)[kBlockSize], uint8_t pad)
{
	uint8_t padded[kBlockSize];
	for (size_t i = 0; i < kBlockSize; i++)
		padded[i] = block[i] ^ pad;
	SHA256_Init(&ctx);
	SHA256_Update(&ctx, padded, kBlockSize);
	OPENSSL_cleanse(padded, sizeof padded);
}

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";

/*
 * Encodes the digest as a big-endian bit string cut into groups of `bits`
 * (4 for hex, 6 for base64, 5 for base32), the last group padded with zero
 * bits as RFC 4648 does; writes HashEncodedLength characters.
 */
size_t EncodeDigest(const uint8_t (&digest)[kDigestLength], unsigned bits, const char *alphabet,
                    char *out)
{
	const unsigned mask = (1u << bits) - 1;
	size_t n = 0;
	uint32_t acc = 0;
	unsigned held = 0;
	for (uint8_t byte : digest) {
		acc = (acc << 8) | byte;
		held += 8;
		while (held >= bits) {
			held -= bits;
			out[n++] = alphabet[(acc >> held) & mask];
		}
	}
	if (held > 0)
		out[n++] = alphabet[(acc << (bits - held)) & mask];
	return n;
}

} // namespace

static_assert(sizeof(SHA256_CTX) <= 112, "KeyedHasher::kStateSize too small for SHA256_CTX");

KeyedHasher::KeyedHasher(const HmacKey &key) noexcept : KeyedHasher(key.bytes, sizeof key.bytes) {}

KeyedHasher::KeyedHasher(const uint8_t *key, size_t length) noexcept
{
	uint8_t block[kBlockSize] = {};
	if (length > kBlockSize)
		SHA256(key, length, block); /* RFC 2104: long keys are hashed first */
	else if (length > 0)
		std::memcpy(block, key, length);

	SHA256_CTX ctx;
	AbsorbPaddedKey(ctx, block, 0x36);
	std::memcpy(inner_, &ctx, sizeof ctx);
	AbsorbPaddedKey(ctx, block, 0x5c);
	std::memcpy(outer_, &ctx, sizeof ctx);
	OPENSSL_cleanse(&ctx, sizeof ctx);
	OPENSSL_cleanse(block, sizeof block);
}

KeyedHasher::~KeyedHasher()
{
	OPENSSL_cleanse(inner_, sizeof inner_);
	OPENSSL_cleanse(outer_, sizeof outer_);
}

/* HMAC = SHA256(opad-state || SHA256(ipad-state || message)), from the midstates. */
void KeyedHasher::Mac(std::string_view message, uint8_t (&digest)[kDigestLength]) const noexcept
{
	SHA256_CTX ctx;
	std::memcpy(&ctx, inner_, sizeof ctx);
	SHA256_Update(&ctx, message.data(), message.size());
	SHA256_Final(digest, &ctx);
	std::memcpy(&ctx, outer_, sizeof ctx);
	SHA256_Update(&ctx, digest, kDigestLength);
	SHA256_Final(digest, &ctx);
	OPENSSL_cleanse(&ctx, sizeof ctx);
}

std::optional<HashEncoding> ParseHashEncoding(std::string_view name)
{
	static constexpr std::string_view kNames[] = {"hex", "base64", "base32"};
	return EnumFromName<HashEncoding>(kNames, name);
}

size_t HashEncodedLength(HashEncoding encoding)
{
	switch (encoding) {
	case HashEncoding::Base64:
		return (kDigestLength * 8 + 5) / 6;
	case HashEncoding::Base32:
		return (kDigestLength * 8 + 4) / 5;
	case HashEncoding::Hex:
		break;
	}
	return kDigestLength * 2;
}

void HashText(const KeyedHasher &hasher, std::string_view value, HashEncoding encoding,
              size_t length, std::string &out)
{
	if (length != 0 && (length < 8 || length > 64))
		throw Error(ErrorKind::InvalidParameterValue, "hash length must be between 8 and 64",
		            "The length given is " + std::to_string(length) + ".");

	uint8_t digest[kDigestLength];
	hasher.Mac(value, digest);

	char encoded[kDigestLength * 2];
	size_t n;
	switch (encoding) {
	case HashEncoding::Base64:
		n = EncodeDigest(digest, 6, kBase64Url, encoded);
		break;
	case HashEncoding::Base32:
		n = EncodeDigest(digest, 5, kBase32, encoded);
		break;
	case HashEncoding::Hex:
	default:
		for (size_t i = 0; i < kDigestLength; i++) {
			encoded[2 * i] = kHexDigits[digest[i] >> 4];
			encoded[2 * i + 1] = kHexDigits[digest[i] & 0xf];
		}
		n = kDigestLength * 2;
		break;
	}
	if (length != 0 && length < n)
		n = length;
	out.append(encoded, n);
}

} // namespace pg_retention
