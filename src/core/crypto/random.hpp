/*-------------------------------------------------------------------------
 *
 * random.hpp
 *		The random numbers behind noise, jitter and fake_*(..., random).
 *
 *		A per-thread ChaCha20 keystream (OpenSSL EVP_chacha20), keyed from
 *		OpenSSL's RAND_bytes: cryptographically strong, so that the original
 *		value cannot be recovered by modelling the generator from many noisy
 *		outputs, and cheap, because the keystream is produced 4 KB at a time
 *		and each draw only reads 8 bytes from the buffer.
 *
 *		PostgreSQL forks its backends from the postmaster: a child that kept
 *		its parent's generator state would repeat its siblings' numbers.  A
 *		pthread_atfork handler marks every generator stale in the child, the
 *		process id is checked again at each refill, and the glue also calls
 *		ReseedRandom() at backend start.
 *
 * IDENTIFICATION
 *		src/core/crypto/random.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/cpp_only.hpp"

namespace pg_retention
{

/* Throws away the calling thread's generator state and seeds it afresh. */
void ReseedRandom();

/* 64 uniformly random bits. */
uint64_t RandomU64();

/* A uniform integer in [0, bound); bound must be > 0 (0 gives 0). Unbiased. */
uint64_t RandomBelow(uint64_t bound);

/* A uniform integer in [lo, hi], both included; lo <= hi (else lo). */
int64_t RandomInRange(int64_t lo, int64_t hi);

/* A uniform double in [0, 1), 53 random bits. */
double RandomUnit();

/* Fills `length` bytes at `out` with random bytes. */
void RandomFill(void *out, size_t length);

} // namespace pg_retention
