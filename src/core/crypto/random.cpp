/*-------------------------------------------------------------------------
 *
 * random.cpp
 *		Per-thread ChaCha20 generator with fast key erasure (see random.hpp).
 *
 *		Each refill encrypts a zero buffer with ChaCha20; the first 48 bytes
 *		of the keystream become the next key and nonce and are wiped, the rest
 *		is handed out 8 bytes at a time and wiped as it is consumed.  So the
 *		state in memory never allows recomputing numbers already returned
 *		(values that went into noise or jitter), and a fresh key from
 *		RAND_bytes is only needed at start and after a fork.
 *
 * IDENTIFICATION
 *		src/core/crypto/random.cpp
 *-------------------------------------------------------------------------
 */
#include "crypto/random.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <unistd.h>

#include "crypto/keys.hpp"

namespace pg_retention
{

namespace
{

constexpr size_t kBufferBytes = 4096;
constexpr size_t kKeyBytes = 32;
constexpr size_t kIvBytes = 16; /* 4-byte block counter, then a 12-byte nonce */
constexpr size_t kRekeyBytes = kKeyBytes + kIvBytes;

/* Bumped in every child process: all generators inherited from the parent are stale. */
std::atomic<uint32_t> g_fork_generation{0};

void MarkGeneratorsStaleInChild()
{
	g_fork_generation.fetch_add(1, std::memory_order_relaxed);
}

class Generator
{
public:
	Generator() = default;
	Generator(const Generator &) = delete;
	Generator &operator=(const Generator &) = delete;

	~Generator()
	{
		if (ctx_)
			EVP_CIPHER_CTX_free(ctx_);
		OPENSSL_cleanse(buffer_, sizeof buffer_);
	}

	uint64_t Next()
	{
		if (pos_ + sizeof(uint64_t) > kBufferBytes ||
		    generation_ != g_fork_generation.load(std::memory_order_relaxed))
			Refill();
		uint64_t value;
		std::memcpy(&value, buffer_ + pos_, sizeof value);
		std::memset(buffer_ + pos_, 0, sizeof value);
		pos_ += sizeof value;
		return value;
	}

	void Fill(unsigned char *out, size_t length)
	{
		while (length > 0) {
			if (pos_ >= kBufferBytes ||
			    generation_ != g_fork_generation.load(std::memory_order_relaxed))
				Refill();
			const size_t chunk = std::min(length, kBufferBytes - pos_);
			std::memcpy(out, buffer_ + pos_, chunk);
			OPENSSL_cleanse(buffer_ + pos_, chunk);
			pos_ += chunk;
			out += chunk;
			length -= chunk;
		}
	}

	/* Forgets the current key and takes a fresh one from RAND_bytes. */
	void Seed()
	{
		static const bool atfork_registered =
		    pthread_atfork(nullptr, nullptr, MarkGeneratorsStaleInChild) == 0;
		(void)atfork_registered;

		if (!ctx_) {
			ctx_ = EVP_CIPHER_CTX_new();
			if (!ctx_ || EVP_EncryptInit_ex(ctx_, EVP_chacha20(), nullptr, nullptr, nullptr) != 1)
				ThrowCryptoFailure("could not set up the random number generator");
		}
		unsigned char seed[kRekeyBytes];
		if (RAND_bytes(seed, sizeof seed) != 1)
			ThrowCryptoFailure("could not seed the random number generator");
		Rekey(seed);
		pid_ = getpid();
		generation_ = g_fork_generation.load(std::memory_order_relaxed);
		pos_ = kBufferBytes;
	}

private:
	/*
	 * Produces the next buffer of keystream.  The process id is compared at
	 * each refill too, in case a process was cloned without running the
	 * atfork handlers.
	 */
	void Refill()
	{
		if (!ctx_ || generation_ != g_fork_generation.load(std::memory_order_relaxed) ||
		    pid_ != getpid())
			Seed();
		std::memset(buffer_, 0, sizeof buffer_);
		int produced = 0;
		if (EVP_EncryptUpdate(ctx_, buffer_, &produced, buffer_, static_cast<int>(kBufferBytes)) !=
		        1 ||
		    produced != static_cast<int>(kBufferBytes))
			ThrowCryptoFailure("could not generate random numbers");
		Rekey(buffer_);
		pos_ = kRekeyBytes;
	}

	/* Keys the cipher with 48 bytes of `material` and wipes them. */
	void Rekey(unsigned char *material)
	{
		unsigned char *iv = material + kKeyBytes;
		std::memset(iv, 0, 4); /* block counter starts at 0 */
		const int ok = EVP_EncryptInit_ex(ctx_, nullptr, nullptr, material, iv);
		OPENSSL_cleanse(material, kRekeyBytes);
		if (ok != 1)
			ThrowCryptoFailure("could not key the random number generator");
	}

	EVP_CIPHER_CTX *ctx_ = nullptr;
	pid_t pid_ = 0;
	uint32_t generation_ = 0;
	size_t pos_ = kBufferBytes;
	unsigned char buffer_[kBufferBytes];
};

thread_local Generator t_generator;

} // namespace

void ReseedRandom()
{
	t_generator.Seed();
}

uint64_t RandomU64()
{
	return t_generator.Next();
}

/* Lemire's multiply-and-reject: unbiased, and usually a single draw. */
uint64_t RandomBelow(uint64_t bound)
{
	if (bound == 0)
		return 0;
	__uint128_t product = static_cast<__uint128_t>(RandomU64()) * bound;
	uint64_t low = static_cast<uint64_t>(product);
	if (low < bound) {
		const uint64_t threshold = (0 - bound) % bound;
		while (low < threshold) {
			product = static_cast<__uint128_t>(RandomU64()) * bound;
			low = static_cast<uint64_t>(product);
		}
	}
	return static_cast<uint64_t>(product >> 64);
}

int64_t RandomInRange(int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	/* the span is computed modulo 2^64, so [INT64_MIN, INT64_MAX] works too */
	const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
	const uint64_t offset = span == UINT64_MAX ? RandomU64() : RandomBelow(span + 1);
	return static_cast<int64_t>(static_cast<uint64_t>(lo) + offset);
}

double RandomUnit()
{
	return static_cast<double>(RandomU64() >> 11) * 0x1.0p-53;
}

void RandomFill(void *out, size_t length)
{
	t_generator.Fill(static_cast<unsigned char *>(out), length);
}

} // namespace pg_retention
