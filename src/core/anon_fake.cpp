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
 *		src/core/anon_fake.cpp
 *-------------------------------------------------------------------------
 */
#include "anon.hpp"

#include <cstring>
#include <iterator>

#include "anon_internal.hpp"
#include "fake_dictionaries.hpp"
#include "random.hpp"
#include "utf8.hpp"

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
		switch (placeholder) {
		case 'F':
			out.append(choices.Pick(dict.first_names));
			break;
		case 'L':
			out.append(choices.Pick(dict.last_names));
			break;
		case 'f':
			AppendEmailPart(choices.Pick(dict.first_names), out);
			break;
		case 'l':
			AppendEmailPart(choices.Pick(dict.last_names), out);
			break;
		case 'C':
			out.append(choices.Pick(dict.cities));
			break;
		case 'W':
			out.append(choices.Pick(dict.street_names));
			break;
		case 'T':
			out.append(choices.Pick(dict.street_types));
			break;
		case 'A':
			out.append(choices.Pick(dict.company_descriptors));
			break;
		case 'B':
			out.append(choices.Pick(dict.company_activities));
			break;
		case 'S':
			out.append(choices.Pick(dict.company_suffixes));
			break;
		case 'R':
			out.append(choices.Pick(dict.area_codes));
			break;
		case 'N':
			AppendUnsigned(1 + choices.Pick(dict.max_house_number), out);
			break;
		case 'n':
			AppendUnsigned(choices.Pick(10000), out);
			break;
		default:
			out.append(format.substr(i - 2, 3));
			break;
		}
	}
}

const FakeDictionary &DictionaryFor(FakeLocale locale)
{
	return locale == FakeLocale::Fr ? kFrenchFakeDictionary : kEnglishFakeDictionary;
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
