/*-------------------------------------------------------------------------
 *
 * guard.cpp
 *		Turning C++ exceptions into PostgreSQL errors (see guard.hpp).
 *
 * IDENTIFICATION
 *		src/pg/boundary/guard.cpp
 *-------------------------------------------------------------------------
 */
#include <cstring>
#include <new>

#include "base/error.hpp"

#include "boundary/guard.hpp"

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

/*
 * Where PgTryCall copies the errors it catches: a child of
 * TopMemoryContext, so a PgError survives the commits and rollbacks made
 * while it travels (the engine records a cancel and commits before
 * re-raising it).  It is reset when an error is captured while no PgError
 * is alive: nothing can point into it then (CaughtError::pg_error is only
 * used between the end of a catch and its ReThrowError, with no PgCall in
 * between).  So it holds the errors of one handling at most.
 */
MemoryContext error_memory = nullptr;
int live_errors = 0; /* PgError objects alive, copies included */

} // namespace

PgError::PgError(ErrorData *edata) noexcept : edata_(edata)
{
	live_errors++;
}

PgError::PgError(const PgError &other) noexcept : std::exception(other), edata_(other.edata_)
{
	live_errors++;
}

PgError::~PgError()
{
	live_errors--;
}

const char *PgError::what() const noexcept
{
	return edata_ != nullptr && edata_->message != nullptr ? edata_->message : "PostgreSQL error";
}

bool IsInterrupt(const PgError &error) noexcept
{
	const ErrorData *edata = error.edata();
	return (edata != nullptr &&
	        ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION) ||
	       QueryCancelPending || ProcDiePending;
}

void RethrowIfInterrupt(const PgError &error)
{
	if (IsInterrupt(error))
		throw;
}

ErrorData *PgTryCall(void (*call)(void *), void *arg) noexcept
{
	MemoryContext volatile caller_context = CurrentMemoryContext;
	ErrorContextCallback *volatile context_stack = error_context_stack;
	ErrorData *volatile edata = nullptr;
	PG_TRY();
	{
		if (error_memory == nullptr)
			error_memory = AllocSetContextCreate(TopMemoryContext, "pg_retention errors",
			                                     ALLOCSET_SMALL_SIZES);
		call(arg);
	}
	PG_CATCH();
	{
		/* PG_CATCH restores the context stack already; say it where the rule lives */
		error_context_stack = context_stack;
		if (error_memory != nullptr && live_errors == 0)
			MemoryContextReset(error_memory);
		MemoryContextSwitchTo(error_memory != nullptr ? error_memory : caller_context);
		edata = CopyErrorData();
		MemoryContextSwitchTo(caller_context);
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
