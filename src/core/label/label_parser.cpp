/*-------------------------------------------------------------------------
 *
 * label_parser.cpp
 *		Parser of table and column retention labels (docs/labels.md).
 *
 *		A hand-written parser without recursion: a label is a flat list
 *		of clauses, each a fixed sequence of words, names, delays and at most
 *		one method call, so parsing is one linear pass over the tokens.
 *		Methods and their arguments are checked against the one method
 *		table (methods.hpp); what needs catalog facts (column names and
 *		types, stage order against the table) is left to policy_validate.cpp.
 *
 * IDENTIFICATION
 *		src/core/label/label_parser.cpp
 *-------------------------------------------------------------------------
 */
#include "label/policy.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>

#include "base/error.hpp"
#include "label/label_lexer.hpp"

namespace pg_retention
{

namespace
{

/* A clause is named by one or two keywords: "personal", "age from". */
struct ClauseSpec {
	std::string_view first;
	std::string_view second;

	std::string Name() const
	{
		return std::string(first) + (second.empty() ? "" : " ") + std::string(second);
	}
};

const std::vector<ClauseSpec> kTableClauses = {
    {"subject", ""},  {"age", "from"}, {"archive", "after"}, {"purge", "after"},
    {"on", "forget"}, {"purpose", ""}, {"basis", ""}};
const std::vector<ClauseSpec> kColumnClauses = {{"minimize", "to"}, {"anonymize", "after"},
                                                {"purge", "after"}, {"personal", ""},
                                                {"purpose", ""},    {"basis", ""}};

std::string ClauseList(const std::vector<ClauseSpec> &clauses)
{
	std::string list;
	for (const ClauseSpec &c : clauses)
		list += (list.empty() ? "" : ", ") + c.Name();
	return list;
}

/* Method names for hints: all of them, or those usable with "minimize to". */
std::string MethodNames(bool idempotent_only)
{
	std::string names;
	for (const MethodSpec &m : AllMethods())
		if (m.idempotent || !idempotent_only)
			names += (names.empty() ? "" : ", ") + std::string(m.name);
	return names;
}

class LabelParser
{
public:
	explicit LabelParser(std::string_view label) : lexer_(label) {}

	TablePolicy ParseTable();
	ColumnPolicy ParseColumn();

private:
	void ParseClauses(const std::vector<ClauseSpec> &allowed, const std::vector<ClauseSpec> &other,
	                  const char *level, const std::function<void(std::string_view)> &handle);
	void ExpectKeyword(std::string_view keyword, const char *usage);
	Token ExpectIdentifier(const char *what);
	std::vector<std::string> ParseColumnList(std::vector<ColumnRef> *refs);
	SubjectClause ParseSubject(std::vector<ColumnRef> *refs);
	std::string ParseString(const char *clause);
	LegalBasis ParseBasis();
	ForgetAction ParseForgetAction();
	MethodCall ParseMethodCall();
	MethodCall ParseMinimize();
	MethodArg ParseArg(const MethodSpec &spec, const ParamSpec &param);
	[[noreturn]] void FailArg(const Token &at, const MethodSpec &spec, const ParamSpec &param,
	                          const std::string &problem);
	double ParseDouble(const Token &number);

	LabelLexer lexer_;
};

/*
 * The clause loop shared by table and column labels: separators, unknown
 * and duplicate clauses.  `handle` parses the clause body given its first
 * keyword, both keywords being consumed.
 */
void LabelParser::ParseClauses(const std::vector<ClauseSpec> &allowed,
                               const std::vector<ClauseSpec> &other, const char *level,
                               const std::function<void(std::string_view)> &handle)
{
	const std::string expected = "expected one of: " + ClauseList(allowed);
	if (lexer_.Peek().kind == TokenKind::End)
		lexer_.Fail(lexer_.Peek(), ErrorKind::SyntaxError, "empty retention label",
		            "to remove a label, use SECURITY LABEL FOR retention ON ... IS NULL");

	std::vector<bool> seen(allowed.size(), false);
	for (;;) {
		const Token first = lexer_.Next();
		const auto matches = [&first](const ClauseSpec &c) { return first.IsKeyword(c.first); };
		const auto found = std::find_if(allowed.begin(), allowed.end(), matches);
		if (found == allowed.end()) {
			const auto elsewhere = std::find_if(other.begin(), other.end(), matches);
			if (elsewhere != other.end())
				lexer_.Fail(first, ErrorKind::SyntaxError,
				            "clause \"" + elsewhere->Name() + "\" is not allowed in a " + level +
				                " label",
				            expected);
			lexer_.Fail(first, ErrorKind::SyntaxError,
			            first.kind == TokenKind::Word
			                ? "unknown clause \"" + first.text + "\" in retention label"
			                : "expected a clause but found " + DescribeToken(first),
			            expected);
		}
		if (!found->second.empty()) {
			const Token second = lexer_.Next();
			if (!second.IsKeyword(found->second))
				lexer_.Fail(second, ErrorKind::SyntaxError,
				            "expected \"" + std::string(found->second) + "\" after \"" +
				                std::string(found->first) + "\" but found " + DescribeToken(second),
				            "the clause is written \"" + found->Name() + "\"");
		}
		const size_t index = static_cast<size_t>(found - allowed.begin());
		if (seen[index])
			lexer_.Fail(first, ErrorKind::SyntaxError,
			            "clause \"" + found->Name() + "\" given twice in retention label",
			            "each clause may appear at most once per label");
		seen[index] = true;

		handle(found->first);

		const Token separator = lexer_.Next();
		if (separator.kind == TokenKind::End)
			return;
		if (separator.kind != TokenKind::Semicolon)
			lexer_.Fail(separator, ErrorKind::SyntaxError,
			            "unexpected " + DescribeToken(separator) + " after clause \"" +
			                found->Name() + "\"",
			            "clauses are separated by \";\"");
		if (lexer_.Peek().kind == TokenKind::End)
			return; /* a trailing ";" */
	}
}

void LabelParser::ExpectKeyword(std::string_view keyword, const char *usage)
{
	const Token token = lexer_.Next();
	if (!token.IsKeyword(keyword))
		lexer_.Fail(token, ErrorKind::SyntaxError,
		            "expected \"" + std::string(keyword) + "\" but found " + DescribeToken(token),
		            std::string("write ") + usage);
}

Token LabelParser::ExpectIdentifier(const char *what)
{
	Token token = lexer_.Next();
	if (!token.IsIdentifier())
		lexer_.Fail(token, ErrorKind::SyntaxError,
		            std::string("expected ") + what + " but found " + DescribeToken(token),
		            "names follow SQL rules; double-quote names with other characters");
	return token;
}

/* col[, col]: names of this table's columns, each recorded for renames. */
std::vector<std::string> LabelParser::ParseColumnList(std::vector<ColumnRef> *refs)
{
	std::vector<std::string> columns;
	for (;;) {
		const Token column = ExpectIdentifier("a column name");
		if (std::find(columns.begin(), columns.end(), column.text) != columns.end())
			lexer_.Fail(column, ErrorKind::InvalidParameterValue,
			            "column \"" + column.text + "\" listed twice in retention label");
		columns.push_back(column.text);
		refs->push_back(ColumnRef{column.offset, column.length, column.text});
		if (lexer_.Peek().kind != TokenKind::Comma)
			return columns;
		lexer_.Next();
	}
}

std::string LabelParser::ParseString(const char *clause)
{
	const Token token = lexer_.Next();
	if (token.kind != TokenKind::String)
		lexer_.Fail(token, ErrorKind::SyntaxError,
		            std::string("expected a quoted string after \"") + clause + "\" but found " +
		                DescribeToken(token),
		            std::string("write ") + clause +
		                " 'text' (inside IS '...', double each quote: " + clause + " ''text'')");
	if (token.text.empty())
		lexer_.Fail(token, ErrorKind::InvalidParameterValue,
		            std::string("\"") + clause + "\" must not be empty");
	return token.text;
}

LegalBasis LabelParser::ParseBasis()
{
	constexpr LegalBasis kAll[] = {LegalBasis::Consent,         LegalBasis::Contract,
	                               LegalBasis::LegalObligation, LegalBasis::VitalInterests,
	                               LegalBasis::PublicTask,      LegalBasis::LegitimateInterests};
	const Token token = lexer_.Next();
	std::vector<std::string> names;
	for (LegalBasis b : kAll) {
		if (token.IsKeyword(LegalBasisName(b)))
			return b;
		names.push_back(LegalBasisName(b));
	}
	lexer_.Fail(token, ErrorKind::InvalidParameterValue,
	            "invalid lawful basis " + DescribeToken(token) + " in retention label",
	            "expected " + OneOf(names) + " (GDPR Art. 6)");
}

ForgetAction LabelParser::ParseForgetAction()
{
	constexpr ForgetAction kAll[] = {ForgetAction::Delete, ForgetAction::Anonymize,
	                                 ForgetAction::Keep};
	const Token token = lexer_.Next();
	std::vector<std::string> names;
	for (ForgetAction a : kAll) {
		if (token.IsKeyword(ForgetActionName(a)))
			return a;
		names.push_back(ForgetActionName(a));
	}
	lexer_.Fail(token, ErrorKind::InvalidParameterValue,
	            "invalid \"on forget\" action " + DescribeToken(token) + " in retention label",
	            "expected " + OneOf(names));
}

/* METHOD or METHOD(arg, ...): arguments positional, optional ones last. */
MethodCall LabelParser::ParseMethodCall()
{
	const Token name = lexer_.Next();
	if (!name.IsIdentifier())
		lexer_.Fail(name, ErrorKind::SyntaxError,
		            "expected a method name but found " + DescribeToken(name),
		            "methods: " + MethodNames(false));
	MethodCall call;
	call.spec = FindMethod(name.text);
	if (call.spec == nullptr) {
		const std::string suggestion = SuggestMethod(name.text);
		lexer_.Fail(name, ErrorKind::UndefinedObject,
		            "unknown method \"" + name.text + "\" in retention label",
		            suggestion.empty() ? "methods: " + MethodNames(false)
		                               : "did you mean \"" + suggestion + "\"?");
	}
	const MethodSpec &spec = *call.spec;

	Token end = name;
	if (lexer_.Peek().kind == TokenKind::LParen) {
		lexer_.Next();
		if (lexer_.Peek().kind != TokenKind::RParen) {
			for (;;) {
				if (call.args.size() == spec.params.size())
					lexer_.Fail(lexer_.Peek(), ErrorKind::InvalidParameterValue,
					            "too many arguments for method \"" + std::string(spec.name) + "\"",
					            MethodUsage(spec));
				call.args.push_back(ParseArg(spec, spec.params[call.args.size()]));
				if (lexer_.Peek().kind != TokenKind::Comma)
					break;
				lexer_.Next();
			}
		}
		end = lexer_.Next();
		if (end.kind != TokenKind::RParen)
			lexer_.Fail(end, ErrorKind::SyntaxError,
			            "expected \",\" or \")\" but found " + DescribeToken(end),
			            MethodUsage(spec));
	}
	const size_t required = static_cast<size_t>(std::count_if(
	    spec.params.begin(), spec.params.end(), [](const ParamSpec &p) { return p.required; }));
	if (call.args.size() < required)
		lexer_.Fail(end, ErrorKind::InvalidParameterValue,
		            "missing argument \"" + std::string(spec.params[call.args.size()].name) +
		                "\" for method \"" + spec.name + "\"",
		            MethodUsage(spec));
	return call;
}

void LabelParser::FailArg(const Token &at, const MethodSpec &spec, const ParamSpec &param,
                          const std::string &problem)
{
	lexer_.Fail(at, ErrorKind::InvalidParameterValue, ArgumentMessage(spec, param, problem),
	            MethodUsage(spec));
}

double LabelParser::ParseDouble(const Token &number)
{
	double value = 0;
	const char *end = number.text.data() + number.text.size();
	if (std::from_chars(number.text.data(), end, value).ec != std::errc() || !std::isfinite(value))
		lexer_.Fail(number, ErrorKind::InvalidParameterValue,
		            "number " + number.text + " is out of range");
	return value;
}

/*
 * One argument, checked against its parameter: kind, choices, bounds.
 * Literal parameters keep what was written; their type-specific checks
 * need the column (validation, or the glue for constant).
 */
MethodArg LabelParser::ParseArg(const MethodSpec &spec, const ParamSpec &param)
{
	MethodArg arg;
	arg.kind = param.kind;
	if (param.kind == ArgKind::Interval) {
		const Token start = lexer_.Peek();
		if (start.kind != TokenKind::Number)
			FailArg(start, spec, param, "must be a delay such as 7 days");
		arg.interval = ReadDelay(lexer_, "argument \"" + std::string(param.name) + "\" of \"" +
		                                     spec.name + "\"");
		arg.text = arg.interval.ToString();
		return arg;
	}

	const Token token = lexer_.Next();
	arg.text = token.text;
	const bool integral =
	    token.kind == TokenKind::Number && token.text.find('.') == std::string::npos;
	switch (param.kind) {
	case ArgKind::Integer:
		if (!integral)
			FailArg(token, spec, param, "must be an integer, not " + DescribeToken(token));
		if (std::from_chars(token.text.data(), token.text.data() + token.text.size(), arg.integer)
		        .ec != std::errc())
			FailArg(token, spec, param,
			        IntegerProblem(param, token.text[0] == '-' ? INT64_MIN : INT64_MAX));
		if (std::string problem = IntegerProblem(param, arg.integer); !problem.empty())
			FailArg(token, spec, param, problem);
		arg.number = static_cast<double>(arg.integer);
		break;
	case ArgKind::Number:
		if (token.kind != TokenKind::Number)
			FailArg(token, spec, param, "must be a number, not " + DescribeToken(token));
		arg.number = ParseDouble(token);
		if (std::string problem = NumberProblem(param, arg.number); !problem.empty())
			FailArg(token, spec, param, problem);
		break;
	case ArgKind::String:
		if (token.kind != TokenKind::String)
			FailArg(token, spec, param, "must be a quoted string, not " + DescribeToken(token));
		break;
	case ArgKind::Identifier: {
		const char *choice = token.IsIdentifier() ? FindChoice(param, token.text) : nullptr;
		if (choice == nullptr)
			FailArg(token, spec, param, "cannot be " + DescribeToken(token));
		arg.text = choice;
		arg.kind = ArgKind::Identifier;
		break;
	}
	case ArgKind::Literal:
		if (integral &&
		    std::from_chars(token.text.data(), token.text.data() + token.text.size(), arg.integer)
		            .ec == std::errc()) {
			arg.kind = ArgKind::Integer;
			arg.number = static_cast<double>(arg.integer);
		} else if (token.kind == TokenKind::Number) {
			arg.kind = ArgKind::Number;
			arg.number = ParseDouble(token);
		} else if (token.kind == TokenKind::String) {
			arg.kind = ArgKind::String;
		} else if (token.IsIdentifier()) {
			arg.kind = ArgKind::Identifier;
		} else {
			FailArg(token, spec, param,
			        "must be a string, a number or a name, not " + DescribeToken(token));
		}
		break;
	case ArgKind::Interval:
		break; /* handled above */
	}
	return arg;
}

/*
 * minimize to G: a granularity word or a number is shorthand for
 * generalize(G); otherwise a method call, which must be idempotent since
 * it runs on every write, including rewrites of already minimized values.
 */
MethodCall LabelParser::ParseMinimize()
{
	const Token token = lexer_.Peek();
	const auto &words = DateGranularities();
	const bool granularity = token.kind == TokenKind::Word &&
	                         std::find(words.begin(), words.end(), token.text) != words.end();
	if (granularity || token.kind == TokenKind::Number) {
		MethodCall call;
		call.spec = FindMethod("generalize");
		call.args.push_back(ParseArg(*call.spec, call.spec->params[0]));
		return call;
	}
	MethodCall call = ParseMethodCall();
	if (!call.spec->idempotent)
		lexer_.Fail(token, ErrorKind::InvalidObjectDefinition,
		            "method \"" + std::string(call.spec->name) +
		                "\" cannot be used with \"minimize to\"",
		            "\"minimize to\" applies on every write, so it needs a method that leaves "
		            "its own output unchanged: " +
		                MethodNames(true));
	return call;
}

/*
 * subject NAME, subject NAME(col, ...) for the subject table itself, or
 * subject NAME via col, ... for the foreign key leading to it.
 */
SubjectClause LabelParser::ParseSubject(std::vector<ColumnRef> *refs)
{
	SubjectClause subject;
	subject.subject = ExpectIdentifier("a subject name").text;
	if (lexer_.Peek().kind == TokenKind::LParen) {
		lexer_.Next();
		subject.role = SubjectClause::Role::Identity;
		subject.columns = ParseColumnList(refs);
		const Token close = lexer_.Next();
		if (close.kind != TokenKind::RParen)
			lexer_.Fail(close, ErrorKind::SyntaxError,
			            "expected \",\" or \")\" but found " + DescribeToken(close),
			            "write subject customer(id)");
	} else if (lexer_.Peek().IsKeyword("via")) {
		lexer_.Next();
		subject.columns = ParseColumnList(refs);
	}
	return subject;
}

TablePolicy LabelParser::ParseTable()
{
	TablePolicy policy;
	ParseClauses(kTableClauses, kColumnClauses, "table", [&](std::string_view clause) {
		if (clause == "subject") {
			policy.subject = ParseSubject(&policy.column_refs);
		} else if (clause == "age") {
			const Token column = ExpectIdentifier("the age column");
			policy.column_refs.push_back(ColumnRef{column.offset, column.length, column.text});
			policy.age_column = column.text;
		} else if (clause == "archive") {
			policy.archive_after = ReadDelay(lexer_, "\"archive after\"");
		} else if (clause == "purge") {
			policy.purge_after = ReadDelay(lexer_, "\"purge after\"");
		} else if (clause == "on") {
			policy.on_forget = ParseForgetAction();
		} else if (clause == "purpose") {
			policy.purpose = ParseString("purpose");
		} else {
			policy.basis = ParseBasis();
		}
	});
	return policy;
}

ColumnPolicy LabelParser::ParseColumn()
{
	ColumnPolicy policy;
	ParseClauses(kColumnClauses, kTableClauses, "column", [&](std::string_view clause) {
		if (clause == "minimize") {
			policy.minimize = ParseMinimize();
		} else if (clause == "anonymize") {
			policy.anonymize_after = ReadDelay(lexer_, "\"anonymize after\"");
			ExpectKeyword("using", "anonymize after <delay> using <method>");
			policy.anonymize_using = ParseMethodCall();
		} else if (clause == "purge") {
			policy.purge_after = ReadDelay(lexer_, "\"purge after\"");
		} else if (clause == "personal") {
			policy.personal = true;
		} else if (clause == "purpose") {
			policy.purpose = ParseString("purpose");
		} else {
			policy.basis = ParseBasis();
		}
	});
	return policy;
}

} // namespace

TablePolicy ParseTableLabel(std::string_view label)
{
	return LabelParser(label).ParseTable();
}

ColumnPolicy ParseColumnLabel(std::string_view label)
{
	return LabelParser(label).ParseColumn();
}

} // namespace pg_retention
