/*-------------------------------------------------------------------------
 *
 * test_label_validate.cpp
 *		Unit tests for the semantic checks of labels against a table's
 *		columns: unknown columns, types, methods that do not fit, stages
 *		out of order and stages without an age column.
 *
 * IDENTIFICATION
 *		test/unit/test_label_validate.cpp
 *-------------------------------------------------------------------------
 */
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "label_test_helpers.hpp"
#include "label/policy.hpp"

namespace pg_retention
{
namespace
{

TableFacts Contact()
{
	TableFacts facts;
	facts.qualified_name = "crm.contact";
	facts.columns = {
	    {"id", TypeCategory::Integer, "bigint", true},
	    {"email", TypeCategory::Text, "text", false},
	    {"phone", TypeCategory::Text, "character varying", false},
	    {"birthday", TypeCategory::Date, "date", false},
	    {"last_seen_at", TypeCategory::Timestamp, "timestamp with time zone", true},
	    {"created_on", TypeCategory::Date, "date", true},
	    {"score", TypeCategory::Numeric, "numeric", false},
	    {"visits", TypeCategory::Integer, "integer", false},
	    {"ip", TypeCategory::Inet, "inet", false},
	    {"customer_id", TypeCategory::Integer, "bigint", false},
	    {"Notes", TypeCategory::Other, "jsonb", false},
	};
	return facts;
}

using Columns = std::vector<std::pair<std::string, ColumnPolicy>>;

Error TableCheckError(const std::string &table_label, const Columns &columns = {})
{
	const TablePolicy table = ParseTableLabel(table_label);
	return ErrorOf([&] { ValidateTable(Contact(), &table, columns); });
}

/* Validates `column` labelled `label` under the table label (none if empty). */
void CheckColumn(const std::string &table_label, const std::string &column,
                 const std::string &label)
{
	const ColumnPolicy policy = ParseColumnLabel(label);
	if (table_label.empty()) {
		ValidateColumn(Contact(), nullptr, column, policy);
		return;
	}
	const TablePolicy table = ParseTableLabel(table_label);
	ValidateColumn(Contact(), &table, column, policy);
}

Error ColumnCheckError(const std::string &table_label, const std::string &column,
                       const std::string &label)
{
	return ErrorOf([&] { CheckColumn(table_label, column, label); });
}

constexpr const char *kTable =
    "subject customer(id); age from last_seen_at; archive after 2 years; purge after 6 years";

TEST(LabelValidate, AcceptsTheDocumentedDeclarations)
{
	const TablePolicy table = ParseTableLabel(kTable);
	const Columns columns = {
	    {"email", ParseColumnLabel("anonymize after 1 year using hash")},
	    {"phone", ParseColumnLabel("anonymize after 6 months using partial(2, '*', 2); "
	                               "purge after 3 years")},
	    {"birthday", ParseColumnLabel("minimize to month_day")},
	    {"score", ParseColumnLabel("minimize to 0.5")},
	    {"visits", ParseColumnLabel("anonymize after 1 year using generalize(10)")},
	    {"ip", ParseColumnLabel("minimize to ip_prefix(24)")},
	    {"Notes", ParseColumnLabel("anonymize after 2 years using nullify")},
	    {"created_on", ParseColumnLabel("anonymize after 1 year using jitter(7 days)")},
	};
	EXPECT_NO_THROW(ValidateTable(Contact(), &table, columns));
}

TEST(LabelValidate, FindMatchesNamesExactly)
{
	const TableFacts facts = Contact();
	ASSERT_NE(facts.Find("Notes"), nullptr);
	EXPECT_EQ(facts.Find("Notes")->category, TypeCategory::Other);
	EXPECT_EQ(facts.Find("notes"), nullptr);
	EXPECT_EQ(facts.Find("EMAIL"), nullptr);
}

TEST(LabelValidate, UnknownAgeColumn)
{
	const Error e = TableCheckError("age from seen_at");
	EXPECT_EQ(e.kind(), ErrorKind::UndefinedColumn);
	EXPECT_STREQ(e.what(), "column \"seen_at\" named in \"age from\" does not exist");
	EXPECT_EQ(e.detail(), "table crm.contact has no column \"seen_at\".");
}

TEST(LabelValidate, AgeColumnMustBeADateOrTimestamp)
{
	const Error e = TableCheckError("age from email");
	EXPECT_EQ(e.kind(), ErrorKind::DatatypeMismatch);
	EXPECT_STREQ(e.what(), "age column \"email\" must be a date or timestamp");
	EXPECT_EQ(e.detail(), "column \"email\" of crm.contact is of type text.");
	EXPECT_EQ(e.hint(), "date and timestamp columns of crm.contact: birthday, last_seen_at, "
	                    "created_on");
}

TEST(LabelValidate, UnknownKeyOrViaColumn)
{
	const Error key = TableCheckError("subject customer(ident)");
	EXPECT_EQ(key.kind(), ErrorKind::UndefinedColumn);
	EXPECT_STREQ(key.what(), "column \"ident\" named in \"subject\" does not exist");
	const Error via = TableCheckError("subject customer via id, cust");
	EXPECT_EQ(via.kind(), ErrorKind::UndefinedColumn);
	EXPECT_STREQ(via.what(), "column \"cust\" named in \"via\" does not exist");
}

TEST(LabelValidate, TableStagesNeedAnAgeColumn)
{
	const Error e = TableCheckError("subject customer(id); purge after 6 years");
	EXPECT_EQ(e.kind(), ErrorKind::InvalidObjectDefinition);
	EXPECT_STREQ(e.what(), "\"purge after\" needs an age column");
	EXPECT_EQ(e.hint(), "declare \"age from <column>\" in the table's label");
}

TEST(LabelValidate, TableArchiveMustNotExceedPurge)
{
	const Error e =
	    TableCheckError("age from created_on; archive after 7 years; purge after 6 years");
	EXPECT_EQ(e.kind(), ErrorKind::InvalidObjectDefinition);
	EXPECT_STREQ(e.what(), "stages out of order for table crm.contact");
	EXPECT_EQ(e.detail(), "\"archive after 7 years\" exceeds \"purge after 6 years\".");
	EXPECT_EQ(e.hint(),
	          "\"archive after\" must not exceed \"purge after\": a row is archived before it is "
	          "purged.");
}

TEST(LabelValidate, DelaysWhoseOrderDependsOnTheDateAreRefused)
{
	const Error e =
	    TableCheckError("age from created_on; archive after 1 month; purge after 30 days");
	EXPECT_EQ(e.kind(), ErrorKind::InvalidObjectDefinition);
	EXPECT_EQ(e.detail(), "\"archive after 1 month\" can exceed \"purge after 30 days\" for some "
	                      "start dates (a month is 28 to 31 days).");
	const TablePolicy fine =
	    ParseTableLabel("age from created_on; archive after 1 month; purge after 31 days");
	EXPECT_NO_THROW(ValidateTable(Contact(), &fine, {}));
	const TablePolicy equal =
	    ParseTableLabel("age from created_on; archive after 1 year; purge after 12 months");
	EXPECT_NO_THROW(ValidateTable(Contact(), &equal, {}));
}

TEST(LabelValidate, ColumnAnonymizeMustNotExceedTheTableArchive)
{
	const Error e = ColumnCheckError("age from last_seen_at; archive after 1 year", "email",
	                                 "anonymize after 2 years using hash");
	EXPECT_EQ(e.kind(), ErrorKind::InvalidObjectDefinition);
	EXPECT_STREQ(e.what(), "stages out of order for column \"email\" of crm.contact");
	EXPECT_EQ(e.detail(), "\"anonymize after 2 years\" exceeds \"archive after 1 year\".");
}

TEST(LabelValidate, ColumnStagesAreOrderedAgainstEachOtherAndTheTablePurge)
{
	EXPECT_EQ(ColumnCheckError("age from last_seen_at", "email",
	                           "anonymize after 2 years using hash; purge after 1 year")
	              .detail(),
	          "\"anonymize after 2 years\" exceeds \"purge after 1 year\".");
	EXPECT_EQ(ColumnCheckError("age from last_seen_at; purge after 1 year", "email",
	                           "anonymize after 2 years using hash")
	              .detail(),
	          "\"anonymize after 2 years\" exceeds \"purge after 1 year\".");
	EXPECT_EQ(ColumnCheckError("age from last_seen_at; purge after 1 year", "email",
	                           "purge after 400 days")
	              .detail(),
	          "\"purge after 400 days\" exceeds \"purge after 1 year\".");
	EXPECT_NO_THROW(CheckColumn("age from last_seen_at; archive after 1 year; purge after 2 years",
	                            "email", "anonymize after 1 year using hash; purge after 2 years"));
}

TEST(LabelValidate, ColumnDelaysNeedTheTableAgeColumn)
{
	const Error none = ColumnCheckError("", "email", "anonymize after 1 year using hash");
	EXPECT_EQ(none.kind(), ErrorKind::InvalidObjectDefinition);
	EXPECT_STREQ(none.what(), "\"anonymize after\" needs an age column");
	EXPECT_EQ(none.hint(), "declare \"age from <column>\" in the table's label");
	EXPECT_EQ(ColumnCheckError("subject customer", "email", "purge after 1 year").kind(),
	          ErrorKind::InvalidObjectDefinition);
}

TEST(LabelValidate, ColumnLabelsWithoutDelaysNeedNoTableLabel)
{
	EXPECT_NO_THROW(CheckColumn("", "birthday", "minimize to month_day"));
	EXPECT_NO_THROW(CheckColumn("", "email", "personal; purpose 'newsletter'; basis consent"));
}

TEST(LabelValidate, MethodMustFitTheColumnType)
{
	const Error e = ColumnCheckError("", "id", "minimize to redact");
	EXPECT_EQ(e.kind(), ErrorKind::DatatypeMismatch);
	EXPECT_STREQ(e.what(), "method \"redact\" does not fit column \"id\" of crm.contact of type "
	                       "bigint");
	EXPECT_EQ(e.detail(), "\"minimize to\" uses redact, which applies to text columns.");
	EXPECT_EQ(e.hint(), "methods for integer columns: " + MethodNamesFor(TypeCategory::Integer));

	EXPECT_EQ(ColumnCheckError("age from last_seen_at", "email",
	                           "anonymize after 1 year using jitter(3 days)")
	              .kind(),
	          ErrorKind::DatatypeMismatch);
	EXPECT_EQ(ColumnCheckError("", "email", "minimize to ip_prefix(24)").kind(),
	          ErrorKind::DatatypeMismatch);
	EXPECT_EQ(ColumnCheckError("", "Notes", "minimize to mask_email").kind(),
	          ErrorKind::DatatypeMismatch);
	EXPECT_NO_THROW(CheckColumn("", "Notes", "minimize to constant('{}')"));
}

TEST(LabelValidate, GeneralizeGranularityDependsOnTheColumnType)
{
	EXPECT_NO_THROW(CheckColumn("", "birthday", "minimize to year"));
	EXPECT_NO_THROW(CheckColumn("", "last_seen_at", "minimize to generalize('decade')"));
	EXPECT_NO_THROW(CheckColumn("", "visits", "minimize to 5"));
	EXPECT_NO_THROW(CheckColumn("", "score", "minimize to 0.1"));

	const Error date = ColumnCheckError("", "birthday", "minimize to 10");
	EXPECT_EQ(date.kind(), ErrorKind::InvalidParameterValue);
	EXPECT_STREQ(date.what(),
	             "invalid granularity \"10\" for generalize on column \"birthday\" of crm.contact");
	EXPECT_EQ(date.hint(), "dates generalize to year, month, month_day or decade");

	EXPECT_EQ(ColumnCheckError("", "birthday", "minimize to generalize(week)").kind(),
	          ErrorKind::InvalidParameterValue);
	EXPECT_EQ(ColumnCheckError("", "visits", "minimize to year").kind(),
	          ErrorKind::InvalidParameterValue);
	EXPECT_EQ(ColumnCheckError("", "visits", "minimize to 0.5").kind(),
	          ErrorKind::InvalidParameterValue);
	EXPECT_EQ(ColumnCheckError("", "score", "minimize to -1").kind(),
	          ErrorKind::InvalidParameterValue);
	EXPECT_EQ(ColumnCheckError("", "score", "minimize to 0").kind(),
	          ErrorKind::InvalidParameterValue);
}

TEST(LabelValidate, TheAgeColumnItselfHasNoDelayedStages)
{
	const Error e = ColumnCheckError("age from last_seen_at", "last_seen_at",
	                                 "anonymize after 1 year using jitter(7 days)");
	EXPECT_EQ(e.kind(), ErrorKind::InvalidObjectDefinition);
	EXPECT_STREQ(e.what(), "\"anonymize after\" cannot apply to the age column");
	EXPECT_NO_THROW(CheckColumn("age from last_seen_at", "last_seen_at", "minimize to month"));
}

TEST(LabelValidate, UnknownLabelledColumn)
{
	const Error e = ColumnCheckError("", "mail", "personal");
	EXPECT_EQ(e.kind(), ErrorKind::UndefinedColumn);
	EXPECT_STREQ(e.what(), "column \"mail\" of crm.contact does not exist");
}

TEST(LabelValidate, DelaysBuiltInCodeAreCheckedToo)
{
	const TablePolicy table = ParseTableLabel("age from last_seen_at");
	ColumnPolicy policy;
	policy.purge_after = Delay{0, 0};
	const Error e = ErrorOf([&] { ValidateColumn(Contact(), &table, "email", policy); });
	EXPECT_EQ(e.kind(), ErrorKind::InvalidParameterValue);
	EXPECT_STREQ(e.what(), "delay of \"purge after\" must be positive");
}

TEST(LabelValidate, TableCheckReachesEveryLabelledColumn)
{
	const Error e = TableCheckError(
	    kTable, {{"email", ParseColumnLabel("personal")},
	             {"visits", ParseColumnLabel("anonymize after 1 year using hash")}});
	EXPECT_EQ(e.kind(), ErrorKind::DatatypeMismatch);
	EXPECT_NE(std::string(e.what()).find("column \"visits\""), std::string::npos);
}

} // namespace
} // namespace pg_retention
