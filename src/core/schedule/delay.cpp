/*-------------------------------------------------------------------------
 *
 * delay.cpp
 *		Delays of the label grammar: syntax, text and calendar ordering.
 *
 *		A delay is a PostgreSQL interval without a time part: months (years
 *		fold into 12 of them) and days (weeks into 7).  It is added to a
 *		row's age column with calendar arithmetic, so "1 month" spans 28 to
 *		31 days depending on the start date; DelayAtMost orders two delays
 *		only when the order holds for every start date.  Stage ordering in
 *		policy_validate.cpp rests on it.
 *
 * IDENTIFICATION
 *		src/core/schedule/delay.cpp
 *-------------------------------------------------------------------------
 */
#include "label/policy.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "schedule/calendar.hpp"
#include "base/error.hpp"
#include "label/label_lexer.hpp"

namespace pg_retention
{

namespace
{

/*
 * Longest delay accepted.  Far beyond any legal retention period, and short
 * enough that now() minus the delay stays within PostgreSQL's date range,
 * so the daily run can never fail on "date out of range".
 */
constexpr int64_t kMaxDelayYears = 1000;
constexpr int64_t kMaxDelayMonths = kMaxDelayYears * 12;
constexpr int64_t kMaxDelayDays = kMaxDelayYears * 366;

const char *const kDelayExample = "write a delay such as 90 days, 6 months or 1 year 6 months";
const char *const kNegativeMessage = "delay parts must not be negative";
const char *const kNegativeHint = "a delay counts forward from the age column";
const char *const kPositiveHint = "a delay is at least 1 day";

std::string NotPositiveMessage(std::string_view clause)
{
	return clause.empty() ? std::string("delay must be positive")
	                      : "delay of " + std::string(clause) + " must be positive";
}

struct DelayUnit {
	std::string_view singular;
	int64_t months;
	int64_t days;
};

constexpr DelayUnit kUnits[] = {{"day", 0, 1}, {"week", 0, 7}, {"month", 1, 0}, {"year", 12, 0}};

/* The unit a word names ("day", "Days", ...), or nullptr. */
const DelayUnit *FindUnit(const Token &word)
{
	if (word.kind != TokenKind::Word)
		return nullptr;
	for (const DelayUnit &unit : kUnits)
		if (word.text == unit.singular ||
		    (word.text.size() == unit.singular.size() + 1 && word.text.back() == 's' &&
		     std::string_view(word.text).substr(0, unit.singular.size()) == unit.singular))
			return &unit;
	return nullptr;
}

int64_t FloorDiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/*
 * Day number of y-m-d plus k months the way PostgreSQL adds an interval's
 * month part: the day of the month is kept, clamped to the last day of the
 * target month (2024-01-31 + 1 month = 2024-02-29).
 */
int64_t AddMonths(int64_t y, unsigned m, unsigned d, int64_t k)
{
	const int64_t index = y * 12 + (m - 1) + k;
	const int64_t year = FloorDiv(index, 12);
	const unsigned month = static_cast<unsigned>(index - year * 12) + 1;
	return DaysFromCivil(year, month, std::min(d, DaysInMonth(year, month)));
}

std::string Plural(int64_t n, const char *unit)
{
	return std::to_string(n) + " " + unit + (n == 1 || n == -1 ? "" : "s");
}

std::string TooLongHint()
{
	return "a delay may be at most " + std::to_string(kMaxDelayYears) + " years";
}

[[noreturn]] void FailTooLong(LabelLexer &lexer, const Token &start)
{
	lexer.Fail(start, ErrorKind::InvalidParameterValue, "delay is too long", TooLongHint());
}

} // namespace

std::string Delay::ToString() const
{
	std::string text;
	const auto add = [&text](int64_t n, const char *unit) {
		if (n == 0)
			return;
		if (!text.empty())
			text += ' ';
		text += Plural(n, unit);
	};
	add(months / 12, "year");
	add(months % 12, "month");
	add(days, "day");
	return text.empty() ? "0 days" : text;
}

std::string Delay::ToPgInterval() const
{
	return std::to_string(months) + " months " + std::to_string(days) + " days";
}

/*
 * a <= b when, for every start date s, s + a <= s + b, where s + (m months,
 * n days) is AddMonths(s, m) + n days (PostgreSQL adds the month part
 * first, then the days).  So a <= b iff
 *		max over s of [AddMonths(s, a.months) - AddMonths(s, b.months)]
 *			<= b.days - a.days.
 * The Gregorian calendar repeats every 400 years (4800 months, 146097 days,
 * a whole number of weeks), and AddMonths commutes with that shift, so the
 * start dates of one 400-year cycle cover them all.  Within a start month
 * the difference does not depend on the start day up to the 28th (no month
 * is shorter: neither side clamps), so only days 28 to the month's last
 * need a look: 4800 months x at most 4 days, exact and cheap.
 */
bool DelayAtMost(const Delay &a, const Delay &b)
{
	const int64_t allowance = static_cast<int64_t>(b.days) - a.days;
	if (a.months == b.months)
		return allowance >= 0;

	int64_t worst = std::numeric_limits<int64_t>::min();
	for (int64_t year = 2000; year < 2400; year++)
		for (unsigned month = 1; month <= 12; month++)
			for (unsigned day = 28; day <= DaysInMonth(year, month); day++)
				worst = std::max(worst, AddMonths(year, month, day, a.months) -
				                            AddMonths(year, month, day, b.months));
	return worst <= allowance;
}

/*
 * Each part is a whole, non-negative number and a unit; the parts are
 * bounded one by one before they are added, so no arithmetic can
 * overflow whatever the digits.
 */
Delay ReadDelay(LabelLexer &lexer, std::string_view clause)
{
	const Token start = lexer.Peek();
	if (start.kind != TokenKind::Number)
		lexer.Fail(start, ErrorKind::SyntaxError,
		           "expected a delay but found " + DescribeToken(start), kDelayExample);

	int64_t months = 0;
	int64_t days = 0;
	while (lexer.Peek().kind == TokenKind::Number) {
		const Token number = lexer.Next();
		if (number.text.find('.') != std::string::npos)
			lexer.Fail(number, ErrorKind::InvalidParameterValue,
			           "delay parts must be whole numbers",
			           "write 1 year 6 months rather than 1.5 years");
		if (number.text[0] == '-')
			lexer.Fail(number, ErrorKind::InvalidParameterValue, kNegativeMessage, kNegativeHint);
		int64_t value = 0;
		const char *end = number.text.data() + number.text.size();
		if (std::from_chars(number.text.data(), end, value).ec != std::errc() ||
		    value > kMaxDelayDays)
			FailTooLong(lexer, start);

		const Token word = lexer.Peek();
		const DelayUnit *unit = FindUnit(word);
		if (unit == nullptr)
			lexer.Fail(word, ErrorKind::SyntaxError,
			           "expected a delay unit after \"" + number.text + "\" but found " +
			               DescribeToken(word),
			           "units are day(s), week(s), month(s) and year(s)");
		lexer.Next();
		months += value * unit->months;
		days += value * unit->days;
		if (months > kMaxDelayMonths || days > kMaxDelayDays)
			FailTooLong(lexer, start);
	}

	Delay delay{static_cast<int32_t>(months), static_cast<int32_t>(days)};
	if (!delay.IsPositive())
		lexer.Fail(start, ErrorKind::InvalidParameterValue, NotPositiveMessage(clause),
		           kPositiveHint);
	if (!DelayAtMost(delay, Delay{static_cast<int32_t>(kMaxDelayMonths), 0}))
		FailTooLong(lexer, start);
	return delay;
}

void CheckDelayParts(int64_t months, int64_t days, int64_t micros, std::string_view clause)
{
	if (months < 0 || days < 0 || micros < 0)
		throw Error(ErrorKind::InvalidParameterValue, kNegativeMessage, "", kNegativeHint);
	if (months == 0 && days == 0 && micros == 0)
		throw Error(ErrorKind::InvalidParameterValue, NotPositiveMessage(clause), "",
		            kPositiveHint);
	constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;
	const int64_t whole_days = days + (micros + kMicrosPerDay - 1) / kMicrosPerDay;
	if (months > kMaxDelayMonths || whole_days > kMaxDelayDays ||
	    !DelayAtMost(Delay{static_cast<int32_t>(months), static_cast<int32_t>(whole_days)},
	                 Delay{static_cast<int32_t>(kMaxDelayMonths), 0}))
		throw Error(ErrorKind::InvalidParameterValue, "delay is too long", "", TooLongHint());
}

Delay ParseDelay(std::string_view text)
{
	LabelLexer lexer(text);
	Delay delay = ReadDelay(lexer, {});
	if (lexer.Peek().kind != TokenKind::End)
		lexer.Fail(lexer.Peek(), ErrorKind::SyntaxError,
		           "unexpected " + DescribeToken(lexer.Peek()) + " after delay", kDelayExample);
	return delay;
}

} // namespace pg_retention
