/*-------------------------------------------------------------------------
 *
 * label_printer.cpp
 *		Canonical text of parsed policies.
 *
 *		What `retention.policies` shows and what the glue writes back after a
 *		rename: clauses in documentation order, one space between words,
 *		delays as "1 year 6 months", names quoted only when they must be.
 *		Parsing the canonical text gives the same policy again, and printing
 *		that gives the same text (checked by the fuzzer).
 *
 * IDENTIFICATION
 *		src/core/label/label_printer.cpp
 *-------------------------------------------------------------------------
 */
#include "label/policy.hpp"

#include <algorithm>

#include "label/label_lexer.hpp"

namespace pg_retention
{

namespace
{

std::string ArgText(const MethodArg &arg)
{
	switch (arg.kind) {
	case ArgKind::Integer:
		return std::to_string(arg.integer);
	case ArgKind::String:
		return LabelString(arg.text);
	case ArgKind::Identifier:
		return LabelIdentifier(arg.text);
	case ArgKind::Interval:
		return arg.interval.ToString();
	case ArgKind::Number:
	case ArgKind::Literal:
		break;
	}
	return arg.text;
}

/*
 * "minimize to month_day" for generalize(month_day): the short form is
 * used only when it parses back to the same call (a number or a date
 * granularity word).
 */
std::string MinimizeText(const MethodCall &call)
{
	if (call.spec != nullptr && std::string_view(call.spec->name) == "generalize" &&
	    call.args.size() == 1) {
		const MethodArg &arg = call.args[0];
		const auto &words = DateGranularities();
		if (arg.kind == ArgKind::Integer || arg.kind == ArgKind::Number ||
		    (arg.kind == ArgKind::Identifier &&
		     std::find(words.begin(), words.end(), arg.text) != words.end()))
			return ArgText(arg);
	}
	return call.ToString();
}

/* Appends "; " and a clause. */
void AddClause(std::string &label, const std::string &clause)
{
	if (!label.empty())
		label += "; ";
	label += clause;
}

/* The clauses table and column labels share. */
void AddPurposeAndBasis(std::string &label, const std::optional<std::string> &purpose,
                        const std::optional<LegalBasis> &basis)
{
	if (purpose)
		AddClause(label, "purpose " + LabelString(*purpose));
	if (basis)
		AddClause(label, std::string("basis ") + LegalBasisName(*basis));
}

} // namespace

std::string MethodCall::ToString() const
{
	std::string text = spec != nullptr ? spec->name : "?";
	if (args.empty())
		return text;
	text += '(';
	for (size_t i = 0; i < args.size(); i++)
		text += (i == 0 ? "" : ", ") + ArgText(args[i]);
	return text + ')';
}

const char *ForgetActionName(ForgetAction a)
{
	switch (a) {
	case ForgetAction::Delete:
		return "delete";
	case ForgetAction::Anonymize:
		return "anonymize";
	case ForgetAction::Keep:
		return "keep";
	}
	return "delete";
}

const char *LegalBasisName(LegalBasis b)
{
	switch (b) {
	case LegalBasis::Consent:
		return "consent";
	case LegalBasis::Contract:
		return "contract";
	case LegalBasis::LegalObligation:
		return "legal_obligation";
	case LegalBasis::VitalInterests:
		return "vital_interests";
	case LegalBasis::PublicTask:
		return "public_task";
	case LegalBasis::LegitimateInterests:
		return "legitimate_interests";
	}
	return "consent";
}

std::string ToLabel(const TablePolicy &p)
{
	std::string label;
	if (p.subject) {
		const SubjectClause &s = *p.subject;
		std::string clause = "subject " + LabelIdentifier(s.subject);
		std::string columns;
		for (const std::string &c : s.columns)
			columns += (columns.empty() ? "" : ", ") + LabelIdentifier(c);
		if (s.role == SubjectClause::Role::Identity)
			clause += "(" + columns + ")";
		else if (!s.columns.empty())
			clause += " via " + columns;
		AddClause(label, clause);
	}
	if (p.age_column)
		AddClause(label, "age from " + LabelIdentifier(*p.age_column));
	if (p.archive_after)
		AddClause(label, "archive after " + p.archive_after->ToString());
	if (p.purge_after)
		AddClause(label, "purge after " + p.purge_after->ToString());
	if (p.on_forget)
		AddClause(label, std::string("on forget ") + ForgetActionName(*p.on_forget));
	AddPurposeAndBasis(label, p.purpose, p.basis);
	return label;
}

std::string ToLabel(const ColumnPolicy &p)
{
	std::string label;
	if (p.minimize)
		AddClause(label, "minimize to " + MinimizeText(*p.minimize));
	if (p.anonymize_after && p.anonymize_using)
		AddClause(label, "anonymize after " + p.anonymize_after->ToString() + " using " +
		                     p.anonymize_using->ToString());
	if (p.purge_after)
		AddClause(label, "purge after " + p.purge_after->ToString());
	if (p.personal)
		AddClause(label, "personal");
	AddPurposeAndBasis(label, p.purpose, p.basis);
	return label;
}

} // namespace pg_retention
