/*-------------------------------------------------------------------------
 *
 * envelope.cpp
 *		AES-256-GCM sealing and key wrapping for the archive (see
 *		envelope.hpp for the blob formats and the security argument).
 *
 *		Wrapping a data key and sealing a row are the same operation on
 *		different headers, so both go through GcmSeal / GcmOpen.
 *
 * IDENTIFICATION
 *		src/core/crypto/envelope.cpp
 *-------------------------------------------------------------------------
 */
#include "crypto/envelope.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>

#include <pthread.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base/error.hpp"

namespace pg_retention
{

namespace
{

/* Format tags: kind of blob and format version in one byte. */
constexpr unsigned char kWrappedKeyFormat = 0x01;
constexpr unsigned char kSealedFormat = 0x02;

constexpr size_t kNonceLength = 12;
constexpr size_t kTagLength = 16;
constexpr size_t kWrappedHeaderLength = 1 + 4;
constexpr size_t kSealedHeaderLength = 1;

static_assert(kWrappedKeyLength == kWrappedHeaderLength + kNonceLength + kKeyLength + kTagLength);
static_assert(kSealOverhead == kSealedHeaderLength + kNonceLength + kTagLength);

/*
 * Every way a blob can fail to open gets the same error: which check
 * failed tells an attacker nothing useful and an operator nothing more.
 */
[[noreturn]] void ThrowDecryptFailure(const char *hint = nullptr)
{
	throw Error(ErrorKind::InvalidParameterValue, "could not decrypt archived data",
	            "Authentication failed.", hint ? hint : "");
}

constexpr const char *kWrongServerKeyHint =
    "The server key may not be the one this archive was written with.";

void CheckKeyLength(const SecureBytes &key)
{
	if (key.size() != kKeyLength)
		throw Error(ErrorKind::Internal, "encryption key must be 32 bytes");
}

const unsigned char *Bytes(std::string_view text)
{
	return reinterpret_cast<const unsigned char *>(text.data());
}

/*
 * AES-256-GCM, fetched once per process: an implicit fetch on every
 * EVP_CipherInit would cost a provider lookup per row.  Kept for the
 * process lifetime on purpose (freeing it at exit could race OpenSSL's own
 * cleanup).
 */
const EVP_CIPHER *Aes256Gcm()
{
	static const EVP_CIPHER *const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
	if (cipher == nullptr)
		ThrowCryptoFailure("could not load AES-256-GCM");
	return cipher;
}

struct CipherContextFree {
	void operator()(EVP_CIPHER_CTX *ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

/*
 * This thread's AES-256-GCM context, keyed for one operation.  The context
 * object is allocated once per thread and reused; the keyed state inside it
 * (the AES key schedule) is wiped and released by EVP_CIPHER_CTX_reset when
 * the operation ends, normally or by an exception, so no trace of a data
 * key outlives the call.
 */
class KeyedCipher
{
public:
	KeyedCipher(const SecureBytes &key, const unsigned char *nonce, bool encrypt)
	    : ctx_(ThreadContext())
	{
		if (EVP_CipherInit_ex2(ctx_, Aes256Gcm(), key.data(), nonce, encrypt ? 1 : 0, nullptr) !=
		    1) {
			EVP_CIPHER_CTX_reset(ctx_);
			ThrowCryptoFailure("could not initialize AES-256-GCM");
		}
	}
	~KeyedCipher() { EVP_CIPHER_CTX_reset(ctx_); }
	KeyedCipher(const KeyedCipher &) = delete;
	KeyedCipher &operator=(const KeyedCipher &) = delete;

	EVP_CIPHER_CTX *get() const noexcept { return ctx_; }

private:
	static EVP_CIPHER_CTX *ThreadContext()
	{
		thread_local std::unique_ptr<EVP_CIPHER_CTX, CipherContextFree> context;
		if (!context) {
			context.reset(EVP_CIPHER_CTX_new());
			if (!context)
				ThrowCryptoFailure("could not allocate AES-256-GCM context");
		}
		return context.get();
	}

	EVP_CIPHER_CTX *const ctx_;
};

/*
 * Writes a fresh random nonce.  One RAND_bytes call costs about 0.6 us
 * whatever its size, more than sealing a row, so nonces are drawn from
 * RAND_bytes in blocks; nonces are public, so holding the next few in
 * memory reveals nothing.  Each nonce of a block is handed out once.  A
 * block belongs to one thread of one process: PostgreSQL forks every
 * backend from the postmaster, and a child reusing its parent's block
 * would repeat nonces, so a fork discards the block: a pthread_atfork
 * handler in the child moves the fork generation on.  Not a getpid() per
 * nonce: glibc no longer caches it, and the system call cost as much as
 * sealing a small row.
 */
std::atomic<uint64_t> fork_generation{1};

void DiscardNoncesInChild()
{
	fork_generation.fetch_add(1, std::memory_order_relaxed);
}

void DrawNonce(unsigned char *nonce)
{
	struct NoncePool {
		unsigned char bytes[kNonceLength * 256];
		size_t next = sizeof(bytes);
		uint64_t generation = 0;
	};
	thread_local NoncePool pool;
	static std::once_flag registered;
	std::call_once(registered, [] {
		if (pthread_atfork(nullptr, nullptr, DiscardNoncesInChild) != 0)
			ThrowCryptoFailure("could not register the nonce pool's fork handler");
	});

	const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
	if (pool.next == sizeof(pool.bytes) || pool.generation != generation) {
		if (RAND_bytes(pool.bytes, sizeof(pool.bytes)) != 1)
			ThrowCryptoFailure("could not generate a random nonce");
		pool.next = 0;
		pool.generation = generation;
	}
	std::memcpy(nonce, pool.bytes + pool.next, kNonceLength);
	pool.next += kNonceLength;
}

/*
 * Feeds length bytes through the cipher (out == nullptr: as AAD), in
 * chunks because OpenSSL takes int lengths.  GCM is a stream mode: output
 * length equals input length.
 */
bool CipherUpdate(EVP_CIPHER_CTX *ctx, const unsigned char *in, size_t length, unsigned char *out)
{
	constexpr size_t kChunk = size_t{1} << 30;
	while (length > 0) {
		const int chunk = static_cast<int>(std::min(length, kChunk));
		int written = 0;
		if (EVP_CipherUpdate(ctx, out, &written, in, chunk) != 1 || written != chunk)
			return false;
		in += chunk;
		if (out != nullptr)
			out += chunk;
		length -= static_cast<size_t>(chunk);
	}
	return true;
}

/*
 * Feeds header and aad as AAD, encrypts plaintext and appends the tag:
 * the body of GcmSeal once the context is keyed and given its nonce.
 */
void GcmEncryptInto(EVP_CIPHER_CTX *ctx, std::string_view header, std::string_view aad,
                    std::string_view plaintext, unsigned char *ciphertext)
{
	unsigned char *const tag = ciphertext + plaintext.size();
	int final_length = 0;
	if (!CipherUpdate(ctx, Bytes(header), header.size(), nullptr) ||
	    !CipherUpdate(ctx, Bytes(aad), aad.size(), nullptr) ||
	    !CipherUpdate(ctx, Bytes(plaintext), plaintext.size(), ciphertext) ||
	    EVP_CipherFinal_ex(ctx, tag, &final_length) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagLength, tag) != 1)
		ThrowCryptoFailure("could not encrypt archived data");
}

/*
 * Returns header | nonce | encrypt(plaintext) | tag, with header and aad
 * authenticated.  The result is allocated once, at its final size.
 */
std::string GcmSeal(const SecureBytes &key, std::string_view header, std::string_view plaintext,
                    std::string_view aad)
{
	CheckKeyLength(key);
	std::string blob(header.size() + kNonceLength + plaintext.size() + kTagLength, '\0');
	auto *const nonce = reinterpret_cast<unsigned char *>(blob.data()) + header.size();
	unsigned char *const ciphertext = nonce + kNonceLength;

	std::memcpy(blob.data(), header.data(), header.size());
	DrawNonce(nonce);

	const KeyedCipher cipher(key, nonce, true);
	GcmEncryptInto(cipher.get(), header, aad, plaintext, ciphertext);
	return blob;
}

/* Length of the encrypted payload of a blob with this header, or throws. */
size_t PayloadLength(std::string_view blob, size_t header_length)
{
	if (blob.size() < header_length + kNonceLength + kTagLength)
		ThrowDecryptFailure();
	return blob.size() - header_length - kNonceLength - kTagLength;
}

/*
 * Authenticates blob (header | nonce | ciphertext | tag, header_length bytes
 * of header) with aad and decrypts it into out, PayloadLength() bytes.  On
 * failure out is wiped before throwing: unauthenticated plaintext never
 * reaches the caller.
 */
void GcmOpen(const SecureBytes &key, std::string_view blob, size_t header_length,
             std::string_view aad, unsigned char *out, const char *failure_hint = nullptr)
{
	CheckKeyLength(key);
	const size_t payload_length = PayloadLength(blob, header_length);
	const unsigned char *const nonce = Bytes(blob) + header_length;
	const unsigned char *const ciphertext = nonce + kNonceLength;
	unsigned char tag[kTagLength];
	std::memcpy(tag, ciphertext + payload_length, kTagLength);

	const KeyedCipher cipher(key, nonce, false);
	EVP_CIPHER_CTX *const ctx = cipher.get();
	int final_length = 0;
	if (!CipherUpdate(ctx, Bytes(blob), header_length, nullptr) ||
	    !CipherUpdate(ctx, Bytes(aad), aad.size(), nullptr) ||
	    !CipherUpdate(ctx, ciphertext, payload_length, out) ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagLength, tag) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + payload_length, &final_length) != 1) {
		if (payload_length > 0)
			OPENSSL_cleanse(out, payload_length);
		ERR_clear_error();
		ThrowDecryptFailure(failure_hint);
	}
}

/* Checks a wrapped key's size and format tag. */
void CheckWrappedKey(std::string_view blob)
{
	if (blob.size() != kWrappedKeyLength || Bytes(blob)[0] != kWrappedKeyFormat)
		ThrowDecryptFailure();
}

} // namespace

SecureBytes NewDataKey()
{
	SecureBytes key(kKeyLength);
	if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1)
		ThrowCryptoFailure("could not generate a random data key");
	return key;
}

std::string WrapDataKey(const SecureBytes &wrapping_key, uint32_t key_version,
                        const SecureBytes &data_key, std::string_view aad)
{
	CheckKeyLength(data_key);
	if (key_version == 0)
		throw Error(ErrorKind::Internal, "server key version must be at least 1");
	const char header[kWrappedHeaderLength] = {
	    static_cast<char>(kWrappedKeyFormat), static_cast<char>(key_version >> 24),
	    static_cast<char>(key_version >> 16), static_cast<char>(key_version >> 8),
	    static_cast<char>(key_version),
	};
	return GcmSeal(wrapping_key, std::string_view(header, sizeof(header)), data_key.view(), aad);
}

uint32_t WrappedKeyVersion(std::string_view blob)
{
	CheckWrappedKey(blob);
	const unsigned char *version = Bytes(blob) + 1;
	return uint32_t{version[0]} << 24 | uint32_t{version[1]} << 16 | uint32_t{version[2]} << 8 |
	       uint32_t{version[3]};
}

SecureBytes UnwrapDataKey(const SecureBytes &wrapping_key, std::string_view blob,
                          std::string_view aad)
{
	CheckWrappedKey(blob);
	SecureBytes data_key(kKeyLength);
	GcmOpen(wrapping_key, blob, kWrappedHeaderLength, aad, data_key.data(), kWrongServerKeyHint);
	return data_key;
}

std::string Seal(const SecureBytes &data_key, std::string_view plaintext, std::string_view aad)
{
	const char header = static_cast<char>(kSealedFormat);
	return GcmSeal(data_key, std::string_view(&header, 1), plaintext, aad);
}

RowSealer::RowSealer(const SecureBytes &data_key) : ctx_(nullptr)
{
	CheckKeyLength(data_key);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (ctx == nullptr)
		ThrowCryptoFailure("could not allocate AES-256-GCM context");
	/* the key now, a nonce per row (Seal) */
	if (EVP_CipherInit_ex2(ctx, Aes256Gcm(), data_key.data(), nullptr, 1, nullptr) != 1) {
		EVP_CIPHER_CTX_free(ctx); /* wipes what was keyed */
		ThrowCryptoFailure("could not initialize AES-256-GCM");
	}
	ctx_ = ctx;
}

RowSealer::~RowSealer()
{
	EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX *>(ctx_));
}

std::string RowSealer::Seal(std::string_view plaintext, std::string_view aad)
{
	auto *const ctx = static_cast<EVP_CIPHER_CTX *>(ctx_);
	const char header = static_cast<char>(kSealedFormat);
	std::string blob(kSealedHeaderLength + kNonceLength + plaintext.size() + kTagLength, '\0');
	auto *const nonce = reinterpret_cast<unsigned char *>(blob.data()) + kSealedHeaderLength;
	blob[0] = header;
	DrawNonce(nonce);
	if (EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce, 1, nullptr) != 1)
		ThrowCryptoFailure("could not initialize AES-256-GCM");
	GcmEncryptInto(ctx, std::string_view(&header, 1), aad, plaintext, nonce + kNonceLength);
	return blob;
}

std::string Open(const SecureBytes &data_key, std::string_view sealed, std::string_view aad)
{
	if (sealed.empty() || Bytes(sealed)[0] != kSealedFormat)
		ThrowDecryptFailure();
	std::string plaintext(PayloadLength(sealed, kSealedHeaderLength), '\0');
	GcmOpen(data_key, sealed, kSealedHeaderLength, aad,
	        reinterpret_cast<unsigned char *>(plaintext.data()));
	return plaintext;
}

} // namespace pg_retention
