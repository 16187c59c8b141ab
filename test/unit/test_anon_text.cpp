/*-------------------------------------------------------------------------
 *
 * test_anon_text.cpp
 *		Unit tests of mask_email, partial and redact (anon_text.cpp), and of
 *		the UTF-8 reading they share (utf8.hpp).
 *
 * IDENTIFICATION
 *		test/unit/test_anon_text.cpp
 *-------------------------------------------------------------------------
 */
#include <gtest/gtest.h>

#include <string>

#include "anon/anon.hpp"
#include "base/error.hpp"
#include "base/utf8.hpp"

using namespace pg_retention;

namespace
{

std::string Mask(std::string_view value)
{
	std::string out;
	MaskEmail(value, out);
	return out;
}

std::string Partial(std::string_view value, int32_t prefix, std::string_view padding,
                    int32_t suffix)
{
	std::string out;
	PartialText(value, prefix, padding, suffix, out);
	return out;
}

std::string Redact(std::string_view value)
{
	std::string out;
	RedactText(value, out);
	return out;
}

} // namespace

TEST(AnonUtf8, CountsMultiByteCharactersAsOne)
{
	EXPECT_EQ(Utf8CharCount(""), 0u);
	EXPECT_EQ(Utf8CharCount("abc"), 3u);
	EXPECT_EQ(Utf8CharCount("Hélène"), 6u);
	EXPECT_EQ(Utf8CharCount("東京"), 2u);
	EXPECT_EQ(Utf8CharCount("😀!"), 2u);
}

TEST(AnonUtf8, CountsEachByteOfAMalformedSequenceAsOneCharacter)
{
	EXPECT_EQ(Utf8CharCount("\xff\xfe"), 2u);         /* never valid bytes */
	EXPECT_EQ(Utf8CharCount("\xc0\xaf"), 2u);         /* overlong '/' */
	EXPECT_EQ(Utf8CharCount("\xed\xa0\x80"), 3u);     /* surrogate U+D800 */
	EXPECT_EQ(Utf8CharCount("\xf4\x90\x80\x80"), 4u); /* above U+10FFFF */
	EXPECT_EQ(Utf8CharCount("ab\xe2\x82"), 4u);       /* truncated at the end */
	EXPECT_EQ(Utf8CharCount("\x80"), 1u);             /* lone continuation byte */
}

TEST(AnonMaskEmail, KeepsTheFirstCharacterAndTheDomain)
{
	EXPECT_EQ(Mask("john.doe@example.com"), "j*******@example.com");
	EXPECT_EQ(Mask("a@example.com"), "a@example.com");
}

TEST(AnonMaskEmail, MasksAllButTheFirstCharacterWithoutAnAt)
{
	EXPECT_EQ(Mask("johndoe"), "j******");
	EXPECT_EQ(Mask("x"), "x");
}

TEST(AnonMaskEmail, HandlesEmptyValuesAndEmptyLocalParts)
{
	EXPECT_EQ(Mask(""), "");
	EXPECT_EQ(Mask("@example.com"), "@example.com");
	EXPECT_EQ(Mask("john@"), "j***@");
}

TEST(AnonMaskEmail, SplitsAtTheLastAtSign)
{
	EXPECT_EQ(Mask("\"a@b\"@example.com"), "\"****@example.com");
}

TEST(AnonMaskEmail, CountsCharactersNotBytes)
{
	EXPECT_EQ(Mask("élodie.dupré@exemple.fr"), "é***********@exemple.fr");
	EXPECT_EQ(Mask("東京太郎@example.jp"), "東***@example.jp");
}

TEST(AnonMaskEmail, TreatsInvalidBytesAsCharacters)
{
	EXPECT_EQ(Mask("\xff\xfe@x"), "\xff*@x");
	EXPECT_EQ(Mask("ab\xc3"), "a**");
}

TEST(AnonMaskEmail, IsIdempotent)
{
	for (std::string_view value : {"john.doe@example.com", "johndoe", "élodie@exemple.fr", ""})
		EXPECT_EQ(Mask(Mask(value)), Mask(value));
}

TEST(AnonMaskEmail, HandlesAMegabyteValue)
{
	const std::string value = std::string(1 << 20, 'a') + "@example.com";
	const std::string masked = Mask(value);
	EXPECT_EQ(masked.size(), value.size());
	EXPECT_EQ(masked.substr(0, 3), "a**");
	EXPECT_EQ(masked.substr(masked.size() - 12), "@example.com");
}

TEST(AnonMaskEmail, AppendsToTheCallersBuffer)
{
	std::string out = "x";
	MaskEmail("ab@c", out);
	EXPECT_EQ(out, "xa*@c");
}

TEST(AnonPartial, KeepsPrefixAndSuffixAroundThePadding)
{
	EXPECT_EQ(Partial("abcdefgh", 2, "***", 2), "ab***gh");
	EXPECT_EQ(Partial("+33612345678", 3, "******", 2), "+33******78");
	EXPECT_EQ(Partial("abcdefgh", 0, "*", 3), "*fgh");
	EXPECT_EQ(Partial("abcdefgh", 3, "", 0), "abc");
}

TEST(AnonPartial, ReturnsOnlyThePaddingWhenNothingWouldBeHidden)
{
	EXPECT_EQ(Partial("abc", 2, "*", 2), "*");
	EXPECT_EQ(Partial("abcd", 2, "*", 2), "*"); /* keeping 2 + 2 would show it all */
	EXPECT_EQ(Partial("", 0, "XXX", 0), "XXX");
	EXPECT_EQ(Partial("abcde", 2, "*", 2), "ab*de");
}

TEST(AnonPartial, CountsCharactersNotBytes)
{
	EXPECT_EQ(Partial("Hélène Dupré", 2, "…", 2), "Hé…ré");
	EXPECT_EQ(Partial("東京都千代田区", 1, "**", 1), "東**区");
}

TEST(AnonPartial, TreatsInvalidBytesAsCharacters)
{
	EXPECT_EQ(Partial("\xff\xff\xff"
	                  "abc",
	                  1, "*", 1),
	          "\xff*c");
	EXPECT_EQ(Partial("abc\xe2\x82", 1, "*", 1), "a*\x82");
}

TEST(AnonPartial, HandlesAMegabyteValue)
{
	EXPECT_EQ(Partial(std::string(1 << 20, 'a') + "xyz", 3, "*", 3), "aaa*xyz");
}

TEST(AnonPartial, RejectsNegativeCounts)
{
	std::string out;
	EXPECT_THROW(PartialText("abc", -1, "*", 1, out), Error);
	try {
		PartialText("abc", 1, "*", -2, out);
		ADD_FAILURE() << "negative suffix accepted";
	} catch (const Error &e) {
		EXPECT_EQ(e.kind(), ErrorKind::InvalidParameterValue);
	}
}

TEST(AnonRedact, ReplacesLettersAndDigitsAndKeepsTheShape)
{
	EXPECT_EQ(Redact("AB-12 c"), "xx-00 x");
	EXPECT_EQ(Redact("john.doe+42@example.com"), "xxxx.xxx+00@xxxxxxx.xxx");
	EXPECT_EQ(Redact(""), "");
}

TEST(AnonRedact, TreatsNonAsciiLettersAsOneLetter)
{
	EXPECT_EQ(Redact("Élodie Hélène"), "xxxxxx xxxxxx");
	EXPECT_EQ(Redact("東京"), "xx");
	EXPECT_EQ(Redact("Ωμέγα"), "xxxxx");
}

TEST(AnonRedact, DropsCombiningMarksSoBothNormalFormsAgree)
{
	EXPECT_EQ(Redact("e\xcc\x81"), "x"); /* "e" + U+0301 */
	EXPECT_EQ(Redact("\xc3\xa9"), "x");  /* precomposed "é" */
	EXPECT_EQ(Redact("te\xcc\x81te\xcc\x81"), "xxxx");
}

TEST(AnonRedact, TurnsDigitsOfOtherScriptsIntoZero)
{
	EXPECT_EQ(Redact("٣٤"), "00");   /* Arabic-Indic */
	EXPECT_EQ(Redact("１２"), "00"); /* fullwidth */
	EXPECT_EQ(Redact("m²"), "x0");
}

TEST(AnonRedact, KeepsPunctuationSpacesAndSymbols)
{
	EXPECT_EQ(Redact("12 €"), "00 €");
	EXPECT_EQ(Redact("«a»—b"), "«x»—x");
	EXPECT_EQ(Redact("a\xc2\xa0"
	                 "b"),
	          "x\xc2\xa0x"); /* no-break space */
	EXPECT_EQ(Redact("ok 👍"), "xx 👍");
}

TEST(AnonRedact, RedactsInvalidBytesAsLetters)
{
	EXPECT_EQ(Redact("\xff\xfe"), "xx");
	EXPECT_EQ(Redact("a\xe2\x82"), "xxx");
	EXPECT_EQ(Redact("\xed\xa0\x80"), "xxx");
}

TEST(AnonRedact, IsIdempotentAndHandlesAMegabyteValue)
{
	const std::string value = std::string(1 << 19, 'a') + std::string(1 << 19, '7');
	const std::string redacted = Redact(value);
	EXPECT_EQ(redacted, std::string(1 << 19, 'x') + std::string(1 << 19, '0'));
	EXPECT_EQ(Redact(redacted), redacted);
}
