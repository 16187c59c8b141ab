/*-------------------------------------------------------------------------
 *
 * test_anon_hash.cpp
 *		Unit tests of KeyedHasher and the hash method (anon_hash.cpp).
 *
 *		KeyedHasher is checked against OpenSSL's own HMAC() and RFC 4231;
 *		the encodings against OpenSSL's base64 and a bit-by-bit base32.
 *
 * IDENTIFICATION
 *		test/unit/test_anon_hash.cpp
 *-------------------------------------------------------------------------
 */
#include <gtest/gtest.h>

#include <new>
#include <string>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "anon/anon.hpp"
#include "base/error.hpp"

using namespace pg_retention;

namespace
{

HmacKey TestKey(uint8_t seed)
{
	HmacKey key;
	for (size_t i = 0; i < sizeof key.bytes; i++)
		key.bytes[i] = static_cast<uint8_t>(seed + 7 * i);
	return key;
}

std::string ToHex(const uint8_t *bytes, size_t length)
{
	static const char digits[] = "0123456789abcdef";
	std::string hex;
	for (size_t i = 0; i < length; i++) {
		hex.push_back(digits[bytes[i] >> 4]);
		hex.push_back(digits[bytes[i] & 0xf]);
	}
	return hex;
}

std::string OpenSslHmacHex(const uint8_t *key, size_t key_length, std::string_view message)
{
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int length = 0;
	HMAC(EVP_sha256(), key, static_cast<int>(key_length),
	     reinterpret_cast<const unsigned char *>(message.data()), message.size(), digest, &length);
	return ToHex(digest, length);
}

std::string MacHex(const KeyedHasher &hasher, std::string_view message)
{
	uint8_t digest[kDigestLength];
	hasher.Mac(message, digest);
	return ToHex(digest, sizeof digest);
}

std::string Hash(const KeyedHasher &hasher, std::string_view value,
                 HashEncoding encoding = HashEncoding::Hex, size_t length = 0)
{
	std::string out;
	HashText(hasher, value, encoding, length, out);
	return out;
}

/* RFC 4648 base64url without padding, through OpenSSL's standard base64. */
std::string OpenSslBase64Url(const uint8_t (&digest)[kDigestLength])
{
	unsigned char encoded[64];
	const int n = EVP_EncodeBlock(encoded, digest, kDigestLength);
	std::string text(reinterpret_cast<char *>(encoded), n);
	for (char &c : text)
		c = c == '+' ? '-' : c == '/' ? '_' : c;
	return text.substr(0, text.find('='));
}

/* RFC 4648 base32, lower case, without padding, one bit at a time. */
std::string ReferenceBase32(const uint8_t (&digest)[kDigestLength])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	std::string text;
	const size_t bits = kDigestLength * 8;
	for (size_t start = 0; start < bits; start += 5) {
		unsigned value = 0;
		for (size_t b = start; b < start + 5; b++) {
			const unsigned bit = b < bits ? (digest[b / 8] >> (7 - b % 8)) & 1 : 0;
			value = value << 1 | bit;
		}
		text.push_back(alphabet[value]);
	}
	return text;
}

} // namespace

TEST(AnonKeyedHasher, MatchesOpenSslHmacForEveryMessageLength)
{
	const HmacKey key = TestKey(1);
	const KeyedHasher hasher(key);
	/* around the SHA-256 block and padding boundaries, and a long message */
	for (size_t length : {0, 1, 20, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 1 << 20}) {
		const std::string message(length, static_cast<char>('a' + length % 26));
		EXPECT_EQ(MacHex(hasher, message), OpenSslHmacHex(key.bytes, sizeof key.bytes, message))
		    << "message length " << length;
	}
}

TEST(AnonKeyedHasher, ReproducesRfc4231TestCase2)
{
	const std::string_view key = "Jefe";
	const KeyedHasher hasher(reinterpret_cast<const uint8_t *>(key.data()), key.size());
	EXPECT_EQ(MacHex(hasher, "what do ya want for nothing?"),
	          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(AnonKeyedHasher, HashesKeysLongerThanABlockFirstAsRfc4231TestCase6)
{
	const std::string key(131, '\xaa');
	const KeyedHasher hasher(reinterpret_cast<const uint8_t *>(key.data()), key.size());
	EXPECT_EQ(MacHex(hasher, "Test Using Larger Than Block-Size Key - Hash Key First"),
	          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(AnonKeyedHasher, WipesItsMidstatesWhenDestroyed)
{
	alignas(KeyedHasher) unsigned char storage[sizeof(KeyedHasher)];
	auto *hasher = new (storage) KeyedHasher(TestKey(3));
	EXPECT_NE(MacHex(*hasher, "x"), "");
	bool any_set = false;
	for (unsigned char byte : storage)
		any_set |= byte != 0;
	EXPECT_TRUE(any_set);

	hasher->~KeyedHasher();
	for (unsigned char byte : storage)
		ASSERT_EQ(byte, 0);
}

TEST(AnonHash, HexIsTheLowerCaseHmacOfTheValue)
{
	const HmacKey key = TestKey(2);
	const KeyedHasher hasher(key);
	const std::string hash = Hash(hasher, "john.doe@example.com");
	EXPECT_EQ(hash.size(), 64u);
	EXPECT_EQ(hash, OpenSslHmacHex(key.bytes, sizeof key.bytes, "john.doe@example.com"));
}

TEST(AnonHash, Base64IsUrlSafeWithoutPadding)
{
	const KeyedHasher hasher(TestKey(2));
	for (std::string_view value : {"", "a", "john.doe@example.com", "Hélène"}) {
		uint8_t digest[kDigestLength];
		hasher.Mac(value, digest);
		const std::string hash = Hash(hasher, value, HashEncoding::Base64);
		EXPECT_EQ(hash.size(), 43u);
		EXPECT_EQ(hash, OpenSslBase64Url(digest));
	}
}

TEST(AnonHash, Base32IsLowerCaseRfc4648WithoutPadding)
{
	const KeyedHasher hasher(TestKey(2));
	for (std::string_view value : {"", "a", "john.doe@example.com", "Hélène"}) {
		uint8_t digest[kDigestLength];
		hasher.Mac(value, digest);
		const std::string hash = Hash(hasher, value, HashEncoding::Base32);
		EXPECT_EQ(hash.size(), 52u);
		EXPECT_EQ(hash, ReferenceBase32(digest));
	}
}

TEST(AnonHash, LengthTruncatesTheEncodedDigest)
{
	const KeyedHasher hasher(TestKey(4));
	const std::string full = Hash(hasher, "value");
	EXPECT_EQ(Hash(hasher, "value", HashEncoding::Hex, 8), full.substr(0, 8));
	EXPECT_EQ(Hash(hasher, "value", HashEncoding::Hex, 64), full);
	EXPECT_EQ(Hash(hasher, "value", HashEncoding::Base32, 20),
	          Hash(hasher, "value", HashEncoding::Base32).substr(0, 20));
}

TEST(AnonHash, LengthBeyondTheEncodingGivesTheFullDigest)
{
	const KeyedHasher hasher(TestKey(4));
	EXPECT_EQ(Hash(hasher, "value", HashEncoding::Base64, 64).size(), 43u);
	EXPECT_EQ(Hash(hasher, "value", HashEncoding::Base32, 60).size(), 52u);
	EXPECT_EQ(HashEncodedLength(HashEncoding::Hex), 64u);
	EXPECT_EQ(HashEncodedLength(HashEncoding::Base64), 43u);
	EXPECT_EQ(HashEncodedLength(HashEncoding::Base32), 52u);
}

TEST(AnonHash, RejectsALengthOutside8To64)
{
	const KeyedHasher hasher(TestKey(4));
	std::string out;
	for (size_t length : {1, 7, 65, 1000}) {
		try {
			HashText(hasher, "value", HashEncoding::Hex, length, out);
			ADD_FAILURE() << "length " << length << " accepted";
		} catch (const Error &e) {
			EXPECT_EQ(e.kind(), ErrorKind::InvalidParameterValue);
			EXPECT_STREQ(e.what(), "hash length must be between 8 and 64");
		}
	}
	EXPECT_EQ(out, "");
}

TEST(AnonHash, IsDeterministicAndDependsOnValueAndKey)
{
	const KeyedHasher hasher(TestKey(5));
	const KeyedHasher same_key(TestKey(5));
	const KeyedHasher other_key(TestKey(6));
	EXPECT_EQ(Hash(hasher, "alice"), Hash(same_key, "alice"));
	EXPECT_NE(Hash(hasher, "alice"), Hash(hasher, "alicf"));
	EXPECT_NE(Hash(hasher, "alice"), Hash(other_key, "alice"));
}

TEST(AnonHash, AppendsToTheCallersBuffer)
{
	const KeyedHasher hasher(TestKey(7));
	std::string out = "prefix:";
	HashText(hasher, "", HashEncoding::Hex, 8, out);
	EXPECT_EQ(out, "prefix:" + Hash(hasher, "").substr(0, 8));
}

TEST(AnonHash, HashesInvalidUtf8AndLongValuesAsBytes)
{
	const HmacKey key = TestKey(8);
	const KeyedHasher hasher(key);
	const std::string invalid = "\xff\xfe\xc3";
	EXPECT_EQ(Hash(hasher, invalid), OpenSslHmacHex(key.bytes, sizeof key.bytes, invalid));
	const std::string long_value(1 << 20, 'z');
	EXPECT_EQ(Hash(hasher, long_value), OpenSslHmacHex(key.bytes, sizeof key.bytes, long_value));
}

TEST(AnonHash, ParsesTheEncodingsOfTheMethodTable)
{
	EXPECT_EQ(ParseHashEncoding("hex"), HashEncoding::Hex);
	EXPECT_EQ(ParseHashEncoding("base64"), HashEncoding::Base64);
	EXPECT_EQ(ParseHashEncoding("base32"), HashEncoding::Base32);
	EXPECT_EQ(ParseHashEncoding("HEX"), std::nullopt);
	EXPECT_EQ(ParseHashEncoding("base58"), std::nullopt);
}
