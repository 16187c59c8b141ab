/*-------------------------------------------------------------------------
 *
 * test_anon_inet.cpp
 *		Unit tests of ip_prefix (anon_inet.cpp).
 *
 * IDENTIFICATION
 *		test/unit/test_anon_inet.cpp
 *-------------------------------------------------------------------------
 */
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <array>
#include <string>

#include "anon/anon.hpp"

using namespace pg_retention;

namespace
{

/* Applies ip_prefix to a textual address; returns "address/bits". */
std::string Prefix(const std::string &text, int bits)
{
	const bool v6 = text.find(':') != std::string::npos;
	std::array<uint8_t, 16> bytes{};
	EXPECT_EQ(inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), bytes.data()), 1) << text;
	const int kept = IpPrefix(bytes.data(), v6 ? 16 : 4, bits);
	char out[INET6_ADDRSTRLEN];
	inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), out, sizeof out);
	return std::string(out) + "/" + std::to_string(kept);
}

} // namespace

TEST(AnonIpPrefix, ZeroesTheHostBitsOfIpv4)
{
	EXPECT_EQ(Prefix("192.0.2.77", 24), "192.0.2.0/24");
	EXPECT_EQ(Prefix("192.0.47.77", 20), "192.0.32.0/20");
	EXPECT_EQ(Prefix("203.0.113.255", 31), "203.0.113.254/31");
	EXPECT_EQ(Prefix("10.1.2.3", 8), "10.0.0.0/8");
}

TEST(AnonIpPrefix, ZeroesTheHostBitsOfIpv6)
{
	EXPECT_EQ(Prefix("2001:db8:85a3::8a2e:370:7334", 48), "2001:db8:85a3::/48");
	EXPECT_EQ(Prefix("2001:db8:85a3:1234:8a2e:370:7334:1", 64), "2001:db8:85a3:1234::/64");
	EXPECT_EQ(Prefix("2001:db8::ffff", 127), "2001:db8::fffe/127");
	EXPECT_EQ(Prefix("2001:db8:ffff::", 36), "2001:db8:f000::/36");
}

TEST(AnonIpPrefix, ClampsBitsToTheFamilysWidth)
{
	EXPECT_EQ(Prefix("192.0.2.77", 64), "192.0.2.77/32");
	EXPECT_EQ(Prefix("192.0.2.77", 0), "0.0.0.0/0");
	EXPECT_EQ(Prefix("192.0.2.77", -5), "0.0.0.0/0");
	EXPECT_EQ(Prefix("2001:db8::1", 200), "2001:db8::1/128");
	EXPECT_EQ(Prefix("2001:db8::1", 0), "::/0");
}

TEST(AnonIpPrefix, IsIdempotent)
{
	std::array<uint8_t, 4> once = {198, 51, 100, 99};
	IpPrefix(once.data(), once.size(), 27);
	std::array<uint8_t, 4> twice = once;
	IpPrefix(twice.data(), twice.size(), 27);
	EXPECT_EQ(once, twice);
}
