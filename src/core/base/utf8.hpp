/*-------------------------------------------------------------------------
 *
 * utf8.hpp
 *		Character-by-character reading of UTF-8 text that never fails.
 *
 *		Text kernels count and keep characters, not bytes.  Input normally
 *		comes from a UTF-8 database and is valid, but a kernel must not crash
 *		or read past the end on anything: a byte that does not start a
 *		well-formed sequence (Unicode 15, table 3-7: no overlong forms, no
 *		surrogates, nothing above U+10FFFF, no truncated sequence) counts as
 *		one character on its own.
 *
 * IDENTIFICATION
 *		src/core/base/utf8.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/cpp_only.hpp"

namespace pg_retention
{

struct Utf8Char {
	uint32_t code_point; /* the byte value itself when !valid */
	uint8_t length;      /* bytes taken: 1..4 */
	bool valid;
};

/* Decodes the character starting at text[pos]; pos < text.size(). */
inline Utf8Char DecodeUtf8(std::string_view text, size_t pos) noexcept
{
	const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[pos + i]); };
	const uint8_t b0 = byte(0);
	if (b0 < 0x80)
		return {b0, 1, true};
	const Utf8Char invalid{b0, 1, false};
	const size_t available = text.size() - pos;

	uint8_t length;
	uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
	uint32_t cp;
	if (b0 >= 0xC2 && b0 <= 0xDF) {
		length = 2;
		cp = b0 & 0x1F;
	} else if (b0 >= 0xE0 && b0 <= 0xEF) {
		length = 3;
		cp = b0 & 0x0F;
		if (b0 == 0xE0)
			lo = 0xA0; /* overlong */
		else if (b0 == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (b0 >= 0xF0 && b0 <= 0xF4) {
		length = 4;
		cp = b0 & 0x07;
		if (b0 == 0xF0)
			lo = 0x90; /* overlong */
		else if (b0 == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else {
		return invalid;
	}
	if (available < length)
		return invalid;
	for (uint8_t i = 1; i < length; i++) {
		const uint8_t b = byte(i);
		if (b < lo || b > hi)
			return invalid;
		lo = 0x80;
		hi = 0xBF;
		cp = (cp << 6) | (b & 0x3F);
	}
	return {cp, length, true};
}

/* Bytes taken by the character at text[pos] (1 for an invalid byte). */
inline size_t Utf8CharLength(std::string_view text, size_t pos) noexcept
{
	return static_cast<uint8_t>(text[pos]) < 0x80 ? 1 : DecodeUtf8(text, pos).length;
}

/* Number of characters in text. */
inline size_t Utf8CharCount(std::string_view text) noexcept
{
	size_t count = 0;
	for (size_t pos = 0; pos < text.size(); count++)
		pos += Utf8CharLength(text, pos);
	return count;
}

/* Byte offset reached from `pos` after `chars` characters (or text.size()). */
inline size_t Utf8Advance(std::string_view text, size_t pos, size_t chars) noexcept
{
	for (; chars > 0 && pos < text.size(); chars--)
		pos += Utf8CharLength(text, pos);
	return pos;
}

} // namespace pg_retention
