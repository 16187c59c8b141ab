/*-------------------------------------------------------------------------
 *
 * test_keys.cpp
 *		Unit tests for the server key: SecureBytes, key parsing, HKDF and
 *		the purpose-specific keys derived by KeyRing.
 *
 *		The derived keys and the fingerprint are pinned to values computed
 *		by an independent implementation (Python's hmac): if they changed,
 *		archives written by an earlier release could no longer be opened.
 *
 * IDENTIFICATION
 *		test/unit/test_keys.cpp
 *-------------------------------------------------------------------------
 */
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "base/error.hpp"
#include "crypto/keys.hpp"

namespace pg_retention
{
namespace
{

/* The key 00 01 02 ... 1f, as 64 hex digits. */
constexpr const char *kSequentialKeyHex =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/* The key e0 e1 ... ff: its base64 uses '+' and '/', so both alphabets differ. */
constexpr const char *kHighKeyHex =
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
constexpr const char *kHighKeyBase64 = "4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8=";
constexpr const char *kHighKeyBase64Url = "4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v8=";

std::string KeyHex(const SecureBytes &key)
{
	return HexEncode(key.view());
}

KeyRing SequentialKeyRing(uint32_t version)
{
	return KeyRing(ParseKeyMaterial(kSequentialKeyHex), version);
}

/* ---- SecureBytes ---- */

TEST(SecureBytes, MovingTransfersTheBytesAndEmptiesTheSource)
{
	SecureBytes source("abc", 3);
	SecureBytes target(std::move(source));
	EXPECT_EQ(target.view(), "abc");
	EXPECT_TRUE(source.empty());
	EXPECT_EQ(source.data(), nullptr);
}

TEST(SecureBytes, MoveAssignmentReplacesTheHeldBytes)
{
	SecureBytes target("old", 3);
	target = SecureBytes("newer", 5);
	EXPECT_EQ(target.view(), "newer");
}

TEST(SecureBytes, CloneIsAnIndependentCopy)
{
	SecureBytes original("key", 3);
	SecureBytes copy = original.Clone();
	copy.data()[0] = 'K';
	EXPECT_EQ(original.view(), "key");
	EXPECT_EQ(copy.view(), "Key");
}

TEST(SecureBytes, ClearLeavesAnEmptyBuffer)
{
	SecureBytes bytes(32);
	bytes.Clear();
	EXPECT_TRUE(bytes.empty());
	EXPECT_EQ(bytes.view(), "");
}

TEST(SecureBytes, EqualsComparesSizeAndContent)
{
	EXPECT_TRUE(SecureBytes("abc", 3).Equals(SecureBytes("abc", 3)));
	EXPECT_FALSE(SecureBytes("abc", 3).Equals(SecureBytes("abd", 3)));
	EXPECT_FALSE(SecureBytes("abc", 3).Equals(SecureBytes("ab", 2)));
	EXPECT_TRUE(SecureBytes().Equals(SecureBytes()));
}

/* ---- ParseKeyMaterial: accepted spellings ---- */

TEST(ParseKeyMaterial, AcceptsLowerCaseHex)
{
	EXPECT_EQ(KeyHex(ParseKeyMaterial(kHighKeyHex)), kHighKeyHex);
}

TEST(ParseKeyMaterial, AcceptsUpperAndMixedCaseHex)
{
	EXPECT_EQ(KeyHex(ParseKeyMaterial(
	              "E0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF")),
	          kHighKeyHex);
	EXPECT_EQ(KeyHex(ParseKeyMaterial(
	              "e0E1e2E3e4E5e6E7e8E9eAEbeCEdeEEff0F1f2F3f4F5f6F7f8F9fAFbfCFdfEFf")),
	          kHighKeyHex);
}

TEST(ParseKeyMaterial, IgnoresSurroundingWhitespaceAndTheFinalNewline)
{
	/* what `openssl rand -hex 32 > key` writes, and what an editor may add */
	EXPECT_EQ(KeyHex(ParseKeyMaterial(std::string(kHighKeyHex) + "\n")), kHighKeyHex);
	EXPECT_EQ(KeyHex(ParseKeyMaterial(std::string(" \t") + kHighKeyHex + "\r\n\n")), kHighKeyHex);
}

TEST(ParseKeyMaterial, AcceptsStandardBase64PaddedOrNot)
{
	const std::string padded = kHighKeyBase64;
	EXPECT_EQ(KeyHex(ParseKeyMaterial(padded)), kHighKeyHex);
	EXPECT_EQ(KeyHex(ParseKeyMaterial(padded.substr(0, 43))), kHighKeyHex);
	EXPECT_EQ(KeyHex(ParseKeyMaterial(padded + "\n")), kHighKeyHex);
}

TEST(ParseKeyMaterial, AcceptsUrlSafeBase64PaddedOrNot)
{
	const std::string padded = kHighKeyBase64Url;
	EXPECT_EQ(KeyHex(ParseKeyMaterial(padded)), kHighKeyHex);
	EXPECT_EQ(KeyHex(ParseKeyMaterial(padded.substr(0, 43))), kHighKeyHex);
}

TEST(ParseKeyMaterial, ReturnsExactlyThirtyTwoBytes)
{
	EXPECT_EQ(ParseKeyMaterial(kSequentialKeyHex).size(), kKeyLength);
	EXPECT_EQ(ParseKeyMaterial(kHighKeyBase64).size(), kKeyLength);
}

/* ---- ParseKeyMaterial: rejected input ---- */

/*
 * Expects input to be rejected as "invalid server key" with a detail and
 * a hint that quote no part of it (checked down to 6-character pieces).
 */
void ExpectRejectedWithoutEcho(const std::string &input)
{
	try {
		ParseKeyMaterial(input);
		ADD_FAILURE() << "accepted an invalid key of " << input.size() << " characters";
	} catch (const Error &e) {
		EXPECT_EQ(e.kind(), ErrorKind::ConfigFileError);
		EXPECT_STREQ(e.what(), "invalid server key");
		EXPECT_NE(e.detail().find("64 hexadecimal digits"), std::string::npos);
		EXPECT_NE(e.hint().find("openssl rand -hex 32"), std::string::npos);
		const std::string text = std::string(e.what()) + "\n" + e.detail() + "\n" + e.hint();
		for (size_t i = 0; i + 6 <= input.size(); i++)
			EXPECT_EQ(text.find(input.substr(i, 6)), std::string::npos)
			    << "the error quotes input at offset " << i;
	}
}

TEST(ParseKeyMaterial, RejectsEmptyOrBlankInput)
{
	ExpectRejectedWithoutEcho("");
	ExpectRejectedWithoutEcho(" \n\t\n");
}

TEST(ParseKeyMaterial, RejectsHexOfTheWrongLength)
{
	const std::string hex = kHighKeyHex;
	ExpectRejectedWithoutEcho(hex.substr(0, 62)); /* 31 bytes */
	ExpectRejectedWithoutEcho(hex.substr(0, 63)); /* odd */
	ExpectRejectedWithoutEcho(hex + "e0");        /* 33 bytes */
	ExpectRejectedWithoutEcho(hex + hex);         /* doubled by a careless append */
}

TEST(ParseKeyMaterial, RejectsNonHexDigits)
{
	std::string hex = kHighKeyHex;
	hex[17] = 'g';
	ExpectRejectedWithoutEcho(hex);
	hex[17] = ' ';
	ExpectRejectedWithoutEcho(hex);
}

TEST(ParseKeyMaterial, RejectsWhitespaceInsideTheKey)
{
	const std::string hex = kHighKeyHex;
	ExpectRejectedWithoutEcho(hex.substr(0, 32) + "\n" + hex.substr(32));
}

TEST(ParseKeyMaterial, RejectsBase64OfTheWrongLength)
{
	/* base64 of 31 and 33 bytes */
	ExpectRejectedWithoutEcho("4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/g==");
	ExpectRejectedWithoutEcho("4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v/g");
}

TEST(ParseKeyMaterial, RejectsMalformedBase64)
{
	std::string bad_digit = kHighKeyBase64;
	bad_digit[10] = '*';
	ExpectRejectedWithoutEcho(bad_digit);
	/* padding where a digit belongs, and a second '=' */
	ExpectRejectedWithoutEcho(std::string(kHighKeyBase64).substr(0, 42) + "==");
	/* same bytes, but the last digit's unused bits are set: not canonical */
	ExpectRejectedWithoutEcho("4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v9=");
}

TEST(ParseKeyMaterial, ErrorDetailGivesTheLengthToSpotATruncatedKey)
{
	try {
		ParseKeyMaterial(std::string(kHighKeyHex).substr(0, 40) + "\n");
		FAIL() << "accepted a truncated key";
	} catch (const Error &e) {
		EXPECT_NE(e.detail().find("has 40 characters"), std::string::npos) << e.detail();
	}
}

/* ---- HKDF ---- */

TEST(Hkdf, MatchesRfc5869TestCase1)
{
	const std::string ikm(22, '\x0b');
	const std::string salt("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 13);
	const std::string info("\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9", 10);
	EXPECT_EQ(
	    KeyHex(Hkdf(ikm, salt, info, 42)),
	    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(Hkdf, MatchesRfc5869TestCase3WithEmptySaltAndInfo)
{
	const std::string ikm(22, '\x0b');
	EXPECT_EQ(
	    KeyHex(Hkdf(ikm, "", "", 42)),
	    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(Hkdf, RefusesAnOutputLongerThanHkdfAllows)
{
	EXPECT_THROW(Hkdf("ikm", "salt", "info", 255 * 32 + 1), Error);
}

/* ---- KeyRing ---- */

TEST(KeyRing, DerivesPinnedKeysSoArchivesStayReadableAcrossReleases)
{
	/* computed with Python's hmac from the formula in keys.hpp */
	EXPECT_EQ(KeyHex(SequentialKeyRing(1).Derive(KeyPurpose::Wrap)),
	          "d4017bebef9bb44cb7f8813106dcdf94c866a370ac649b6aac9cae64585593bd");
	EXPECT_EQ(KeyHex(SequentialKeyRing(1).Derive(KeyPurpose::Hash)),
	          "6a7d1447b1c284c064d79c139c8cd10c83a0ca02679108d50e3a76aaba8881ba");
	EXPECT_EQ(KeyHex(SequentialKeyRing(7).Derive(KeyPurpose::ErasureLog)),
	          "b7206219f37fe2dc92eb4a5f799241a4aeeaca6e83f49c9ce48ea1a063d0e881");
}

TEST(KeyRing, DerivationFollowsTheDocumentedHkdfParameters)
{
	const SecureBytes master = ParseKeyMaterial(kHighKeyHex);
	const KeyRing ring(master.Clone(), 3);
	EXPECT_TRUE(ring.Derive(KeyPurpose::Fake)
	                .Equals(Hkdf(master.view(), "pg_retention", "pg_retention/v1/fake/3", 32)));
}

TEST(KeyRing, EachPurposeGetsADifferentKey)
{
	const KeyRing ring = SequentialKeyRing(1);
	std::set<std::string> keys;
	for (KeyPurpose purpose :
	     {KeyPurpose::Hash, KeyPurpose::Fake, KeyPurpose::Wrap, KeyPurpose::ErasureLog})
		keys.insert(KeyHex(ring.Derive(purpose)));
	EXPECT_EQ(keys.size(), 4u);
}

TEST(KeyRing, EachVersionGetsADifferentKey)
{
	EXPECT_FALSE(SequentialKeyRing(1)
	                 .Derive(KeyPurpose::Wrap)
	                 .Equals(SequentialKeyRing(2).Derive(KeyPurpose::Wrap)));
}

TEST(KeyRing, DerivationIsStableAcrossCallsAndInstances)
{
	const KeyRing ring = SequentialKeyRing(5);
	const SecureBytes first = ring.Derive(KeyPurpose::Hash);
	EXPECT_TRUE(first.Equals(ring.Derive(KeyPurpose::Hash)));
	EXPECT_TRUE(first.Equals(SequentialKeyRing(5).Derive(KeyPurpose::Hash)));
	EXPECT_EQ(first.size(), kKeyLength);
}

TEST(KeyRing, DifferentServerKeysDeriveDifferentKeys)
{
	const KeyRing other(ParseKeyMaterial(kHighKeyHex), 1);
	EXPECT_FALSE(
	    SequentialKeyRing(1).Derive(KeyPurpose::Wrap).Equals(other.Derive(KeyPurpose::Wrap)));
}

TEST(KeyRing, ReportsItsVersion)
{
	EXPECT_EQ(SequentialKeyRing(42).version(), 42u);
}

TEST(KeyRing, RejectsVersionZero)
{
	try {
		SequentialKeyRing(0);
		FAIL() << "accepted key version 0";
	} catch (const Error &e) {
		EXPECT_EQ(e.kind(), ErrorKind::InvalidParameterValue);
	}
}

TEST(KeyRing, RejectsAServerKeyThatIsNotThirtyTwoBytes)
{
	EXPECT_THROW(KeyRing(SecureBytes(16), 1), Error);
}

TEST(KeyRing, FingerprintIsPinnedShortHexAndRevealsNoKeyBytes)
{
	const KeyRing ring = SequentialKeyRing(1);
	EXPECT_EQ(ring.Fingerprint(), "5ab8c392c2c54035");
	EXPECT_EQ(std::string(kSequentialKeyHex).find(ring.Fingerprint().substr(0, 6)),
	          std::string::npos);
}

TEST(KeyRing, FingerprintNamesTheServerKeyNotTheVersion)
{
	EXPECT_EQ(SequentialKeyRing(1).Fingerprint(), SequentialKeyRing(2).Fingerprint());
	EXPECT_NE(SequentialKeyRing(1).Fingerprint(),
	          KeyRing(ParseKeyMaterial(kHighKeyHex), 1).Fingerprint());
}

TEST(KeyPurposeName, NamesMatchTheHkdfInfoStrings)
{
	EXPECT_STREQ(KeyPurposeName(KeyPurpose::Hash), "hash");
	EXPECT_STREQ(KeyPurposeName(KeyPurpose::Fake), "fake");
	EXPECT_STREQ(KeyPurposeName(KeyPurpose::Wrap), "wrap");
	EXPECT_STREQ(KeyPurposeName(KeyPurpose::ErasureLog), "erasure_log");
}

} // namespace
} // namespace pg_retention
