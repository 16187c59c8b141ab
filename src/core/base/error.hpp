/*-------------------------------------------------------------------------
 *
 * error.hpp
 *		The one exception type src/core throws for user-facing errors.
 *
 *		It carries everything PostgreSQL's ereport needs (a SQLSTATE class,
 *		message, detail, hint) without knowing PostgreSQL: the glue layer
 *		(src/pg/guard.cpp) maps ErrorKind to an ERRCODE_* and reports it.
 *		Messages follow PostgreSQL style: lower case, no final period.
 *
 * IDENTIFICATION
 *		src/core/base/error.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <stdexcept>
#include <string>

#include "base/cpp_only.hpp"

namespace pg_retention
{

/* The SQLSTATE a core error maps to in the glue layer. */
enum class ErrorKind {
	SyntaxError,                  /* 42601 syntax_error: malformed label */
	InvalidParameterValue,        /* 22023 invalid_parameter_value */
	DatatypeMismatch,             /* 42804 datatype_mismatch: method does not fit column */
	UndefinedColumn,              /* 42703 undefined_column */
	UndefinedObject,              /* 42704 undefined_object: unknown method or subject */
	InvalidObjectDefinition,      /* 42P17: stages out of order, missing age column */
	NullValueNotAllowed,          /* 22004 */
	StringDataRightTruncation,    /* 22001 */
	InvalidTextRepresentation,    /* 22P02 */
	ConfigFileError,              /* F0000: key file or command unusable */
	ObjectNotInPrerequisiteState, /* 55000: e.g. no key configured */
	FeatureNotSupported,          /* 0A000 */
	InsufficientPrivilege,        /* 42501 */
	UndefinedTable,               /* 42P01 */
	Internal                      /* XX000: a bug */
};

class Error : public std::runtime_error
{
public:
	Error(ErrorKind kind, std::string message, std::string detail = {}, std::string hint = {})
	    : std::runtime_error(message), kind_(kind), detail_(std::move(detail)),
	      hint_(std::move(hint))
	{
	}

	ErrorKind kind() const noexcept { return kind_; }
	const std::string &detail() const noexcept { return detail_; }
	const std::string &hint() const noexcept { return hint_; }

private:
	ErrorKind kind_;
	std::string detail_;
	std::string hint_;
};

} // namespace pg_retention
