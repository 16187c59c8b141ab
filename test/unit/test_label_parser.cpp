/*-------------------------------------------------------------------------
 *
 * test_label_parser.cpp
 *		Unit tests for the retention label grammar: every clause, names,
 *		method calls and their arguments, canonical text, and the errors a
 *		user gets for a mistyped label (kind, message, position, hint).
 *
 * IDENTIFICATION
 *		test/unit/test_label_parser.cpp
 *-------------------------------------------------------------------------
 */
#include <gtest/gtest.h>

#include <string>

#include "label_test_helpers.hpp"
#include "label/policy.hpp"

namespace pg_retention
{
namespace
{

constexpr const char *kContactLabel =
    "subject customer(id); age from last_seen_at; archive after 2 years; purge after 6 years;\n"
    "   purpose 'customer relationship'; basis contract";

Error TableError(const std::string &label)
{
	return ErrorOf([&] { ParseTableLabel(label); });
}

Error ColumnError(const std::string &label)
{
	return ErrorOf([&] { ParseColumnLabel(label); });
}

std::string CanonicalTable(const std::string &label)
{
	return ToLabel(ParseTableLabel(label));
}
std::string CanonicalColumn(const std::string &label)
{
	return ToLabel(ParseColumnLabel(label));
}

/* --- table clauses --- */

TEST(LabelParseTable, ReadsTheDocumentedContactLabel)
{
	const TablePolicy p = ParseTableLabel(kContactLabel);
	ASSERT_TRUE(p.subject);
	EXPECT_EQ(p.subject->subject, "customer");
	EXPECT_EQ(p.subject->role, SubjectClause::Role::Identity);
	EXPECT_EQ(p.subject->columns, std::vector<std::string>{"id"});
	EXPECT_EQ(p.age_column, "last_seen_at");
	EXPECT_EQ(p.archive_after, (Delay{24, 0}));
	EXPECT_EQ(p.purge_after, (Delay{72, 0}));
	EXPECT_FALSE(p.on_forget);
	EXPECT_EQ(p.purpose, "customer relationship");
	EXPECT_EQ(p.basis, LegalBasis::Contract);
}

TEST(LabelParseTable, ReadsASubjectReachedThroughForeignKeyColumns)
{
	const TablePolicy p = ParseTableLabel(
	    "subject customer via customer_id, region; age from ordered_at; purge after 10 years; "
	    "on forget anonymize");
	ASSERT_TRUE(p.subject);
	EXPECT_EQ(p.subject->role, SubjectClause::Role::Belongs);
	EXPECT_EQ(p.subject->columns, (std::vector<std::string>{"customer_id", "region"}));
	EXPECT_EQ(p.on_forget, ForgetAction::Anonymize);
}

TEST(LabelParseTable, ASubjectWithoutPathLeavesItToBeInferred)
{
	const TablePolicy p = ParseTableLabel("subject customer");
	ASSERT_TRUE(p.subject);
	EXPECT_EQ(p.subject->role, SubjectClause::Role::Belongs);
	EXPECT_TRUE(p.subject->columns.empty());
}

TEST(LabelParseTable, ReadsEveryForgetActionAndLawfulBasis)
{
	EXPECT_EQ(ParseTableLabel("on forget delete").on_forget, ForgetAction::Delete);
	EXPECT_EQ(ParseTableLabel("on forget keep").on_forget, ForgetAction::Keep);
	for (const char *basis : {"consent", "contract", "legal_obligation", "vital_interests",
	                          "public_task", "legitimate_interests"}) {
		const TablePolicy p = ParseTableLabel(std::string("basis ") + basis);
		ASSERT_TRUE(p.basis);
		EXPECT_STREQ(LegalBasisName(*p.basis), basis);
	}
}

TEST(LabelParseTable, KeywordsAreCaseInsensitiveAndNamesFolded)
{
	const TablePolicy p =
	    ParseTableLabel("SUBJECT Customer(ID);\n\tAge From Last_Seen_At ; PURGE AFTER 2 YEARS;");
	EXPECT_EQ(p.subject->subject, "customer");
	EXPECT_EQ(p.subject->columns, std::vector<std::string>{"id"});
	EXPECT_EQ(p.age_column, "last_seen_at");
	EXPECT_EQ(p.purge_after, (Delay{24, 0}));
}

TEST(LabelParseTable, QuotedNamesKeepTheirCaseAndEscapes)
{
	const TablePolicy p =
	    ParseTableLabel("subject \"Client\"(\"Key \"\"A\"\"\"); age from \"from\"");
	EXPECT_EQ(p.subject->subject, "Client");
	EXPECT_EQ(p.subject->columns, std::vector<std::string>{"Key \"A\""});
	EXPECT_EQ(p.age_column, "from");
}

TEST(LabelParseTable, UnicodeLettersNeedNoQuotes)
{
	const TablePolicy p = ParseTableLabel("subject client(numéro); age from dernière_visite");
	EXPECT_EQ(p.subject->columns, std::vector<std::string>{"numéro"});
	EXPECT_EQ(p.age_column, "dernière_visite");
	/* only ASCII letters fold, as in PostgreSQL with a multibyte encoding */
	EXPECT_EQ(ParseTableLabel("age from ÉTÉ_Date").age_column, "ÉtÉ_date");
}

TEST(LabelParseTable, StringsUnescapeDoubledQuotes)
{
	EXPECT_EQ(ParseTableLabel("purpose 'it''s the law'").purpose, "it's the law");
}

TEST(LabelParseTable, RecordsWhereEveryColumnNameStands)
{
	const std::string label =
	    "subject customer via \"Cust_Id\", régionné; age from seen_at; purge after 1 year";
	const TablePolicy p = ParseTableLabel(label);
	ASSERT_EQ(p.column_refs.size(), 3u);
	EXPECT_EQ(p.column_refs[0].name, "Cust_Id");
	EXPECT_EQ(label.substr(p.column_refs[0].offset, p.column_refs[0].length), "\"Cust_Id\"");
	EXPECT_EQ(p.column_refs[1].name, "régionné");
	EXPECT_EQ(label.substr(p.column_refs[1].offset, p.column_refs[1].length), "régionné");
	EXPECT_EQ(p.column_refs[2].name, "seen_at");
	EXPECT_EQ(label.substr(p.column_refs[2].offset, p.column_refs[2].length), "seen_at");
}

TEST(LabelParseTable, ColumnRefsAllowARenameInPlace)
{
	std::string label = "subject customer(id); age from seen_at";
	const TablePolicy before = ParseTableLabel(label);
	const ColumnRef &age = before.column_refs.back();
	label.replace(age.offset, age.length, "\"Last Seen\"");
	EXPECT_EQ(ParseTableLabel(label).age_column, "Last Seen");
	EXPECT_EQ(ParseTableLabel(label).subject->columns, std::vector<std::string>{"id"});
}

/* --- column clauses and methods --- */

TEST(LabelParseColumn, ReadsAnonymizeWithAMethodWithoutParentheses)
{
	const ColumnPolicy p = ParseColumnLabel("anonymize after 1 year using hash");
	EXPECT_EQ(p.anonymize_after, (Delay{12, 0}));
	ASSERT_TRUE(p.anonymize_using);
	EXPECT_STREQ(p.anonymize_using->spec->name, "hash");
	EXPECT_TRUE(p.anonymize_using->args.empty());
}

TEST(LabelParseColumn, ReadsPositionalArgumentsOfEachKind)
{
	const ColumnPolicy p =
	    ParseColumnLabel("anonymize after 6 months using partial(2, '*', 2); purge after 3 years");
	ASSERT_EQ(p.anonymize_using->args.size(), 3u);
	EXPECT_EQ(p.anonymize_using->args[0].kind, ArgKind::Integer);
	EXPECT_EQ(p.anonymize_using->args[0].integer, 2);
	EXPECT_EQ(p.anonymize_using->args[1].kind, ArgKind::String);
	EXPECT_EQ(p.anonymize_using->args[1].text, "*");
	EXPECT_EQ(p.purge_after, (Delay{36, 0}));

	const MethodCall hash =
	    *ParseColumnLabel("anonymize after 1 day using Hash(BASE64, 16)").anonymize_using;
	EXPECT_EQ(hash.args[0].kind, ArgKind::Identifier);
	EXPECT_EQ(hash.args[0].text, "base64");
	EXPECT_EQ(hash.args[1].integer, 16);

	const MethodCall noise =
	    *ParseColumnLabel("anonymize after 1 day using noise(0.25)").anonymize_using;
	EXPECT_EQ(noise.args[0].kind, ArgKind::Number);
	EXPECT_DOUBLE_EQ(noise.args[0].number, 0.25);

	const MethodCall jitter =
	    *ParseColumnLabel("anonymize after 1 day using jitter(2 weeks 1 day)").anonymize_using;
	EXPECT_EQ(jitter.args[0].kind, ArgKind::Interval);
	EXPECT_EQ(jitter.args[0].interval, (Delay{0, 15}));
}

TEST(LabelParseColumn, LiteralArgumentsKeepTheKindAsWritten)
{
	const auto arg = [](const char *label) {
		return ParseColumnLabel(label).anonymize_using->args.at(0);
	};
	EXPECT_EQ(arg("anonymize after 1 day using constant('n/a')").kind, ArgKind::String);
	EXPECT_EQ(arg("anonymize after 1 day using constant(-3)").kind, ArgKind::Integer);
	EXPECT_EQ(arg("anonymize after 1 day using constant(-3)").integer, -3);
	EXPECT_EQ(arg("anonymize after 1 day using constant(2.5)").kind, ArgKind::Number);
	EXPECT_EQ(arg("anonymize after 1 day using generalize(Decade)").kind, ArgKind::Identifier);
	EXPECT_EQ(arg("anonymize after 1 day using generalize(Decade)").text, "decade");
}

TEST(LabelParseColumn, MinimizeToAGranularityOrStepIsGeneralize)
{
	const MethodCall byWord = *ParseColumnLabel("minimize to month_day").minimize;
	EXPECT_STREQ(byWord.spec->name, "generalize");
	EXPECT_EQ(byWord.args.at(0).kind, ArgKind::Identifier);
	EXPECT_EQ(byWord.args.at(0).text, "month_day");

	const MethodCall byStep = *ParseColumnLabel("minimize to 10").minimize;
	EXPECT_STREQ(byStep.spec->name, "generalize");
	EXPECT_EQ(byStep.args.at(0).kind, ArgKind::Integer);
	EXPECT_EQ(byStep.args.at(0).integer, 10);
}

TEST(LabelParseColumn, MinimizeAcceptsIdempotentMethodCalls)
{
	EXPECT_STREQ(ParseColumnLabel("minimize to ip_prefix(24)").minimize->spec->name, "ip_prefix");
	EXPECT_STREQ(ParseColumnLabel("minimize to nullify").minimize->spec->name, "nullify");
	EXPECT_STREQ(ParseColumnLabel("minimize to mask_email()").minimize->spec->name, "mask_email");
}

TEST(LabelParseColumn, ReadsPersonalPurposeAndBasis)
{
	const ColumnPolicy p = ParseColumnLabel("personal; purpose 'support'; basis consent;");
	EXPECT_TRUE(p.personal);
	EXPECT_EQ(p.purpose, "support");
	EXPECT_EQ(p.basis, LegalBasis::Consent);
}

/* --- canonical text --- */

TEST(LabelCanonical, TableClausesComeInDocumentationOrder)
{
	EXPECT_EQ(CanonicalTable("basis contract; purge after 72 months; subject customer(id);"
	                         "archive after 24 months; age from last_seen_at; "
	                         "purpose 'customer relationship'"),
	          "subject customer(id); age from last_seen_at; archive after 2 years; "
	          "purge after 6 years; purpose 'customer relationship'; basis contract");
	EXPECT_EQ(CanonicalTable("SUBJECT Customer VIA A,B; on forget KEEP"),
	          "subject customer via a, b; on forget keep");
}

TEST(LabelCanonical, QuotesNamesOnlyWhenNeeded)
{
	EXPECT_EQ(CanonicalTable("age from \"seen_at\""), "age from seen_at");
	EXPECT_EQ(CanonicalTable("age from \"Seen\""), "age from \"Seen\"");
	EXPECT_EQ(CanonicalTable("age from \"from\""), "age from \"from\"");
	EXPECT_EQ(CanonicalTable("age from \"a b\"\"c\""), "age from \"a b\"\"c\"");
	EXPECT_EQ(CanonicalTable("age from \"1st\""), "age from \"1st\"");
	EXPECT_EQ(CanonicalTable("age from été"), "age from été");
	EXPECT_EQ(CanonicalTable("purpose 'it''s'"), "purpose 'it''s'");
}

TEST(LabelCanonical, ColumnMethodsAreNormalized)
{
	EXPECT_EQ(CanonicalColumn("anonymize after 18 months using HASH(HEX, 012)"),
	          "anonymize after 1 year 6 months using hash(hex, 12)");
	EXPECT_EQ(CanonicalColumn("anonymize after 1 week using jitter(14 days)"),
	          "anonymize after 7 days using jitter(14 days)");
	EXPECT_EQ(CanonicalColumn("minimize to generalize(month_day)"), "minimize to month_day");
	EXPECT_EQ(CanonicalColumn("minimize to generalize('year')"), "minimize to generalize('year')");
	EXPECT_EQ(CanonicalColumn("minimize to constant(\"Keep\")"), "minimize to constant(\"Keep\")");
	EXPECT_EQ(CanonicalColumn("minimize to mask_email()"), "minimize to mask_email");
	EXPECT_EQ(CanonicalColumn("basis consent; personal; purge after 3 years"),
	          "purge after 3 years; personal; basis consent");
}

TEST(LabelCanonical, CanonicalTextParsesBackToTheSameText)
{
	for (const char *label :
	     {kContactLabel, "subject \"Client\" via \"Key\"; on forget delete",
	      "subject customer; purpose 'a ''quoted'' word'", "age from ÉTÉ; archive after 1 day"}) {
		const std::string once = CanonicalTable(label);
		EXPECT_EQ(CanonicalTable(once), once) << label;
	}
	for (const char *label :
	     {"anonymize after 6 months using partial(2, '*', 2); purge after 3 years",
	      "minimize to -0.5", "minimize to constant(\"delete\")",
	      "anonymize after 1 year using fake_email(fr, random); personal; basis public_task"}) {
		const std::string once = CanonicalColumn(label);
		EXPECT_EQ(CanonicalColumn(once), once) << label;
	}
}

/* --- syntax errors --- */

TEST(LabelErrors, UnknownClauseListsTheClauses)
{
	const Error e = TableError("age from seen; subjekt customer");
	EXPECT_EQ(e.kind(), ErrorKind::SyntaxError);
	EXPECT_STREQ(e.what(), "unknown clause \"subjekt\" in retention label");
	EXPECT_EQ(PositionOf(e), 16u);
	EXPECT_EQ(TextAtCaret(e), "subjekt customer");
	EXPECT_EQ(e.hint(), "expected one of: subject, age from, archive after, purge after, "
	                    "on forget, purpose, basis");
	EXPECT_EQ(ColumnError("forget").hint(),
	          "expected one of: minimize to, anonymize after, purge after, personal, purpose, "
	          "basis");
}

TEST(LabelErrors, ClauseOfTheOtherLevelIsNamed)
{
	const Error onTable = TableError("minimize to year");
	EXPECT_EQ(onTable.kind(), ErrorKind::SyntaxError);
	EXPECT_STREQ(onTable.what(), "clause \"minimize to\" is not allowed in a table label");
	const Error onColumn = ColumnError("personal; age from x");
	EXPECT_STREQ(onColumn.what(), "clause \"age from\" is not allowed in a column label");
	EXPECT_EQ(PositionOf(onColumn), 11u);
}

TEST(LabelErrors, DuplicateClausePointsAtTheSecond)
{
	const Error e = TableError("purge after 1 year; PURGE after 2 years");
	EXPECT_EQ(e.kind(), ErrorKind::SyntaxError);
	EXPECT_STREQ(e.what(), "clause \"purge after\" given twice in retention label");
	EXPECT_EQ(PositionOf(e), 21u);
}

TEST(LabelErrors, MissingOrExtraWords)
{
	const Error second = TableError("age since x");
	EXPECT_EQ(second.kind(), ErrorKind::SyntaxError);
	EXPECT_STREQ(second.what(), "expected \"from\" after \"age\" but found \"since\"");

	const Error separator = TableError("age from x purge after 1 year");
	EXPECT_EQ(separator.kind(), ErrorKind::SyntaxError);
	EXPECT_STREQ(separator.what(), "unexpected \"purge\" after clause \"age from\"");
	EXPECT_EQ(PositionOf(separator), 12u);

	const Error delay = TableError("purge after");
	EXPECT_STREQ(delay.what(), "expected a delay but found end of label");
	EXPECT_EQ(PositionOf(delay), 12u);

	const Error usingWord = ColumnError("anonymize after 1 year with hash");
	EXPECT_STREQ(usingWord.what(), "expected \"using\" but found \"with\"");

	EXPECT_EQ(TableError("age from 'x'").kind(), ErrorKind::SyntaxError);
	EXPECT_EQ(TableError("subject customer(id").kind(), ErrorKind::SyntaxError);
	EXPECT_EQ(TableError("subject customer via").kind(), ErrorKind::SyntaxError);
	EXPECT_EQ(TableError("purpose billing").kind(), ErrorKind::SyntaxError);
	EXPECT_EQ(TableError("age from x;;").kind(), ErrorKind::SyntaxError);
	EXPECT_EQ(TableError(";").kind(), ErrorKind::SyntaxError);
}

TEST(LabelErrors, EmptyLabelSuggestsIsNull)
{
	const Error e = TableError("  \n ");
	EXPECT_EQ(e.kind(), ErrorKind::SyntaxError);
	EXPECT_STREQ(e.what(), "empty retention label");
	EXPECT_NE(e.hint().find("IS NULL"), std::string::npos);
}

TEST(LabelErrors, UnterminatedQuotesPointAtTheOpeningQuote)
{
	const Error str = TableError("purpose 'billing");
	EXPECT_EQ(str.kind(), ErrorKind::SyntaxError);
	EXPECT_STREQ(str.what(), "unterminated quoted string in retention label");
	EXPECT_EQ(PositionOf(str), 9u);

	const Error ident = TableError("age from \"Seen");
	EXPECT_STREQ(ident.what(), "unterminated quoted identifier in retention label");
	EXPECT_EQ(PositionOf(ident), 10u);

	EXPECT_EQ(TableError("age from \"\"").kind(), ErrorKind::SyntaxError);
}

TEST(LabelErrors, UnexpectedCharacter)
{
	const Error e = TableError("age from seen.at");
	EXPECT_EQ(e.kind(), ErrorKind::SyntaxError);
	EXPECT_STREQ(e.what(), "unexpected character \".\" in retention label");
	EXPECT_EQ(PositionOf(e), 14u);
	EXPECT_STREQ(TableError(std::string("age from x\x01")).what(),
	             "unexpected character \"\\x01\" in retention label");
}

TEST(LabelErrors, ErrorsComeInTheOrderOfTheText)
{
	/* the unterminated quote comes after the unknown clause */
	EXPECT_STREQ(TableError("bogus; purpose 'x").what(),
	             "unknown clause \"bogus\" in retention label");
}

/* --- method and argument errors --- */

TEST(LabelErrors, UnknownMethodSuggestsTheClosestName)
{
	const Error e = ColumnError("anonymize after 1 year using hsh");
	EXPECT_EQ(e.kind(), ErrorKind::UndefinedObject);
	EXPECT_STREQ(e.what(), "unknown method \"hsh\" in retention label");
	EXPECT_EQ(e.detail(), "at position 30: anonymize after 1 year using hsh\n" +
	                          std::string(16 + 29, ' ') + "^");
	EXPECT_EQ(e.hint(), "did you mean \"hash\"?");
	EXPECT_EQ(ColumnError("anonymize after 1 year using shred").hint().rfind("methods: hash", 0),
	          0u);
}

TEST(LabelErrors, WrongArgumentsNameTheParameter)
{
	const Error choice = ColumnError("anonymize after 1 year using hash(sha1)");
	EXPECT_EQ(choice.kind(), ErrorKind::InvalidParameterValue);
	EXPECT_STREQ(choice.what(), "argument \"encoding\" of method \"hash\" cannot be \"sha1\"");
	EXPECT_EQ(TextAtCaret(choice), "sha1)");
	EXPECT_EQ(choice.hint(), "hash takes encoding (hex, base64 or base32, optional), "
	                         "length (integer 8 to 64, optional)");

	const Error range = ColumnError("anonymize after 1 year using hash(hex, 4)");
	EXPECT_STREQ(range.what(), "argument \"length\" of method \"hash\" must be between 8 and 64");
	EXPECT_EQ(TextAtCaret(range), "4)");

	const Error kind = ColumnError("anonymize after 1 year using partial('2', '*', 2)");
	EXPECT_STREQ(kind.what(),
	             "argument \"prefix\" of method \"partial\" must be an integer, not string '2'");

	EXPECT_STREQ(ColumnError("anonymize after 1 year using noise(11)").what(),
	             "argument \"ratio\" of method \"noise\" must be between 0 and 10");
	EXPECT_EQ(ColumnError("anonymize after 1 year using ip_prefix(129)").kind(),
	          ErrorKind::InvalidParameterValue);
	EXPECT_EQ(
	    ColumnError("anonymize after 1 year using partial(99999999999999999999, '', 1)").kind(),
	    ErrorKind::InvalidParameterValue);
	EXPECT_EQ(ColumnError("anonymize after 1 year using jitter('7 days')").kind(),
	          ErrorKind::InvalidParameterValue);
	EXPECT_STREQ(ColumnError("anonymize after 1 year using jitter(0 days)").what(),
	             "delay of argument \"range\" of \"jitter\" must be positive");
}

TEST(LabelErrors, MissingAndExtraArguments)
{
	const Error missing = ColumnError("anonymize after 1 year using partial(2, '*')");
	EXPECT_EQ(missing.kind(), ErrorKind::InvalidParameterValue);
	EXPECT_STREQ(missing.what(), "missing argument \"suffix\" for method \"partial\"");
	EXPECT_EQ(TextAtCaret(missing), ")");

	const Error bare = ColumnError("anonymize after 1 year using partial");
	EXPECT_STREQ(bare.what(), "missing argument \"prefix\" for method \"partial\"");
	EXPECT_EQ(TextAtCaret(bare), "partial");

	const Error extra = ColumnError("anonymize after 1 year using mask_email(1)");
	EXPECT_STREQ(extra.what(), "too many arguments for method \"mask_email\"");
	EXPECT_EQ(extra.hint(), "mask_email takes no arguments");

	EXPECT_EQ(ColumnError("anonymize after 1 year using partial(1, '*', 2, 3)").kind(),
	          ErrorKind::InvalidParameterValue);
	EXPECT_EQ(ColumnError("anonymize after 1 year using partial(1, '*',)").kind(),
	          ErrorKind::InvalidParameterValue);
	EXPECT_EQ(ColumnError("anonymize after 1 year using partial(1 '*' 2)").kind(),
	          ErrorKind::SyntaxError);
}

TEST(LabelErrors, MinimizeRefusesMethodsThatAreNotIdempotent)
{
	const Error e = ColumnError("minimize to hash");
	EXPECT_EQ(e.kind(), ErrorKind::InvalidObjectDefinition);
	EXPECT_STREQ(e.what(), "method \"hash\" cannot be used with \"minimize to\"");
	EXPECT_EQ(PositionOf(e), 13u);
	EXPECT_NE(e.hint().find("generalize, ip_prefix, nullify, constant, redact"), std::string::npos);
}

TEST(LabelErrors, BadDelaysAndValues)
{
	const Error zero = TableError("purge after 0 days");
	EXPECT_EQ(zero.kind(), ErrorKind::InvalidParameterValue);
	EXPECT_STREQ(zero.what(), "delay of \"purge after\" must be positive");
	EXPECT_EQ(PositionOf(zero), 13u);
	EXPECT_EQ(TableError("archive after -1 year").kind(), ErrorKind::InvalidParameterValue);
	EXPECT_EQ(TableError("archive after 1.5 years").kind(), ErrorKind::InvalidParameterValue);
	EXPECT_EQ(TableError("archive after 3 hours").kind(), ErrorKind::SyntaxError);

	const Error basis = TableError("basis whim");
	EXPECT_EQ(basis.kind(), ErrorKind::InvalidParameterValue);
	EXPECT_STREQ(basis.what(), "invalid lawful basis \"whim\" in retention label");
	EXPECT_EQ(basis.hint(), "expected consent, contract, legal_obligation, vital_interests, "
	                        "public_task or legitimate_interests (GDPR Art. 6)");

	const Error forget = TableError("on forget erase");
	EXPECT_EQ(forget.kind(), ErrorKind::InvalidParameterValue);
	EXPECT_EQ(forget.hint(), "expected delete, anonymize or keep");

	EXPECT_EQ(TableError("purpose ''").kind(), ErrorKind::InvalidParameterValue);
	EXPECT_EQ(TableError("subject customer(id, ID)").kind(), ErrorKind::InvalidParameterValue);
}

/* --- positions --- */

TEST(LabelErrors, PositionsCountCharactersNotBytes)
{
	const Error e = TableError("purpose 'été'; zzz");
	EXPECT_EQ(PositionOf(e), 16u);
	EXPECT_EQ(TextAtCaret(e), "zzz");
}

TEST(LabelErrors, MultiLineLabelsShowOnOneLine)
{
	const Error e = TableError("age from x;\n\tpurge after 1 fortnight");
	EXPECT_EQ(e.detail().substr(0, e.detail().find('\n')),
	          "at position 28: age from x;  purge after 1 fortnight");
	EXPECT_EQ(TextAtCaret(e), "fortnight");
}

TEST(LabelErrors, LongLabelsShowAWindowAroundThePosition)
{
	const std::string label = "purpose '" + std::string(200, 'x') + "'; basis whim; purpose '" +
	                          std::string(200, 'y') + "'";
	const Error e = TableError(label);
	EXPECT_EQ(PositionOf(e), 219u);
	EXPECT_EQ(TextAtCaret(e).substr(0, 4), "whim");
	const std::string line = e.detail().substr(0, e.detail().find('\n'));
	EXPECT_NE(line.find(": ...x"), std::string::npos) << line;
	EXPECT_EQ(line.substr(line.size() - 4), "y...");
	EXPECT_LT(line.size(), 100u);
}

TEST(LabelErrors, ErrorAtTheEndPointsJustPastTheText)
{
	const Error e = ColumnError("anonymize after 1 year using");
	EXPECT_EQ(PositionOf(e), 29u);
	EXPECT_EQ(TextAtCaret(e), "");
}

} // namespace
} // namespace pg_retention
