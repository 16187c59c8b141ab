/*-------------------------------------------------------------------------
 *
 * anon_fake.cpp
 *		The fake_* kernels: realistic replacement values expanded from the
 *		locale's templates and word lists (fake_dictionaries.hpp).
 *
 *		Every choice is drawn from 256 bits of entropy: HMAC(key, value) in
 *		deterministic mode, the random generator in random mode.  The rest
 *		of the code is the same for both, so a deterministic fake looks
 *		exactly like a random one.
 *
 * IDENTIFICATION
 *		src/core/anon/anon_fake.cpp
 *-------------------------------------------------------------------------
 */
#include "anon/anon.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "anon/anon_internal.hpp"
#include "anon/fake_dictionaries.hpp"
#include "crypto/random.hpp"
#include "base/utf8.hpp"

namespace pg_retention
{

namespace
{

/*
 * Uniform choices from 256 bits.  Pick(n) takes the high half of word * n
 * (Lemire's multiply-shift; the bias is below n / 2^64) and keeps the low
 * half as the word's remaining entropy, cycling over the four words, so a
 * template can make a dozen choices before entropy runs thin.
 */
class ChoiceStream
{
public:
	explicit ChoiceStream(const uint8_t (&seed)[kDigestLength])
	{
		std::memcpy(words_, seed, sizeof words_);
	}

	size_t Pick(size_t n)
	{
		uint64_t &word = words_[next_++ % 4];
		const __uint128_t product = static_cast<__uint128_t>(word) * n;
		word = static_cast<uint64_t>(product);
		return static_cast<size_t>(product >> 64);
	}

	std::string_view Pick(const WordList &list) { return list[Pick(list.size)]; }

private:
	uint64_t words_[4];
	unsigned next_ = 0;
};

void AppendUnsigned(uint64_t value, std::string &out)
{
	char digits[20];
	size_t n = 0;
	do {
		digits[n++] = static_cast<char>('0' + value % 10);
		value /= 10;
	} while (value > 0);
	while (n > 0)
		out.push_back(digits[--n]);
}

/*
 * ASCII spelling of the Latin-1 letters U+00C0..U+00FF, indexed by the low
 * five bits (upper and lower case share a row; U+00DF ß is the exception).
 */
constexpr const char *kLatin1Ascii[32] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y",
};

/*
 * Appends a name as an e-mail address part: lower-case ASCII letters,
 * digits and hyphens; accents are transliterated (é -> e, œ -> oe) and
 * anything else (spaces, apostrophes) is dropped: "Le Gall" -> "legall".
 */
void AppendEmailPart(std::string_view name, std::string &out)
{
	for (size_t pos = 0; pos < name.size();) {
		const Utf8Char c = DecodeUtf8(name, pos);
		pos += c.length;
		const uint32_t cp = c.code_point;
		if (!c.valid)
			continue;
		if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9') || cp == '-')
			out.push_back(static_cast<char>(cp));
		else if (cp >= 'A' && cp <= 'Z')
			out.push_back(static_cast<char>(cp - 'A' + 'a'));
		else if (cp == 0xDF)
			out.append("ss");
		else if (cp >= 0xC0 && cp <= 0xFF)
			out.append(kLatin1Ascii[cp & 0x1F]);
		else if (cp == 0x152 || cp == 0x153)
			out.append("oe");
	}
}

/* The word list a placeholder draws from ({F} first names, ...), or nullptr. */
const WordList *PlaceholderWords(char placeholder, const FakeDictionary &dict)
{
	switch (placeholder) {
	case 'F':
	case 'f':
		return &dict.first_names;
	case 'L':
	case 'l':
		return &dict.last_names;
	case 'C':
		return &dict.cities;
	case 'W':
		return &dict.street_names;
	case 'T':
		return &dict.street_types;
	case 'A':
		return &dict.company_descriptors;
	case 'B':
		return &dict.company_activities;
	case 'S':
		return &dict.company_suffixes;
	case 'R':
		return &dict.area_codes;
	default:
		return nullptr;
	}
}

/* {f} and {l} spell names for e-mail addresses. */
bool IsEmailPlaceholder(char placeholder)
{
	return placeholder == 'f' || placeholder == 'l';
}

/* Expands one template (syntax in fake_dictionaries.hpp). */
void Expand(std::string_view format, const FakeDictionary &dict, ChoiceStream &choices,
            std::string &out)
{
	for (size_t i = 0; i < format.size(); i++) {
		const char ch = format[i];
		if (ch == '#') {
			out.push_back(static_cast<char>('0' + choices.Pick(10)));
			continue;
		}
		if (ch != '{' || i + 2 >= format.size() || format[i + 2] != '}') {
			out.push_back(ch);
			continue;
		}
		const char placeholder = format[i + 1];
		i += 2;
		if (const WordList *words = PlaceholderWords(placeholder, dict)) {
			if (IsEmailPlaceholder(placeholder))
				AppendEmailPart(choices.Pick(*words), out);
			else
				out.append(choices.Pick(*words));
		} else if (placeholder == 'N') {
			AppendUnsigned(1 + choices.Pick(dict.max_house_number), out);
		} else if (placeholder == 'n') {
			AppendUnsigned(choices.Pick(10000), out);
		} else {
			out.append(format.substr(i - 2, 3));
		}
	}
}

const FakeDictionary &DictionaryFor(FakeLocale locale)
{
	return locale == FakeLocale::Fr ? kFrenchFakeDictionary : kEnglishFakeDictionary;
}

/* The most characters a placeholder expands to; `email` spells names as AppendEmailPart. */
size_t LongestWord(const WordList &words, bool email)
{
	size_t longest = 0;
	std::string spelled;
	for (size_t i = 0; i < words.size; i++) {
		spelled.clear();
		if (email)
			AppendEmailPart(words[i], spelled);
		longest = std::max(longest, Utf8CharCount(email ? spelled : words[i]));
	}
	return longest;
}

size_t LongestPlaceholder(char placeholder, const FakeDictionary &dict)
{
	if (const WordList *words = PlaceholderWords(placeholder, dict))
		return LongestWord(*words, IsEmailPlaceholder(placeholder));
	if (placeholder == 'N')
		return std::to_string(dict.max_house_number).size();
	return placeholder == 'n' ? 4 : 3; /* {n} is 0..9999; others are copied as written */
}

void FakeFromSeed(FakeKind kind, FakeLocale locale, const uint8_t (&seed)[kDigestLength],
                  std::string &out)
{
	const FakeDictionary &dict = DictionaryFor(locale);
	ChoiceStream choices(seed);
	const WordList &formats = dict.templates[static_cast<size_t>(kind)];
	Expand(choices.Pick(formats), dict, choices, out);
}

} // namespace

std::optional<FakeKind> FakeKindFromMethod(std::string_view method_name)
{
	static constexpr std::string_view kNames[] = {
	    "fake_first_name", "fake_last_name", "fake_email",   "fake_phone",
	    "fake_city",       "fake_address",   "fake_company",
	};
	static_assert(std::size(kNames) == kFakeKindCount, "one method per FakeKind");
	return EnumFromName<FakeKind>(kNames, method_name);
}

std::optional<FakeLocale> ParseFakeLocale(std::string_view name)
{
	static constexpr std::string_view kNames[] = {"en", "fr"};
	return EnumFromName<FakeLocale>(kNames, name);
}

std::optional<FakeMode> ParseFakeMode(std::string_view name)
{
	static constexpr std::string_view kNames[] = {"deterministic", "random"};
	return EnumFromName<FakeMode>(kNames, name);
}

size_t FakeMaxChars(FakeKind kind, FakeLocale locale)
{
	const FakeDictionary &dict = DictionaryFor(locale);
	const WordList &formats = dict.templates[static_cast<size_t>(kind)];
	size_t longest = 0;
	for (size_t t = 0; t < formats.size; t++) {
		const std::string_view format = formats[t];
		size_t chars = 0;
		for (size_t i = 0; i < format.size(); i++) {
			if (format[i] == '{' && i + 2 < format.size() && format[i + 2] == '}') {
				chars += LongestPlaceholder(format[i + 1], dict);
				i += 2;
			} else if ((static_cast<unsigned char>(format[i]) & 0xC0) != 0x80) {
				chars++; /* '#' and literal characters; UTF-8 continuation bytes are not */
			}
		}
		longest = std::max(longest, chars);
	}
	return longest;
}

void FakeDeterministic(FakeKind kind, FakeLocale locale, const KeyedHasher &hasher,
                       std::string_view value, std::string &out)
{
	uint8_t seed[kDigestLength];
	hasher.Mac(value, seed);
	FakeFromSeed(kind, locale, seed, out);
}

void FakeRandom(FakeKind kind, FakeLocale locale, std::string &out)
{
	uint8_t seed[kDigestLength];
	RandomFill(seed, sizeof seed);
	FakeFromSeed(kind, locale, seed, out);
}

} // namespace pg_retention
