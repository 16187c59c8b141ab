/*-------------------------------------------------------------------------
 *
 * guard.cpp
 *		Turning C++ exceptions into PostgreSQL errors (see guard.hpp).
 *
 * IDENTIFICATION
 *		src/pg/guard.cpp
 *-------------------------------------------------------------------------
 */
#include <cstring>
#include <new>

#include "error.hpp"

#include "guard.hpp"

namespace pg_retention::pg
{

namespace
{

/* The SQLSTATE of each core error kind. */
int SqlStateOf(ErrorKind kind) noexcept
{
	switch (kind) {
	case ErrorKind::SyntaxError:
		return ERRCODE_SYNTAX_ERROR;
	case ErrorKind::InvalidParameterValue:
		return ERRCODE_INVALID_PARAMETER_VALUE;
	case ErrorKind::DatatypeMismatch:
		return ERRCODE_DATATYPE_MISMATCH;
	case ErrorKind::UndefinedColumn:
		return ERRCODE_UNDEFINED_COLUMN;
	case ErrorKind::UndefinedObject:
		return ERRCODE_UNDEFINED_OBJECT;
	case ErrorKind::InvalidObjectDefinition:
		return ERRCODE_INVALID_OBJECT_DEFINITION;
	case ErrorKind::NullValueNotAllowed:
		return ERRCODE_NULL_VALUE_NOT_ALLOWED;
	case ErrorKind::StringDataRightTruncation:
		return ERRCODE_STRING_DATA_RIGHT_TRUNCATION;
	case ErrorKind::InvalidTextRepresentation:
		return ERRCODE_INVALID_TEXT_REPRESENTATION;
	case ErrorKind::ConfigFileError:
		return ERRCODE_CONFIG_FILE_ERROR;
	case ErrorKind::ObjectNotInPrerequisiteState:
		return ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
	case ErrorKind::FeatureNotSupported:
		return ERRCODE_FEATURE_NOT_SUPPORTED;
	case ErrorKind::InsufficientPrivilege:
		return ERRCODE_INSUFFICIENT_PRIVILEGE;
	case ErrorKind::UndefinedTable:
		return ERRCODE_UNDEFINED_TABLE;
	case ErrorKind::Internal:
		break;
	}
	return ERRCODE_INTERNAL_ERROR;
}

/* strlcpy that tolerates a null source. */
void CopyText(char *dst, size_t size, const char *src) noexcept
{
	if (src == nullptr)
		src = "";
	strlcpy(dst, src, size);
}

} // namespace

const char *PgError::what() const noexcept
{
	return edata_ != nullptr && edata_->message != nullptr ? edata_->message : "PostgreSQL error";
}

ErrorData *PgTryCall(void (*call)(void *), void *arg) noexcept
{
	MemoryContext volatile caller_context = CurrentMemoryContext;
	ErrorData *volatile edata = nullptr;
	PG_TRY();
	{
		call(arg);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller_context);
		edata = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	return edata;
}

void CaptureCurrentException(CaughtError &out) noexcept
{
	out.caught = true;
	out.pg_error = nullptr;
	out.sqlerrcode = ERRCODE_INTERNAL_ERROR;
	out.message[0] = out.detail[0] = out.hint[0] = '\0';
	try {
		throw;
	} catch (const PgError &e) {
		out.pg_error = e.edata();
	} catch (const Error &e) {
		out.sqlerrcode = SqlStateOf(e.kind());
		CopyText(out.message, sizeof(out.message), e.what());
		CopyText(out.detail, sizeof(out.detail), e.detail().c_str());
		CopyText(out.hint, sizeof(out.hint), e.hint().c_str());
	} catch (const std::bad_alloc &) {
		out.sqlerrcode = ERRCODE_OUT_OF_MEMORY;
		CopyText(out.message, sizeof(out.message), "out of memory");
	} catch (const std::exception &e) {
		CopyText(out.message, sizeof(out.message), e.what());
	} catch (...) {
		CopyText(out.message, sizeof(out.message), "unknown C++ exception");
	}
}

void ReportCaught(const CaughtError &caught, const char *where)
{
	if (caught.pg_error != nullptr)
		ReThrowError(caught.pg_error);
	if (caught.sqlerrcode == ERRCODE_INTERNAL_ERROR)
		elog(ERROR, "pg_retention internal error in %s: %s", where, caught.message);
	ereport(ERROR, (errcode(caught.sqlerrcode), errmsg("%s", caught.message),
	                caught.detail[0] ? errdetail("%s", caught.detail) : 0,
	                caught.hint[0] ? errhint("%s", caught.hint) : 0));
	pg_unreachable();
}

} // namespace pg_retention::pg
