/*-------------------------------------------------------------------------
 *
 * label_lexer.cpp
 *		Tokenizer of retention labels and the caret-style error excerpts.
 *
 *		Identifiers follow SQL: unquoted ones are folded to lower case (ASCII
 *		only, like PostgreSQL with a multibyte encoding) and any byte >= 0x80
 *		counts as a letter, so Unicode names need no quotes.  Positions in
 *		messages are counted in characters (UTF-8 code points), as a user
 *		counts them, while tokens keep byte offsets for the code.
 *
 * IDENTIFICATION
 *		src/core/label/label_lexer.cpp
 *-------------------------------------------------------------------------
 */
#include "label/label_lexer.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "base/utf8.hpp"

namespace pg_retention
{

namespace
{

/* How many characters of a long label an error excerpt shows. */
constexpr size_t kExcerptWidth = 60;

bool IsSpace(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool IsDigit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

bool IsIdentStart(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

bool IsIdentChar(unsigned char c)
{
	return IsIdentStart(c) || IsDigit(c) || c == '$';
}

/*
 * The label's words, quoted when they name something so that canonical text
 * never reads as a clause.  Units and granularities are left out: they
 * only mean something where a name cannot stand.
 */
bool IsLabelKeyword(std::string_view word)
{
	static const std::array<std::string_view, 18> kKeywords = {
	    "after",    "age", "anonymize", "archive", "basis",   "delete",  "forget", "from",  "keep",
	    "minimize", "on",  "personal",  "purge",   "purpose", "subject", "to",     "using", "via"};
	return std::find(kKeywords.begin(), kKeywords.end(), word) != kKeywords.end();
}

} // namespace

/*
 * The detail shows the label on one line (control characters become
 * spaces so the caret lines up), cut to a window around the position when
 * the label is long.
 */
void ThrowAtPosition(ErrorKind kind, std::string_view label, size_t offset, std::string message,
                     std::string hint)
{
	offset = std::min(offset, label.size());
	const size_t position = Utf8CharCount(label.substr(0, offset)); /* 0-based */
	const size_t total = Utf8CharCount(label);

	size_t first = 0;
	size_t last = total;
	if (total > kExcerptWidth + kExcerptWidth / 4) {
		first = position > kExcerptWidth / 2 ? position - kExcerptWidth / 2 : 0;
		last = std::min(total, first + kExcerptWidth);
	}
	const size_t first_byte = Utf8Advance(label, 0, first);
	const size_t last_byte = Utf8Advance(label, first_byte, last - first);

	std::string prefix = "at position " + std::to_string(position + 1) + ": ";
	if (first > 0)
		prefix += "...";
	std::string excerpt(label.substr(first_byte, last_byte - first_byte));
	for (char &c : excerpt)
		if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
			c = ' ';
	if (last < total)
		excerpt += "...";

	std::string detail =
	    prefix + excerpt + "\n" + std::string(prefix.size() + position - first, ' ') + "^";
	throw Error(kind, std::move(message), std::move(detail), std::move(hint));
}

LabelLexer::LabelLexer(std::string_view label) : label_(label)
{
	current_ = Scan();
}

Token LabelLexer::Next()
{
	Token token = std::move(current_);
	current_ = Scan();
	return token;
}

void LabelLexer::Fail(const Token &at, ErrorKind kind, std::string message, std::string hint) const
{
	ThrowAtPosition(kind, label_, at.offset, std::move(message), std::move(hint));
}

/* Scans the token starting at pos_ (after white space). */
Token LabelLexer::Scan()
{
	while (pos_ < label_.size() && IsSpace(static_cast<unsigned char>(label_[pos_])))
		pos_++;

	Token token;
	token.offset = pos_;
	if (pos_ >= label_.size())
		return token;

	const unsigned char c = static_cast<unsigned char>(label_[pos_]);
	const auto at = [this](size_t i) {
		return i < label_.size() ? static_cast<unsigned char>(label_[i]) : 0;
	};

	if (c == '"')
		return ScanQuoted('"', TokenKind::QuotedIdentifier);
	if (c == '\'')
		return ScanQuoted('\'', TokenKind::String);

	if (IsIdentStart(c)) {
		size_t end = pos_;
		while (end < label_.size() && IsIdentChar(static_cast<unsigned char>(label_[end])))
			end++;
		token.kind = TokenKind::Word;
		token.text.assign(label_.substr(pos_, end - pos_));
		for (char &ch : token.text)
			if (ch >= 'A' && ch <= 'Z')
				ch = static_cast<char>(ch - 'A' + 'a');
	} else if (IsDigit(c) || (c == '-' && IsDigit(at(pos_ + 1)))) {
		size_t end = pos_ + 1;
		while (IsDigit(at(end)))
			end++;
		if (at(end) == '.' && IsDigit(at(end + 1))) {
			end++;
			while (IsDigit(at(end)))
				end++;
		}
		token.kind = TokenKind::Number;
		token.text.assign(label_.substr(pos_, end - pos_));
	} else {
		switch (c) {
		case ';':
			token.kind = TokenKind::Semicolon;
			break;
		case '(':
			token.kind = TokenKind::LParen;
			break;
		case ')':
			token.kind = TokenKind::RParen;
			break;
		case ',':
			token.kind = TokenKind::Comma;
			break;
		default: {
			char shown[8];
			if (c >= 0x20 && c < 0x7f)
				std::snprintf(shown, sizeof(shown), "%c", c);
			else
				std::snprintf(shown, sizeof(shown), "\\x%02x", c);
			ThrowAtPosition(ErrorKind::SyntaxError, label_, pos_,
			                std::string("unexpected character \"") + shown +
			                    "\" in retention label",
			                "names that contain other characters must be double-quoted");
		}
		}
		token.text.assign(1, static_cast<char>(c));
	}
	token.length =
	    token.kind == TokenKind::Word || token.kind == TokenKind::Number ? token.text.size() : 1;
	pos_ += token.length;
	return token;
}

/* Scans a quoted identifier or string; a doubled quote stands for itself. */
Token LabelLexer::ScanQuoted(char quote, TokenKind kind)
{
	Token token;
	token.kind = kind;
	token.offset = pos_;
	size_t i = pos_ + 1;
	for (;;) {
		if (i >= label_.size()) {
			ThrowAtPosition(ErrorKind::SyntaxError, label_, pos_,
			                kind == TokenKind::String
			                    ? "unterminated quoted string in retention label"
			                    : "unterminated quoted identifier in retention label",
			                std::string("close it with ") + quote + "; write " + quote + quote +
			                    " for a " + quote + " inside");
		}
		if (label_[i] == quote) {
			if (i + 1 < label_.size() && label_[i + 1] == quote) {
				token.text += quote;
				i += 2;
				continue;
			}
			i++;
			break;
		}
		token.text += label_[i++];
	}
	if (kind == TokenKind::QuotedIdentifier && token.text.empty())
		ThrowAtPosition(ErrorKind::SyntaxError, label_, pos_,
		                "zero-length quoted identifier in retention label");
	token.length = i - pos_;
	pos_ = i;
	return token;
}

std::string DescribeToken(const Token &token)
{
	switch (token.kind) {
	case TokenKind::End:
		return "end of label";
	case TokenKind::String:
		return "string " + LabelString(token.text);
	default:
		return "\"" + token.text + "\"";
	}
}

std::string LabelIdentifier(std::string_view name)
{
	bool simple =
	    !name.empty() && IsIdentStart(static_cast<unsigned char>(name[0])) && !IsLabelKeyword(name);
	for (char c : name)
		if (!IsIdentChar(static_cast<unsigned char>(c)) || (c >= 'A' && c <= 'Z'))
			simple = false;
	if (simple)
		return std::string(name);

	std::string quoted = "\"";
	for (char c : name) {
		if (c == '"')
			quoted += '"';
		quoted += c;
	}
	return quoted + "\"";
}

std::string LabelString(std::string_view text)
{
	std::string quoted = "'";
	for (char c : text) {
		if (c == '\'')
			quoted += '\'';
		quoted += c;
	}
	return quoted + "'";
}

std::string OneOf(const std::vector<std::string> &words)
{
	std::string text;
	for (size_t i = 0; i < words.size(); i++)
		text += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
	return text;
}

} // namespace pg_retention
