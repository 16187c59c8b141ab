/*-------------------------------------------------------------------------
 *
 * anon_inet.cpp
 *		The ip_prefix kernel: keep the network part of an address.
 *
 *		Works on the raw address bytes of PostgreSQL's inet/cidr (network
 *		order, 4 bytes for IPv4, 16 for IPv6); the glue sets the netmask to
 *		the returned number of bits.
 *
 * IDENTIFICATION
 *		src/core/anon/anon_inet.cpp
 *-------------------------------------------------------------------------
 */
#include "anon/anon.hpp"

namespace pg_retention
{

int IpPrefix(uint8_t *address, size_t length, int bits)
{
	const int width = static_cast<int>(length * 8);
	if (bits < 0)
		bits = 0;
	if (bits > width)
		bits = width;
	const size_t full_bytes = static_cast<size_t>(bits) / 8;
	const int rest = bits % 8;
	size_t i = full_bytes;
	if (rest != 0 && i < length) {
		address[i] &= static_cast<uint8_t>(0xFF << (8 - rest));
		i++;
	}
	for (; i < length; i++)
		address[i] = 0;
	return bits;
}

} // namespace pg_retention
