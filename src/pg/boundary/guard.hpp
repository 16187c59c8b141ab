/*-------------------------------------------------------------------------
 *
 * guard.hpp
 *		The C++/PostgreSQL boundary, in both directions.
 *
 *		1. Entry guard (PGR_FUNCTION, InvokeGuarded): every function that
 *		   PostgreSQL calls runs its body inside a catch-all.  A C++
 *		   exception becomes an ereport *after* the catch block has ended
 *		   and every C++ object of the body is destroyed; a PostgreSQL error
 *		   carried as PgError is re-thrown with ReThrowError, so the client
 *		   sees the original SQLSTATE, detail and hint.
 *		2. Call guard (PgCall): a call into PostgreSQL made while C++
 *		   objects are alive runs under its own sigsetjmp; an ereport becomes
 *		   a PgError exception, so C++ destructors run normally.
 *
 *		3. Error lifetime: the ErrorData a PgError carries is copied into
 *		   one long-lived memory context of the guard (PgTryCall), not into
 *		   the caller's: the lifecycle engine commits (SPI_commit frees the
 *		   transaction's contexts) between catching a cancel and re-raising
 *		   it.  That context is reset when the next error is captured while
 *		   no PgError is alive, so it holds at most the errors of one
 *		   handling, and PgError's destructor only counts (no PostgreSQL).
 *
 *		Rules of the boundary (they live here, nowhere else):
 *		- no throw crosses a PG_TRY; no ereport(ERROR) inside a catch or a
 *		  destructor; destructors do not call PostgreSQL;
 *		- the guards restore PG_exception_stack and error_context_stack
 *		  when they catch, so a frame that pushed a context callback and
 *		  was unwound by an exception leaves nothing dangling;
 *		- a cancel or a termination (SQLSTATE class 57, IsInterrupt) is
 *		  never swallowed: a loop that catches PgError per item and goes on
 *		  re-throws it first;
 *		- a relation is locked before it is opened (or read through the
 *		  syscache): never relation_open(..., NoLock) on a relation this
 *		  backend has not locked (assert-enabled builds check it).
 *
 * IDENTIFICATION
 *		src/pg/boundary/guard.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

#include "boundary/pg_headers.hpp"

namespace pg_retention::pg
{

/*
 * A PostgreSQL error caught by PgCall, travelling through C++ frames.  Its
 * ErrorData lives in the guard's error context (see 3. above) while any
 * PgError is alive: copies are counted, the destructor calls nothing.
 */
class PgError : public std::exception
{
public:
	explicit PgError(ErrorData *edata) noexcept;
	PgError(const PgError &other) noexcept;
	PgError &operator=(const PgError &other) noexcept = default;
	~PgError() override;
	ErrorData *edata() const noexcept { return edata_; }
	const char *what() const noexcept override;

private:
	ErrorData *edata_;
};

/*
 * A cancel, a timeout or a termination (SQLSTATE class 57, or one pending):
 * the work must stop, the error go on up.
 */
bool IsInterrupt(const PgError &error) noexcept;

/* Re-throws the PgError being handled if it is an interrupt; call it in a catch. */
void RethrowIfInterrupt(const PgError &error);

/*
 * What the entry guard captured from a C++ exception: fixed buffers, so
 * capturing inside a catch block never allocates nor calls PostgreSQL.
 */
struct CaughtError {
	ErrorData *pg_error;
	int sqlerrcode;
	bool caught;
	char message[1024];
	char detail[4096];
	char hint[1024];
};

/* Fills `out` from the exception being handled; noexcept, no PostgreSQL call. */
void CaptureCurrentException(CaughtError &out) noexcept;

/* Raises what CaptureCurrentException captured.  Never returns. */
[[noreturn]] void ReportCaught(const CaughtError &caught, const char *where);

/*
 * Runs fn(args...) and converts any exception into a PostgreSQL error.
 * Nothing C++ lives in this frame when ReportCaught longjmps.
 */
template <typename Fn, typename... Args>
auto InvokeGuarded(const char *where, Fn &&fn, Args &&...args) -> decltype(fn(args...))
{
	CaughtError caught;
	caught.caught = false;
	void *exception_stack = PG_exception_stack;
	ErrorContextCallback *context_stack = error_context_stack;
	try {
		return fn(std::forward<Args>(args)...);
	} catch (...) {
		CaptureCurrentException(caught);
	}
	/*
	 * A PG_TRY left by a C++ throw would leave a dangling jump target, and a
	 * context callback pushed by an unwound frame a dangling callback.
	 */
	PG_exception_stack = static_cast<sigjmp_buf *>(exception_stack);
	error_context_stack = context_stack;
	ReportCaught(caught, where);
}

/*
 * Calls call(arg) under PG_TRY; on an ereport(ERROR) restores the error
 * context stack and the memory context of the call, returns the error
 * copied into the guard's error context, and flushes it.  The sigsetjmp
 * lives in this one function's frame, so no caller's local can be
 * clobbered by the longjmp.
 */
ErrorData *PgTryCall(void (*call)(void *), void *arg) noexcept;

/*
 * Runs fn() -- which must only call PostgreSQL (C) code and must not throw --
 * and turns an ereport(ERROR) inside it into a PgError exception.
 */
template <typename Fn> auto PgCall(Fn &&fn) -> decltype(fn())
{
	using Result = decltype(fn());
	using Callable = std::remove_reference_t<Fn>;
	if constexpr (std::is_void_v<Result>) {
		ErrorData *edata = PgTryCall([](void *f) { (*static_cast<Callable *>(f))(); },
		                             const_cast<void *>(static_cast<const void *>(&fn)));
		if (edata != nullptr)
			throw PgError(edata);
	} else {
		static_assert(std::is_trivially_copyable_v<Result>,
		              "PgCall returns PostgreSQL values (pointers, Datums, scalars) only");
		struct Call {
			Callable *fn;
			Result result;
		} call{&fn, Result{}};
		ErrorData *edata = PgTryCall(
		    [](void *p) {
			    Call *c = static_cast<Call *>(p);
			    c->result = (*c->fn)();
		    },
		    &call);
		if (edata != nullptr)
			throw PgError(edata);
		return call.result;
	}
}

} // namespace pg_retention::pg

/*
 * Defines a SQL-callable function `name` whose body runs under the entry
 * guard: PGR_FUNCTION(retention_hash) { ... return datum; }
 */
#define PGR_FUNCTION(name)                                                                         \
	extern "C" {                                                                                   \
	PG_FUNCTION_INFO_V1(name);                                                                     \
	}                                                                                              \
	static Datum name##_body(FunctionCallInfo fcinfo);                                             \
	extern "C" Datum name(PG_FUNCTION_ARGS)                                                        \
	{                                                                                              \
		return ::pg_retention::pg::InvokeGuarded(#name, name##_body, fcinfo);                      \
	}                                                                                              \
	static Datum name##_body(FunctionCallInfo fcinfo)
