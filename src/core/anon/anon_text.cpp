/*-------------------------------------------------------------------------
 *
 * anon_text.cpp
 *		Text masking kernels: mask_email, partial and redact.
 *
 *		All three work on characters of UTF-8 text (utf8.hpp): a multi-byte
 *		character is masked, kept or redacted as one, and invalid bytes are
 *		single characters, so no input can make them read out of bounds.
 *
 * IDENTIFICATION
 *		src/core/anon/anon_text.cpp
 *-------------------------------------------------------------------------
 */
#include "anon/anon.hpp"

#include <algorithm>
#include <iterator>

#include "base/error.hpp"
#include "base/utf8.hpp"

namespace pg_retention
{

namespace
{

/* What redact does with a non-ASCII character; anything not listed is a letter. */
enum class RedactAs : uint8_t { Digit, Keep, Drop };

struct CodePointRange {
	uint32_t first;
	uint32_t last;
	RedactAs as;
};

/*
 * Sorted, non-overlapping ranges of non-ASCII characters that are not
 * letters: decimal digits of other scripts and digit-like numbers (become
 * '0'), spaces, punctuation and symbols (kept), combining marks (dropped:
 * 'e' + U+0301 must give "x", like the precomposed 'é').  The table is
 * deliberately coarse; whatever it misses is redacted as a letter.
 */
constexpr CodePointRange kRedactRanges[] = {
    {0x00A0, 0x00A9, RedactAs::Keep}, /* nbsp ¡ ¢ £ ¤ ¥ ¦ § ¨ © */
    {0x00AB, 0x00B1, RedactAs::Keep}, /* « ¬ shy ® ¯ ° ± */
    {0x00B2, 0x00B3, RedactAs::Digit},   {0x00B4, 0x00B4, RedactAs::Keep},
    {0x00B6, 0x00B8, RedactAs::Keep},    {0x00B9, 0x00B9, RedactAs::Digit},
    {0x00BB, 0x00BB, RedactAs::Keep},    {0x00BC, 0x00BE, RedactAs::Digit},
    {0x00BF, 0x00BF, RedactAs::Keep},    {0x00D7, 0x00D7, RedactAs::Keep},
    {0x00F7, 0x00F7, RedactAs::Keep},    {0x0300, 0x036F, RedactAs::Drop},
    {0x0660, 0x0669, RedactAs::Digit},   {0x06F0, 0x06F9, RedactAs::Digit},
    {0x07C0, 0x07C9, RedactAs::Digit},   {0x0966, 0x096F, RedactAs::Digit},
    {0x09E6, 0x09EF, RedactAs::Digit},   {0x0A66, 0x0A6F, RedactAs::Digit},
    {0x0AE6, 0x0AEF, RedactAs::Digit},   {0x0B66, 0x0B6F, RedactAs::Digit},
    {0x0BE6, 0x0BEF, RedactAs::Digit},   {0x0C66, 0x0C6F, RedactAs::Digit},
    {0x0CE6, 0x0CEF, RedactAs::Digit},   {0x0D66, 0x0D6F, RedactAs::Digit},
    {0x0E50, 0x0E59, RedactAs::Digit},   {0x0ED0, 0x0ED9, RedactAs::Digit},
    {0x0F20, 0x0F29, RedactAs::Digit},   {0x1040, 0x1049, RedactAs::Digit},
    {0x17E0, 0x17E9, RedactAs::Digit},   {0x1810, 0x1819, RedactAs::Digit},
    {0x1AB0, 0x1AFF, RedactAs::Drop},    {0x1DC0, 0x1DFF, RedactAs::Drop},
    {0x2000, 0x206F, RedactAs::Keep}, /* spaces, dashes, quotes, zero-width joiners */
    {0x2070, 0x2070, RedactAs::Digit},   {0x2074, 0x2079, RedactAs::Digit},
    {0x2080, 0x2089, RedactAs::Digit},   {0x20A0, 0x20CF, RedactAs::Keep}, /* currency */
    {0x20D0, 0x20FF, RedactAs::Drop},    {0x2190, 0x245F, RedactAs::Keep}, /* arrows, math */
    {0x2460, 0x249B, RedactAs::Digit}, /* circled and parenthesized numbers */
    {0x24EA, 0x24FF, RedactAs::Digit},   {0x2500, 0x2775, RedactAs::Keep}, /* box, shapes */
    {0x2776, 0x2793, RedactAs::Digit},   {0x2794, 0x2BFF, RedactAs::Keep},
    {0x2E00, 0x2E7F, RedactAs::Keep},    {0x3000, 0x3004, RedactAs::Keep}, /* CJK punctuation */
    {0x3008, 0x3020, RedactAs::Keep},    {0x3030, 0x3030, RedactAs::Keep},
    {0x303D, 0x303F, RedactAs::Keep},    {0xFE00, 0xFE0F, RedactAs::Drop}, /* variation sel. */
    {0xFE10, 0xFE1F, RedactAs::Keep},    {0xFE20, 0xFE2F, RedactAs::Drop},
    {0xFE30, 0xFE6F, RedactAs::Keep},    {0xFF01, 0xFF0F, RedactAs::Keep}, /* fullwidth */
    {0xFF10, 0xFF19, RedactAs::Digit},   {0xFF1A, 0xFF20, RedactAs::Keep},
    {0xFF3B, 0xFF40, RedactAs::Keep},    {0xFF5B, 0xFF65, RedactAs::Keep},
    {0xFFF9, 0xFFFD, RedactAs::Keep},    {0x1D7CE, 0x1D7FF, RedactAs::Digit},
    {0x1F000, 0x1F0FF, RedactAs::Keep},                                      /* game symbols */
    {0x1F100, 0x1F10C, RedactAs::Digit}, {0x1F1E6, 0x1F1FF, RedactAs::Keep}, /* flags */
    {0x1F200, 0x1FAFF, RedactAs::Keep}, /* emoji and pictographs */
    {0xE0000, 0xE007F, RedactAs::Drop}, /* tags */
};

const CodePointRange *FindRedactRange(uint32_t cp)
{
	const CodePointRange *end = std::end(kRedactRanges);
	const CodePointRange *it = std::upper_bound(
	    std::begin(kRedactRanges), end, cp,
	    [](uint32_t value, const CodePointRange &range) { return value < range.first; });
	if (it == std::begin(kRedactRanges))
		return nullptr;
	--it;
	return cp <= it->last ? it : nullptr;
}

/* Appends the redaction of one non-ASCII character (or invalid byte). */
void RedactNonAscii(std::string_view value, size_t pos, const Utf8Char &c, std::string &out)
{
	const CodePointRange *range = c.valid ? FindRedactRange(c.code_point) : nullptr;
	if (!range) {
		out.push_back('x');
		return;
	}
	switch (range->as) {
	case RedactAs::Digit:
		out.push_back('0');
		break;
	case RedactAs::Keep:
		out.append(value.substr(pos, c.length));
		break;
	case RedactAs::Drop:
		break;
	}
}

} // namespace

void MaskEmail(std::string_view value, std::string &out)
{
	const size_t at = value.rfind('@');
	const std::string_view local = at == std::string_view::npos ? value : value.substr(0, at);
	if (!local.empty()) {
		const size_t first = Utf8CharLength(local, 0);
		out.append(local.substr(0, first));
		out.append(Utf8CharCount(local.substr(first)), '*');
	}
	if (at != std::string_view::npos)
		out.append(value.substr(at));
}

void PartialText(std::string_view value, int32_t prefix, std::string_view padding, int32_t suffix,
                 std::string &out)
{
	if (prefix < 0 || suffix < 0)
		throw Error(
		    ErrorKind::InvalidParameterValue, "partial prefix and suffix must not be negative",
		    "prefix is " + std::to_string(prefix) + ", suffix is " + std::to_string(suffix) + ".");

	const size_t kept = static_cast<size_t>(prefix) + static_cast<size_t>(suffix);
	const size_t length = Utf8CharCount(value);
	if (length <= kept) {
		out.append(padding);
		return;
	}
	const size_t head_end = Utf8Advance(value, 0, static_cast<size_t>(prefix));
	const size_t tail_start = Utf8Advance(value, head_end, length - kept);
	out.append(value.substr(0, head_end));
	out.append(padding);
	out.append(value.substr(tail_start));
}

void RedactText(std::string_view value, std::string &out)
{
	out.reserve(out.size() + value.size());
	for (size_t pos = 0; pos < value.size();) {
		const char ch = value[pos];
		if (static_cast<uint8_t>(ch) < 0x80) {
			if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
				out.push_back('x');
			else if (ch >= '0' && ch <= '9')
				out.push_back('0');
			else
				out.push_back(ch);
			pos++;
			continue;
		}
		const Utf8Char c = DecodeUtf8(value, pos);
		RedactNonAscii(value, pos, c, out);
		pos += c.length;
	}
}

} // namespace pg_retention
