/*-------------------------------------------------------------------------
 *
 * label_lexer.hpp
 *		Tokenizer of retention labels, and the error reporting they share.
 *
 *		The lexer turns label text into tokens that remember their byte
 *		offset and length, so that the parser can point at the offending
 *		token in errors and record where each column name stands (renames
 *		rewrite the label in place).  Lexical rules follow SQL and are
 *		documented in docs/labels.md; the printer (label_printer.cpp) asks
 *		the same rules whether an identifier needs quotes, so that canonical
 *		text always lexes back to the same names.
 *
 *		Internal to src/core: the public API is policy.hpp.
 *
 * IDENTIFICATION
 *		src/core/label/label_lexer.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "label/policy.hpp"
#include "base/cpp_only.hpp"

namespace pg_retention
{

enum class TokenKind : uint8_t {
	End,              /* end of the label */
	Word,             /* unquoted identifier or keyword, folded to lower case */
	QuotedIdentifier, /* "Quoted", case kept, "" unescaped */
	String,           /* 'text', '' unescaped */
	Number,           /* 2, -3, 0.25 as written */
	Semicolon,
	LParen,
	RParen,
	Comma
};

struct Token {
	TokenKind kind = TokenKind::End;
	size_t offset = 0; /* byte offset in the label */
	size_t length = 0; /* byte length as written (quotes included) */
	std::string text;  /* the value: folded, unescaped or as written */

	bool IsIdentifier() const
	{
		return kind == TokenKind::Word || kind == TokenKind::QuotedIdentifier;
	}
	/* An unquoted word equal to `keyword` (keywords are case-insensitive). */
	bool IsKeyword(std::string_view keyword) const
	{
		return kind == TokenKind::Word && text == keyword;
	}
};

/*
 * Throws Error(kind, message) whose detail gives the 1-based character
 * position of byte `offset` and an excerpt of the label with a caret
 * under it, e.g.
 *		at position 30: anonymize after 1 year using hsh
 *		                                             ^
 */
[[noreturn]] void ThrowAtPosition(ErrorKind kind, std::string_view label, size_t offset,
                                  std::string message, std::string hint = {});

/*
 * Lazy tokenizer with one token of lookahead: errors come out in the order
 * of the text (an unterminated quote late in the label does not hide an
 * unknown clause before it).
 */
class LabelLexer
{
public:
	explicit LabelLexer(std::string_view label);

	const Token &Peek() const { return current_; }
	Token Next();
	std::string_view label() const { return label_; }

	/* Throws at the token's position (see ThrowAtPosition). */
	[[noreturn]] void Fail(const Token &at, ErrorKind kind, std::string message,
	                       std::string hint = {}) const;

private:
	Token Scan();
	Token ScanQuoted(char quote, TokenKind kind);

	std::string_view label_;
	size_t pos_ = 0;
	Token current_;
};

/* How a token reads in messages: "hsh", end of label, ";". */
std::string DescribeToken(const Token &token);

/*
 * Reads a delay ("1 year 6 months") starting at the lexer's current token,
 * up to the first token that is not a number: checks units, whole
 * non-negative parts, a positive total and the upper bound.  `clause`
 * names what the delay belongs to for messages (`"purge after"`), empty for
 * a bare delay.  Implemented in delay.cpp.
 */
Delay ReadDelay(LabelLexer &lexer, std::string_view clause);

/* Identifier as it must be written in a label: quoted only when needed. */
std::string LabelIdentifier(std::string_view name);

/* String as an SQL literal: 'it''s'. */
std::string LabelString(std::string_view text);

/* Joins words as "a, b or c", for messages and hints. */
std::string OneOf(const std::vector<std::string> &words);

} // namespace pg_retention
