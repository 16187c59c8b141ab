/*-------------------------------------------------------------------------
 *
 * test_anon_fake.cpp
 *		Unit tests of the fake_* kernels (anon_fake.cpp) and of their
 *		embedded dictionaries (fake_dictionaries_*.cpp).
 *
 * IDENTIFICATION
 *		test/unit/test_anon_fake.cpp
 *-------------------------------------------------------------------------
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "anon/anon.hpp"
#include "anon/fake_dictionaries.hpp"
#include "anon/methods.hpp"
#include "base/utf8.hpp"

using namespace pg_retention;

namespace
{

constexpr FakeKind kAllKinds[] = {FakeKind::FirstName, FakeKind::LastName, FakeKind::Email,
                                  FakeKind::Phone,     FakeKind::City,     FakeKind::Address,
                                  FakeKind::Company};
constexpr FakeLocale kAllLocales[] = {FakeLocale::En, FakeLocale::Fr};

HmacKey TestKey(uint8_t seed)
{
	HmacKey key;
	for (size_t i = 0; i < sizeof key.bytes; i++)
		key.bytes[i] = static_cast<uint8_t>(seed * 31 + i);
	return key;
}

std::string Fake(FakeKind kind, FakeLocale locale, const KeyedHasher &hasher,
                 std::string_view value)
{
	std::string out;
	FakeDeterministic(kind, locale, hasher, value, out);
	return out;
}

std::string RandomFake(FakeKind kind, FakeLocale locale)
{
	std::string out;
	FakeRandom(kind, locale, out);
	return out;
}

/* `count` deterministic fakes of distinct inputs "value-0", "value-1", ... */
std::vector<std::string> ManyFakes(FakeKind kind, FakeLocale locale, size_t count)
{
	const KeyedHasher hasher(TestKey(1));
	std::vector<std::string> fakes;
	for (size_t i = 0; i < count; i++)
		fakes.push_back(Fake(kind, locale, hasher, "value-" + std::to_string(i)));
	return fakes;
}

bool IsValidUtf8(std::string_view text)
{
	for (size_t pos = 0; pos < text.size();) {
		const Utf8Char c = DecodeUtf8(text, pos);
		if (!c.valid)
			return false;
		pos += c.length;
	}
	return true;
}

std::set<std::string_view> AsSet(const WordList &list)
{
	return std::set<std::string_view>(list.items, list.items + list.size);
}

} // namespace

TEST(AnonFake, SameValueAndKeyGiveTheSameFake)
{
	const KeyedHasher hasher(TestKey(1));
	const KeyedHasher same_key(TestKey(1));
	for (FakeLocale locale : kAllLocales)
		for (FakeKind kind : kAllKinds)
			EXPECT_EQ(Fake(kind, locale, hasher, "Jean Dupont"),
			          Fake(kind, locale, same_key, "Jean Dupont"));
}

TEST(AnonFake, AnotherKeyGivesOtherFakes)
{
	const KeyedHasher hasher(TestKey(1));
	const KeyedHasher other_key(TestKey(2));
	for (FakeLocale locale : kAllLocales) {
		size_t differ = 0;
		for (int i = 0; i < 200; i++) {
			const std::string value = "customer-" + std::to_string(i);
			differ += Fake(FakeKind::Email, locale, hasher, value) !=
			          Fake(FakeKind::Email, locale, other_key, value);
		}
		EXPECT_GE(differ, 195u);
	}
}

TEST(AnonFake, DistinctValuesSpreadOverTheDictionary)
{
	for (FakeLocale locale : kAllLocales) {
		const std::vector<std::string> names = ManyFakes(FakeKind::FirstName, locale, 2000);
		const std::set<std::string> distinct(names.begin(), names.end());
		EXPECT_GE(distinct.size(), 180u);
		const std::vector<std::string> emails = ManyFakes(FakeKind::Email, locale, 2000);
		EXPECT_GE(std::set<std::string>(emails.begin(), emails.end()).size(), 1990u);
	}
}

TEST(AnonFake, NamesAndCitiesComeFromTheLocalesDictionary)
{
	const std::pair<FakeLocale, const FakeDictionary *> locales[] = {
	    {FakeLocale::En, &kEnglishFakeDictionary}, {FakeLocale::Fr, &kFrenchFakeDictionary}};
	for (const auto &[locale, dict] : locales) {
		const auto first = AsSet(dict->first_names);
		const auto last = AsSet(dict->last_names);
		const auto cities = AsSet(dict->cities);
		for (const std::string &name : ManyFakes(FakeKind::FirstName, locale, 300))
			EXPECT_TRUE(first.count(name)) << name;
		for (const std::string &name : ManyFakes(FakeKind::LastName, locale, 300))
			EXPECT_TRUE(last.count(name)) << name;
		for (const std::string &city : ManyFakes(FakeKind::City, locale, 300))
			EXPECT_TRUE(cities.count(city)) << city;
	}
}

TEST(AnonFake, EmailsAreAsciiOnReservedDomains)
{
	const std::regex email("[a-z-]+\\.[a-z-]+[0-9]{1,4}@example\\.(com|org|net)");
	for (FakeLocale locale : kAllLocales)
		for (const std::string &address : ManyFakes(FakeKind::Email, locale, 3000))
			EXPECT_TRUE(std::regex_match(address, email)) << address;
}

TEST(AnonFake, EmailsTransliterateAccents)
{
	const std::vector<std::string> emails = ManyFakes(FakeKind::Email, FakeLocale::Fr, 3000);
	/* some fake French names carry accents: their addresses must be plain letters */
	const bool any_transliterated =
	    std::any_of(emails.begin(), emails.end(), [](const std::string &e) {
		    return e.rfind("helene.", 0) == 0 || e.rfind("elodie.", 0) == 0 ||
		           e.rfind("francois.", 0) == 0 || e.rfind("gaelle.", 0) == 0;
	    });
	EXPECT_TRUE(any_transliterated);
}

TEST(AnonFake, PhonesAreInRangesReservedForFiction)
{
	const std::regex en("\\+1 [0-9]{3}-555-01[0-9]{2}");
	const std::regex fr("\\+33 6 39 98 [0-9]{2} [0-9]{2}");
	for (const std::string &phone : ManyFakes(FakeKind::Phone, FakeLocale::En, 500))
		EXPECT_TRUE(std::regex_match(phone, en)) << phone;
	for (const std::string &phone : ManyFakes(FakeKind::Phone, FakeLocale::Fr, 500))
		EXPECT_TRUE(std::regex_match(phone, fr)) << phone;
}

TEST(AnonFake, AddressesFollowTheLocalesFormat)
{
	const std::regex en("[1-9][0-9]{0,3} [A-Z][A-Za-z ]* "
	                    "(Street|Avenue|Road|Lane|Drive|Court|Boulevard|Way|Place|Terrace)");
	const std::regex fr("[1-9][0-9]{0,2} (rue|avenue|boulevard|allée|impasse|chemin|place) "
	                    "(des?|du|d'|de la|de l').+");
	for (const std::string &address : ManyFakes(FakeKind::Address, FakeLocale::En, 500))
		EXPECT_TRUE(std::regex_match(address, en)) << address;
	for (const std::string &address : ManyFakes(FakeKind::Address, FakeLocale::Fr, 500))
		EXPECT_TRUE(std::regex_match(address, fr)) << address;
}

TEST(AnonFake, CompaniesUseEveryFormatOfTheLocale)
{
	const std::vector<std::string> fr = ManyFakes(FakeKind::Company, FakeLocale::Fr, 2000);
	const auto has = [&](const std::string &needle) {
		return std::any_of(fr.begin(), fr.end(), [&](const std::string &c) {
			return c.find(needle) != std::string::npos;
		});
	};
	EXPECT_TRUE(has("SARL "));
	EXPECT_TRUE(has(" et Fils"));
	EXPECT_TRUE(has("Établissements "));
	const std::vector<std::string> en = ManyFakes(FakeKind::Company, FakeLocale::En, 2000);
	EXPECT_TRUE(std::any_of(en.begin(), en.end(), [](const std::string &c) {
		return c.find(" & ") != std::string::npos;
	}));
}

TEST(AnonFake, EveryFakeIsFullyExpandedValidUtf8)
{
	for (FakeLocale locale : kAllLocales)
		for (FakeKind kind : kAllKinds)
			for (const std::string &fake : ManyFakes(kind, locale, 300)) {
				EXPECT_FALSE(fake.empty());
				EXPECT_EQ(fake.find_first_of("{}#"), std::string::npos) << fake;
				EXPECT_TRUE(IsValidUtf8(fake)) << fake;
			}
}

TEST(AnonFake, EmptyAndInvalidInputsGetAFakeToo)
{
	const KeyedHasher hasher(TestKey(1));
	EXPECT_FALSE(Fake(FakeKind::LastName, FakeLocale::En, hasher, "").empty());
	EXPECT_FALSE(Fake(FakeKind::LastName, FakeLocale::En, hasher, "\xff\xfe").empty());
	EXPECT_FALSE(Fake(FakeKind::City, FakeLocale::Fr, hasher, std::string(1 << 20, 'a')).empty());
}

TEST(AnonFake, RandomModeVaries)
{
	std::set<std::string> names;
	for (int i = 0; i < 200; i++)
		names.insert(RandomFake(FakeKind::FirstName, FakeLocale::Fr));
	EXPECT_GE(names.size(), 50u);
	EXPECT_NE(RandomFake(FakeKind::Email, FakeLocale::En),
	          RandomFake(FakeKind::Email, FakeLocale::En));
}

TEST(AnonFake, AppendsToTheCallersBuffer)
{
	const KeyedHasher hasher(TestKey(1));
	std::string out = "name: ";
	FakeDeterministic(FakeKind::FirstName, FakeLocale::En, hasher, "v", out);
	EXPECT_EQ(out, "name: " + Fake(FakeKind::FirstName, FakeLocale::En, hasher, "v"));
}

TEST(AnonFake, EveryFakeMethodOfTheMethodTableHasAKind)
{
	size_t fakes = 0;
	for (const MethodSpec &method : AllMethods()) {
		if (std::string_view(method.name).rfind("fake_", 0) != 0)
			continue;
		fakes++;
		EXPECT_TRUE(FakeKindFromMethod(method.name).has_value()) << method.name;
	}
	EXPECT_EQ(fakes, std::size(kAllKinds));
	EXPECT_EQ(FakeKindFromMethod("fake_company"), FakeKind::Company);
	EXPECT_EQ(FakeKindFromMethod("hash"), std::nullopt);
}

TEST(AnonFake, ParsesLocalesAndModes)
{
	EXPECT_EQ(ParseFakeLocale("en"), FakeLocale::En);
	EXPECT_EQ(ParseFakeLocale("fr"), FakeLocale::Fr);
	EXPECT_EQ(ParseFakeLocale("de"), std::nullopt);
	EXPECT_EQ(ParseFakeMode("deterministic"), FakeMode::Deterministic);
	EXPECT_EQ(ParseFakeMode("random"), FakeMode::Random);
	EXPECT_EQ(ParseFakeMode("Random"), std::nullopt);
}

TEST(AnonFakeDictionaries, HaveRealisticSizes)
{
	for (const FakeDictionary *dict : {&kEnglishFakeDictionary, &kFrenchFakeDictionary}) {
		EXPECT_GE(dict->first_names.size, 200u);
		EXPECT_GE(dict->last_names.size, 200u);
		EXPECT_GE(dict->cities.size, 150u);
		EXPECT_GE(dict->street_names.size, 100u);
		EXPECT_GE(dict->company_descriptors.size + dict->company_activities.size, 80u);
	}
}

TEST(AnonFakeDictionaries, ListNoWordTwiceAndOnlyValidUtf8)
{
	for (const FakeDictionary *dict : {&kEnglishFakeDictionary, &kFrenchFakeDictionary}) {
		/* street types may repeat on purpose, to weigh the common ones */
		for (const WordList *list :
		     {&dict->first_names, &dict->last_names, &dict->cities, &dict->street_names,
		      &dict->company_descriptors, &dict->company_activities, &dict->company_suffixes}) {
			EXPECT_EQ(AsSet(*list).size(), list->size);
			for (size_t i = 0; i < list->size; i++) {
				EXPECT_FALSE((*list)[i].empty());
				EXPECT_TRUE(IsValidUtf8((*list)[i])) << (*list)[i];
			}
		}
	}
}

TEST(AnonFakeDictionaries, FrenchNamesKeepTheirAccents)
{
	const auto first = AsSet(kFrenchFakeDictionary.first_names);
	EXPECT_TRUE(first.count("Élodie"));
	EXPECT_TRUE(first.count("Hélène"));
	EXPECT_TRUE(AsSet(kFrenchFakeDictionary.cities).count("Saint-Étienne"));
}
