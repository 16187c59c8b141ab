/*-------------------------------------------------------------------------
 *
 * test_envelope.cpp
 *		Unit tests for the archive's envelope encryption: data keys, key
 *		wrapping, sealing rows.
 *
 *		Beyond round trips, these tests check that every way a blob can be
 *		wrong (other key, other row's AAD, any flipped bit, truncation) is
 *		refused with the same error, and that the blob formats are pinned by
 *		blobs written with an independent AES-GCM implementation (Python's
 *		cryptography): a format change would orphan existing archives.
 *
 * IDENTIFICATION
 *		test/unit/test_envelope.cpp
 *-------------------------------------------------------------------------
 */
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crypto/envelope.hpp"
#include "base/error.hpp"
#include "crypto/keys.hpp"

namespace pg_retention
{
namespace
{

constexpr std::string_view kRowAad = "table=16384;subject=42";
constexpr std::string_view kOtherRowAad = "table=16384;subject=43";

/* The server key 00 01 ... 1f at version 1, as in test_keys.cpp. */
SecureBytes TestWrappingKey()
{
	return KeyRing(ParseKeyMaterial("000102030405060708090a0b0c0d0e0f"
	                                "101112131415161718191a1b1c1d1e1f"),
	               1)
	    .Derive(KeyPurpose::Wrap);
}

/* The data key 40 41 ... 5f. */
SecureBytes TestDataKey()
{
	return ParseKeyMaterial("404142434445464748494a4b4c4d4e4f"
	                        "505152535455565758595a5b5c5d5e5f");
}

/* Expects action to throw the one decryption error, quoting no data. */
void ExpectDecryptFailure(const std::function<void()> &action)
{
	try {
		action();
		ADD_FAILURE() << "decryption succeeded";
	} catch (const Error &e) {
		EXPECT_EQ(e.kind(), ErrorKind::InvalidParameterValue);
		EXPECT_STREQ(e.what(), "could not decrypt archived data");
		EXPECT_EQ(e.detail(), "Authentication failed.");
	}
}

/* Every single-bit alteration of blob, one at a time. */
std::vector<std::string> EveryBitFlip(const std::string &blob)
{
	std::vector<std::string> flipped;
	for (size_t i = 0; i < blob.size(); i++)
		for (int bit = 0; bit < 8; bit++) {
			std::string copy = blob;
			copy[i] = static_cast<char>(copy[i] ^ (1 << bit));
			flipped.push_back(std::move(copy));
		}
	return flipped;
}

/* ---- data keys ---- */

TEST(NewDataKey, IsThirtyTwoRandomBytes)
{
	const SecureBytes a = NewDataKey();
	const SecureBytes b = NewDataKey();
	EXPECT_EQ(a.size(), kKeyLength);
	EXPECT_FALSE(a.Equals(b));
}

/* ---- wrapping data keys ---- */

TEST(WrapDataKey, RoundTripsTheDataKey)
{
	const SecureBytes data_key = NewDataKey();
	const std::string wrapped = WrapDataKey(TestWrappingKey(), 1, data_key, kRowAad);
	EXPECT_EQ(wrapped.size(), kWrappedKeyLength);
	EXPECT_TRUE(UnwrapDataKey(TestWrappingKey(), wrapped, kRowAad).Equals(data_key));
}

TEST(WrapDataKey, RecordsTheKeyVersionInClearBigEndian)
{
	const std::string wrapped = WrapDataKey(TestWrappingKey(), 0x01020304, NewDataKey(), kRowAad);
	EXPECT_EQ(WrappedKeyVersion(wrapped), 0x01020304u);
	EXPECT_EQ(wrapped.substr(1, 4), std::string("\x01\x02\x03\x04", 4));
}

TEST(WrapDataKey, OpensABlobWrittenByAnIndependentImplementation)
{
	const std::string wrapped(
	    "\x01\x00\x00\x00\x01\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xb2\x4b\x53\x7c\xd7"
	    "\xb3\x5e\xd0\x4e\x87\x6c\x07\x72\x44\xc7\x3b\x50\xfe\x84\x9a\x3c\x7c\x17\x6c\x53\xfa\x10"
	    "\x40\x39\x40\x97\xc0\xb5\xa3\xcc\x92\xd5\x41\xe2\x55\xfb\x49\x00\x6d\x94\x8c\xdd\xa3",
	    kWrappedKeyLength);
	EXPECT_EQ(WrappedKeyVersion(wrapped), 1u);
	EXPECT_TRUE(UnwrapDataKey(TestWrappingKey(), wrapped, kRowAad).Equals(TestDataKey()));
}

TEST(UnwrapDataKey, FailsUnderAnotherServerKey)
{
	const std::string wrapped = WrapDataKey(TestWrappingKey(), 1, NewDataKey(), kRowAad);
	ExpectDecryptFailure([&] { UnwrapDataKey(NewDataKey(), wrapped, kRowAad); });
}

TEST(UnwrapDataKey, HintsAtAChangedServerKey)
{
	const std::string wrapped = WrapDataKey(TestWrappingKey(), 1, NewDataKey(), kRowAad);
	try {
		UnwrapDataKey(NewDataKey(), wrapped, kRowAad);
		FAIL() << "unwrapped under another key";
	} catch (const Error &e) {
		EXPECT_NE(e.hint().find("server key"), std::string::npos);
	}
}

TEST(UnwrapDataKey, FailsWhenMovedToAnotherRow)
{
	const std::string wrapped = WrapDataKey(TestWrappingKey(), 1, NewDataKey(), kRowAad);
	ExpectDecryptFailure([&] { UnwrapDataKey(TestWrappingKey(), wrapped, kOtherRowAad); });
}

TEST(UnwrapDataKey, FailsOnAnyFlippedBit)
{
	const std::string wrapped = WrapDataKey(TestWrappingKey(), 1, NewDataKey(), kRowAad);
	for (const std::string &altered : EveryBitFlip(wrapped))
		ExpectDecryptFailure([&] { UnwrapDataKey(TestWrappingKey(), altered, kRowAad); });
}

TEST(UnwrapDataKey, FailsWhenTruncatedOrExtended)
{
	const std::string wrapped = WrapDataKey(TestWrappingKey(), 1, NewDataKey(), kRowAad);
	for (size_t length = 0; length < wrapped.size(); length++)
		ExpectDecryptFailure(
		    [&] { UnwrapDataKey(TestWrappingKey(), wrapped.substr(0, length), kRowAad); });
	ExpectDecryptFailure([&] { UnwrapDataKey(TestWrappingKey(), wrapped + "x", kRowAad); });
	ExpectDecryptFailure([&] { WrappedKeyVersion(wrapped.substr(0, 4)); });
}

TEST(UnwrapDataKey, RefusesASealedRow)
{
	/* same key, same AAD, right length: only the format tag tells them apart */
	const SecureBytes key = TestWrappingKey();
	const std::string sealed = Seal(key, std::string(kKeyLength + 4, 'k'), kRowAad);
	ASSERT_EQ(sealed.size(), kWrappedKeyLength);
	ExpectDecryptFailure([&] { UnwrapDataKey(key, sealed, kRowAad); });
}

/* ---- sealing rows ---- */

TEST(Seal, RoundTripsARow)
{
	const SecureBytes key = NewDataKey();
	const std::string row = R"({"id": 42, "email": "ada@example.com"})";
	const std::string sealed = Seal(key, row, kRowAad);
	EXPECT_EQ(sealed.size(), row.size() + kSealOverhead);
	EXPECT_EQ(sealed.find("ada@example.com"), std::string::npos);
	EXPECT_EQ(Open(key, sealed, kRowAad), row);
}

TEST(Seal, RoundTripsAnEmptyPayloadAndAnEmptyAad)
{
	const SecureBytes key = NewDataKey();
	const std::string sealed = Seal(key, "", "");
	EXPECT_EQ(sealed.size(), kSealOverhead);
	EXPECT_EQ(Open(key, sealed, ""), "");
	ExpectDecryptFailure([&] { Open(key, sealed, kRowAad); });
}

TEST(Seal, RoundTripsAOneMegabytePayload)
{
	const SecureBytes key = NewDataKey();
	std::string payload(1 << 20, '\0');
	for (size_t i = 0; i < payload.size(); i++)
		payload[i] = static_cast<char>(i * 131 + (i >> 9));
	EXPECT_EQ(Open(key, Seal(key, payload, kRowAad), kRowAad), payload);
}

TEST(Seal, TwoSealsOfTheSameRowDiffer)
{
	const SecureBytes key = NewDataKey();
	const std::string a = Seal(key, "same row", kRowAad);
	const std::string b = Seal(key, "same row", kRowAad);
	EXPECT_NE(a, b);
	EXPECT_NE(a.substr(1, 12), b.substr(1, 12)) << "nonce reused";
}

TEST(Seal, NoncesStayDistinctOverManySeals)
{
	/* more seals than one block of pooled nonces holds */
	const SecureBytes key = NewDataKey();
	std::set<std::string> nonces;
	for (int i = 0; i < 1000; i++)
		nonces.insert(Seal(key, "row", kRowAad).substr(1, 12));
	EXPECT_EQ(nonces.size(), 1000u);
}

TEST(Seal, ForkedChildNeverReusesItsParentsNonces)
{
	/* PostgreSQL forks backends; pooled nonces must not be inherited */
	const SecureBytes key = NewDataKey();
	Seal(key, "row", kRowAad); /* the parent now holds a block of nonces */
	int pipe_fds[2];
	ASSERT_EQ(pipe(pipe_fds), 0);
	const pid_t child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		const std::string nonce = Seal(key, "row", kRowAad).substr(1, 12);
		const bool written = write(pipe_fds[1], nonce.data(), nonce.size()) == 12;
		_exit(written ? 0 : 1);
	}
	close(pipe_fds[1]);
	const std::string parent_nonce = Seal(key, "row", kRowAad).substr(1, 12);
	char child_nonce[12];
	const ssize_t got = read(pipe_fds[0], child_nonce, sizeof(child_nonce));
	close(pipe_fds[0]);
	int status = 0;
	waitpid(child, &status, 0);
	ASSERT_EQ(got, 12);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_NE(std::string(child_nonce, 12), parent_nonce);
}

TEST(Seal, OpensABlobWrittenByAnIndependentImplementation)
{
	const std::string sealed("\x02\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xb6\xfd\x65\x57"
	                         "\x8b\x9d\xf9\x49\x59\x1d\x2e\x89\xeb\xaf\x12\x5b\x1a\x5e\x1f\x7a\x77"
	                         "\x83\x2d\xab\xbd\xb4\x50\xa1",
	                         41);
	EXPECT_EQ(Open(TestDataKey(), sealed, kRowAad), "archived row");
}

TEST(RowSealer, EachRowOpensWithOpenUnderItsOwnAad)
{
	/* one keyed context, many rows: each blob is Seal's, with its own nonce and AAD */
	const SecureBytes key = NewDataKey();
	RowSealer sealer(key);
	std::set<std::string> nonces;
	for (int i = 0; i < 600; i++) {
		const std::string row = "row " + std::to_string(i) + std::string(i % 40, 'x');
		const std::string aad = "subject=" + std::to_string(i % 7);
		const std::string sealed = sealer.Seal(row, aad);
		EXPECT_EQ(sealed.size(), row.size() + kSealOverhead);
		EXPECT_EQ(Open(key, sealed, aad), row);
		ExpectDecryptFailure([&] { Open(key, sealed, kOtherRowAad); });
		nonces.insert(sealed.substr(1, 12));
	}
	EXPECT_EQ(nonces.size(), 600u) << "nonce reused";
}

TEST(RowSealer, AFailedOpenInBetweenLeavesTheNextRowsRight)
{
	/* Open uses the thread's own context: the sealer's keyed state is untouched */
	const SecureBytes key = NewDataKey();
	RowSealer sealer(key);
	const std::string first = sealer.Seal("first", kRowAad);
	ExpectDecryptFailure([&] { Open(NewDataKey(), first, kRowAad); });
	EXPECT_EQ(Open(key, sealer.Seal("second", kRowAad), kRowAad), "second");
	EXPECT_EQ(Open(key, sealer.Seal("", ""), ""), "");
}

TEST(Open, FailsUnderAnotherDataKey)
{
	const std::string sealed = Seal(NewDataKey(), "row", kRowAad);
	ExpectDecryptFailure([&] { Open(NewDataKey(), sealed, kRowAad); });
}

TEST(Open, FailsWhenMovedToAnotherRow)
{
	const SecureBytes key = NewDataKey();
	const std::string sealed = Seal(key, "row", kRowAad);
	ExpectDecryptFailure([&] { Open(key, sealed, kOtherRowAad); });
}

TEST(Open, FailsOnAnyFlippedBit)
{
	const SecureBytes key = NewDataKey();
	const std::string sealed = Seal(key, std::string(200, 'r'), kRowAad);
	for (const std::string &altered : EveryBitFlip(sealed))
		ExpectDecryptFailure([&] { Open(key, altered, kRowAad); });
}

TEST(Open, FailsWhenTruncated)
{
	const SecureBytes key = NewDataKey();
	const std::string sealed = Seal(key, "a row of personal data", kRowAad);
	for (size_t length = 0; length < sealed.size(); length++)
		ExpectDecryptFailure([&] { Open(key, sealed.substr(0, length), kRowAad); });
}

TEST(Open, RefusesAWrappedKey)
{
	const SecureBytes key = TestWrappingKey();
	const std::string wrapped = WrapDataKey(key, 1, NewDataKey(), kRowAad);
	ExpectDecryptFailure([&] { Open(key, wrapped, kRowAad); });
}

TEST(Open, ErrorQuotesNoPlaintext)
{
	const SecureBytes key = NewDataKey();
	const std::string sealed = Seal(key, "ada@example.com", kRowAad);
	try {
		Open(key, sealed, kOtherRowAad);
		FAIL() << "opened with the wrong AAD";
	} catch (const Error &e) {
		const std::string text = std::string(e.what()) + e.detail() + e.hint();
		EXPECT_EQ(text.find("ada"), std::string::npos);
		EXPECT_EQ(text.find("subject"), std::string::npos);
	}
}

TEST(Envelope, RejectsKeysThatAreNotThirtyTwoBytes)
{
	const SecureBytes short_key(16);
	try {
		Seal(short_key, "row", kRowAad);
		FAIL() << "sealed under a 16-byte key";
	} catch (const Error &e) {
		EXPECT_EQ(e.kind(), ErrorKind::Internal);
	}
	EXPECT_THROW(WrapDataKey(TestWrappingKey(), 1, short_key, kRowAad), Error);
}

TEST(Envelope, ThreadsSealAndOpenIndependently)
{
	/* each thread has its own cipher context; results must not mix */
	std::vector<std::thread> threads;
	std::vector<int> mismatches(4, 0);
	for (int t = 0; t < 4; t++)
		threads.emplace_back([t, &mismatches] {
			const SecureBytes key = NewDataKey();
			const std::string row = "row of thread " + std::to_string(t);
			for (int i = 0; i < 500; i++)
				if (Open(key, Seal(key, row, kRowAad), kRowAad) != row)
					mismatches[t]++;
		});
	for (std::thread &thread : threads)
		thread.join();
	EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

} // namespace
} // namespace pg_retention
