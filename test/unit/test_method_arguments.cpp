/*-------------------------------------------------------------------------
 *
 * test_method_arguments.cpp
 *		Unit tests for the argument checks labels and SQL functions share
 *		(methods.hpp): a value a label refuses is refused by the SQL
 *		function with the same message, and one it accepts is accepted.
 *
 * IDENTIFICATION
 *		test/unit/test_method_arguments.cpp
 *-------------------------------------------------------------------------
 */
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "label_test_helpers.hpp"
#include "anon/methods.hpp"
#include "label/policy.hpp"

namespace pg_retention
{
namespace
{

/* The message a column label with `method` gets, without its position. */
std::string LabelMessage(const std::string &method)
{
	return ErrorOf([&] { ParseColumnLabel("anonymize after 1 year using " + method); }).what();
}

TEST(MethodArguments, IntegerBoundsGiveTheLabelMessage)
{
	const ArgumentCheck bits("ip_prefix", "bits");
	EXPECT_NO_THROW(bits.Integer(0));
	EXPECT_NO_THROW(bits.Integer(128));
	const Error e = ErrorOf([&] { bits.Integer(200); });
	EXPECT_EQ(e.kind(), ErrorKind::InvalidParameterValue);
	EXPECT_EQ(std::string(e.what()), LabelMessage("ip_prefix(200)"));
	EXPECT_EQ(e.hint(), "ip_prefix takes bits (integer 0 to 128)");
	EXPECT_EQ(std::string(ErrorOf([&] { bits.Integer(-1); }).what()),
	          LabelMessage("ip_prefix(-1)"));

	const ArgumentCheck length("hash", "length");
	EXPECT_EQ(std::string(ErrorOf([&] { length.Integer(7); }).what()),
	          LabelMessage("hash(hex, 7)"));
	EXPECT_EQ(std::string(ErrorOf([&] { length.Integer(65); }).what()),
	          LabelMessage("hash(hex, 65)"));
	EXPECT_NO_THROW(length.Integer(64)); /* beyond an encoding's digest: the full digest */

	const ArgumentCheck prefix("partial", "prefix");
	EXPECT_EQ(std::string(ErrorOf([&] { prefix.Integer(-1); }).what()),
	          LabelMessage("partial(-1, '*', 1)"));
	EXPECT_EQ(std::string(ErrorOf([&] { prefix.Integer(1001); }).what()),
	          LabelMessage("partial(1001, '*', 1)"));
}

TEST(MethodArguments, NumberBoundsRefuseNaN)
{
	const ArgumentCheck ratio("noise", "ratio");
	EXPECT_NO_THROW(ratio.Number(0));
	EXPECT_NO_THROW(ratio.Number(10));
	EXPECT_EQ(std::string(ErrorOf([&] { ratio.Number(10.5); }).what()),
	          LabelMessage("noise(10.5)"));
	EXPECT_EQ(std::string(ErrorOf([&] { ratio.Number(-0.1); }).what()),
	          LabelMessage("noise(-0.1)"));
	ErrorOf([&] { ratio.Number(std::numeric_limits<double>::quiet_NaN()); });
	ErrorOf([&] { ratio.Number(std::numeric_limits<double>::infinity()); });
}

TEST(MethodArguments, ChoicesAreCanonicalAndCaseInsensitive)
{
	const ArgumentCheck encoding("hash", "encoding");
	EXPECT_STREQ(encoding.Choice("BASE32"), "base32");
	EXPECT_EQ(std::string(ErrorOf([&] { encoding.Choice("base58"); }).what()),
	          LabelMessage("hash(base58)"));
	const ArgumentCheck locale("fake_city", "locale");
	EXPECT_STREQ(locale.Choice("fr"), "fr");
	EXPECT_EQ(std::string(ErrorOf([&] { locale.Choice("de"); }).what()),
	          LabelMessage("fake_city(de)"));
}

TEST(MethodArguments, UnknownMethodOrParameterIsABug)
{
	EXPECT_EQ(ErrorOf([] { ArgumentCheck("hsh", "length"); }).kind(), ErrorKind::Internal);
	EXPECT_EQ(ErrorOf([] { ArgumentCheck("hash", "size"); }).kind(), ErrorKind::Internal);
}

TEST(MethodArguments, JitterRangeIsAPositiveDelay)
{
	const std::string clause = "argument \"range\" of \"jitter\"";
	EXPECT_NO_THROW(CheckDelayParts(0, 7, 0, clause));
	EXPECT_NO_THROW(CheckDelayParts(0, 0, 3600000000LL, clause)); /* 1 hour: SQL only */
	EXPECT_EQ(std::string(ErrorOf([&] { CheckDelayParts(0, 0, 0, clause); }).what()),
	          LabelMessage("jitter(0 days)"));
	EXPECT_EQ(std::string(ErrorOf([&] { CheckDelayParts(0, -1, 0, clause); }).what()),
	          LabelMessage("jitter(-1 days)"));
	EXPECT_EQ(std::string(ErrorOf([&] { CheckDelayParts(12001, 0, 0, clause); }).what()),
	          LabelMessage("jitter(1001 years)"));
	EXPECT_EQ(ErrorOf([&] { CheckDelayParts(0, 0, -1, clause); }).kind(),
	          ErrorKind::InvalidParameterValue);
}

TEST(MethodArguments, GranularityOutsideAColumn)
{
	MethodArg week;
	week.kind = ArgKind::String;
	week.text = "week";
	const Error e = ErrorOf([&] { CheckGranularity(TypeCategory::Date, "date", "", week); });
	EXPECT_EQ(std::string(e.what()), "invalid granularity \"week\" for generalize on type date");
	EXPECT_EQ(e.hint(), "dates generalize to year, month, month_day or decade");

	MethodArg zero;
	zero.kind = ArgKind::Integer;
	zero.text = "0";
	EXPECT_EQ(std::string(ErrorOf([&] {
		                      CheckGranularity(TypeCategory::Integer, "integer", "", zero);
	                      }).what()),
	          "invalid granularity \"0\" for generalize on type integer");
	MethodArg step;
	step.kind = ArgKind::Number;
	step.text = "0.5";
	step.number = 0.5;
	EXPECT_NO_THROW(CheckGranularity(TypeCategory::Numeric, "numeric", "", step));
}

} // namespace
} // namespace pg_retention
