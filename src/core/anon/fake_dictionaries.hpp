/*-------------------------------------------------------------------------
 *
 * fake_dictionaries.hpp
 *		The embedded word lists and formats behind the fake_* methods, one
 *		dictionary per locale (fake_dictionaries_en.cpp, _fr.cpp).
 *
 *		A locale is data only: word lists, and for each kind of fake a list
 *		of templates that anon_fake.cpp expands.  In a template:
 *		  {F} {L}  a first / last name        {f} {l}  the same as ASCII for
 *		                                                e-mail addresses
 *		  {C}      a city                     {W} {T}  a street name / type
 *		  {A} {B}  a company descriptor / activity    {S} a company suffix
 *		  {R}      an area code               {N}  a house number
 *		  {n}      a number 0..9999           #    one digit
 *		any other character is copied.  Each placeholder is one independent
 *		choice (so "{L} & {L}" may repeat a name, as real firms do).
 *
 *		Internal to src/core: the public API is anon.hpp.
 *
 * IDENTIFICATION
 *		src/core/anon/fake_dictionaries.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "anon/anon.hpp"
#include "base/cpp_only.hpp"

namespace pg_retention
{

/* A view of a constexpr array of words (std::span is C++20). */
struct WordList {
	const std::string_view *items;
	size_t size;

	template <size_t N>
	constexpr WordList(const std::string_view (&array)[N]) : items(array), size(N)
	{
	}
	constexpr std::string_view operator[](size_t i) const { return items[i]; }
};

constexpr size_t kFakeKindCount = static_cast<size_t>(FakeKind::Company) + 1;

struct FakeDictionary {
	WordList first_names;
	WordList last_names;
	WordList cities;
	WordList street_names;
	WordList street_types;
	WordList company_descriptors;
	WordList company_activities;
	WordList company_suffixes;
	WordList area_codes;
	uint32_t max_house_number;
	/* indexed by FakeKind */
	WordList templates[kFakeKindCount];
};

extern const FakeDictionary kEnglishFakeDictionary;
extern const FakeDictionary kFrenchFakeDictionary;

} // namespace pg_retention
