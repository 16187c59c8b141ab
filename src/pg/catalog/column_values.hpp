/*-------------------------------------------------------------------------
 *
 * column_values.hpp
 *		Values a rule writes, tried against its column before the rule is
 *		stored: a constant that is not a value of the column's type, or a
 *		method whose values break the column's domain, would make every run
 *		(or every INSERT) fail.
 *
 * IDENTIFICATION
 *		src/pg/catalog/column_values.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <string>
#include <vector>

#include "catalog/policy_store.hpp"

namespace pg_retention::pg
{

/*
 * Throws Error(DatatypeMismatch) on the first rule of `table` whose values
 * the column refuses:
 *  - constant(x) where x is not a valid value of the column's type, read by
 *    the type's input function with the column's modifier (varchar(3)) and
 *    domain constraints;
 *  - on a domain with CHECK constraints, any other method (but nullify)
 *    whose value for a sample input the domain refuses; the samples are a
 *    few fixed values of the column's kind and up to five of the table's
 *    own values, those the domain accepts.  Keyed methods are not tried
 *    without a server key; random methods are tried once per sample.
 * Everything tried is rolled back.  An error that says nothing about the
 * value (a privilege the table's owner lacks, ...) leaves the rule
 * accepted; a cancel goes on up.  `only`: the rules of that column alone.
 * Returns the columns whose method could not be tried on any sample (no
 * value the domain accepts): check() warns about them.
 */
std::vector<std::string> CheckDeclaredValues(const DeclaredTable &table,
                                             AttrNumber only = InvalidAttrNumber);

} // namespace pg_retention::pg
