/*-------------------------------------------------------------------------
 *
 * keys.cpp
 *		Parsing the server key and deriving purpose-specific keys (see
 *		keys.hpp).
 *
 *		Key material is decoded straight into SecureBytes: no std::string
 *		ever holds a key, and no message ever quotes one.
 *
 * IDENTIFICATION
 *		src/core/crypto/keys.cpp
 *-------------------------------------------------------------------------
 */
#include "crypto/keys.hpp"

#include <memory>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include "base/error.hpp"

namespace pg_retention
{

namespace
{

constexpr std::string_view kHkdfSalt = "pg_retention";
constexpr std::string_view kFingerprintLabel = "fingerprint";
constexpr size_t kFingerprintBytes = 8;
/* 32 bytes in base64: 43 significant characters, plus one '=' when padded */
constexpr size_t kBase64KeyChars = (kKeyLength * 8 + 5) / 6;

/*
 * The one error for an unusable key.  It says what was expected and how
 * long the input was, which helps spot a truncated or doubled key, but
 * never any character of the input.
 */
[[noreturn]] void ThrowInvalidKey(size_t length)
{
	throw Error(ErrorKind::ConfigFileError, "invalid server key",
	            "The server key must be 32 bytes written as 64 hexadecimal digits or as base64; "
	            "the key given has " +
	                std::to_string(length) + " characters after trimming whitespace.",
	            "Generate one with: openssl rand -hex 32");
}

std::string_view TrimWhitespace(std::string_view text)
{
	constexpr std::string_view kSpace = " \t\r\n\v\f";
	const size_t first = text.find_first_not_of(kSpace);
	if (first == std::string_view::npos)
		return {};
	return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

int HexDigitValue(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes text (2 * out.size() hex digits) into out; false on a non-hex digit. */
bool DecodeHex(std::string_view text, SecureBytes &out)
{
	for (size_t i = 0; i < out.size(); i++) {
		const int hi = HexDigitValue(text[2 * i]);
		const int lo = HexDigitValue(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out.data()[i] = static_cast<unsigned char>(hi << 4 | lo);
	}
	return true;
}

/* Either base64 alphabet: '+' '/' (RFC 4648 section 4) or '-' '_' (section 5). */
int Base64DigitValue(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/*
 * Decodes unpadded base64 text into exactly out.size() bytes.  The unused
 * low bits of the last digit must be zero, so each key has one spelling.
 */
bool DecodeBase64(std::string_view text, SecureBytes &out)
{
	uint32_t bits = 0;
	int nbits = 0;
	size_t written = 0;

	for (char c : text) {
		const int v = Base64DigitValue(c);
		if (v < 0)
			return false;
		bits = (bits << 6 | static_cast<uint32_t>(v)) & 0xFFFF;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			if (written == out.size())
				return false;
			out.data()[written++] = static_cast<unsigned char>(bits >> nbits);
		}
	}
	return written == out.size() && (bits & ((1u << nbits) - 1)) == 0;
}

/* The non-secret key identifier: HMAC-SHA256(master, "fingerprint"), truncated. */
std::string ComputeFingerprint(const SecureBytes &master)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_length = 0;

	if (HMAC(EVP_sha256(), master.data(), static_cast<int>(master.size()),
	         reinterpret_cast<const unsigned char *>(kFingerprintLabel.data()),
	         kFingerprintLabel.size(), mac, &mac_length) == nullptr)
		ThrowCryptoFailure("could not compute the server key fingerprint");
	return HexEncode(std::string_view(reinterpret_cast<const char *>(mac), kFingerprintBytes));
}

OSSL_PARAM OctetParam(const char *name, std::string_view bytes)
{
	return OSSL_PARAM_construct_octet_string(name, const_cast<char *>(bytes.data()), bytes.size());
}

struct KdfFree {
	void operator()(EVP_KDF *kdf) const { EVP_KDF_free(kdf); }
	void operator()(EVP_KDF_CTX *ctx) const { EVP_KDF_CTX_free(ctx); }
};

} // namespace

std::string HexEncode(std::string_view bytes)
{
	static constexpr char kDigits[] = "0123456789abcdef";
	std::string hex;
	hex.reserve(2 * bytes.size());
	for (unsigned char byte : bytes) {
		hex.push_back(kDigits[byte >> 4]);
		hex.push_back(kDigits[byte & 0xF]);
	}
	return hex;
}

[[noreturn]] void ThrowCryptoFailure(const char *what)
{
	const unsigned long code = ERR_peek_last_error();
	std::string detail;
	if (code != 0) {
		char buffer[256];
		ERR_error_string_n(code, buffer, sizeof(buffer));
		detail = std::string("OpenSSL: ") + buffer;
	}
	ERR_clear_error();
	throw Error(ErrorKind::Internal, what, detail);
}

SecureBytes ParseKeyMaterial(std::string_view text)
{
	const std::string_view key = TrimWhitespace(text);
	SecureBytes bytes(kKeyLength);

	if (key.size() == 2 * kKeyLength) {
		if (DecodeHex(key, bytes))
			return bytes;
	} else if (key.size() == kBase64KeyChars) {
		if (DecodeBase64(key, bytes))
			return bytes;
	} else if (key.size() == kBase64KeyChars + 1 && key.back() == '=') {
		if (DecodeBase64(key.substr(0, kBase64KeyChars), bytes))
			return bytes;
	}
	ThrowInvalidKey(key.size());
}

/*
 * One-shot HKDF through OpenSSL's EVP_KDF.  Key derivation runs when a key
 * is loaded or a derived key is first needed, not per row, so fetching the
 * algorithm on each call costs nothing that matters.
 */
SecureBytes Hkdf(std::string_view ikm, std::string_view salt, std::string_view info, size_t length)
{
	std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
	if (!kdf)
		ThrowCryptoFailure("could not load HKDF");
	std::unique_ptr<EVP_KDF_CTX, KdfFree> ctx(EVP_KDF_CTX_new(kdf.get()));
	if (!ctx)
		ThrowCryptoFailure("could not allocate HKDF context");

	const OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char *>("SHA256"), 0),
	    OctetParam(OSSL_KDF_PARAM_KEY, ikm),
	    OctetParam(OSSL_KDF_PARAM_SALT, salt),
	    OctetParam(OSSL_KDF_PARAM_INFO, info),
	    OSSL_PARAM_construct_end(),
	};
	SecureBytes out(length);
	if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1)
		ThrowCryptoFailure("could not derive key");
	return out;
}

const char *KeyPurposeName(KeyPurpose purpose)
{
	switch (purpose) {
	case KeyPurpose::Hash:
		return "hash";
	case KeyPurpose::Fake:
		return "fake";
	case KeyPurpose::Wrap:
		return "wrap";
	case KeyPurpose::ErasureLog:
		return "erasure_log";
	}
	throw Error(ErrorKind::Internal, "unrecognized key purpose");
}

KeyRing::KeyRing(SecureBytes master, uint32_t version)
    : master_(std::move(master)), version_(version)
{
	if (master_.size() != kKeyLength)
		throw Error(ErrorKind::Internal, "server key must be 32 bytes");
	if (version_ == 0)
		throw Error(ErrorKind::InvalidParameterValue, "invalid server key version",
		            "Key versions start at 1.");
	fingerprint_ = ComputeFingerprint(master_);
}

SecureBytes KeyRing::Derive(KeyPurpose purpose) const
{
	const std::string info =
	    std::string("pg_retention/v1/") + KeyPurposeName(purpose) + "/" + std::to_string(version_);
	return Hkdf(master_.view(), kHkdfSalt, info, kKeyLength);
}

} // namespace pg_retention
