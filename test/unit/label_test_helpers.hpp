/*-------------------------------------------------------------------------
 *
 * label_test_helpers.hpp
 *		What the label tests share: catching the Error a call throws and
 *		reading the position and caret out of its detail.
 *
 * IDENTIFICATION
 *		test/unit/label_test_helpers.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "base/error.hpp"
#include "base/utf8.hpp"

namespace pg_retention
{

/* The Error `f` throws; fails the test when it throws nothing. */
template <typename F> Error ErrorOf(F &&f)
{
	try {
		f();
	} catch (const Error &e) {
		return e;
	}
	ADD_FAILURE() << "no error thrown";
	return Error(ErrorKind::Internal, "no error thrown");
}

/* N from a detail "at position N: ...", or 0. */
inline size_t PositionOf(const Error &e)
{
	const std::string prefix = "at position ";
	if (e.detail().compare(0, prefix.size(), prefix) != 0)
		return 0;
	return std::stoul(e.detail().substr(prefix.size()));
}

/*
 * The text of the excerpt line from the character the caret points at:
 * "hsh" for "at position 30: ...using hsh" / "   ...   ^".  Checks that
 * the caret line is well formed on the way.
 */
inline std::string TextAtCaret(const Error &e)
{
	const std::string &detail = e.detail();
	const size_t newline = detail.find('\n');
	if (newline == std::string::npos) {
		ADD_FAILURE() << "no caret line in: " << detail;
		return {};
	}
	const std::string excerpt = detail.substr(0, newline);
	const std::string caret = detail.substr(newline + 1);
	EXPECT_EQ(caret.find_first_not_of(' '), caret.size() - 1) << detail;
	EXPECT_EQ(caret.back(), '^') << detail;
	return excerpt.substr(Utf8Advance(excerpt, 0, caret.size() - 1));
}

} // namespace pg_retention
