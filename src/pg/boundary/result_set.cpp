/*-------------------------------------------------------------------------
 *
 * result_set.cpp
 *		Materialized set-returning results (see result_set.hpp).
 *
 * IDENTIFICATION
 *		src/pg/boundary/result_set.cpp
 *-------------------------------------------------------------------------
 */
#include <string>
#include <vector>

#include "base/error.hpp"

#include "boundary/guard.hpp"
#include "boundary/result_set.hpp"

extern "C" {
#include "utils/datetime.h"
#include "utils/timestamp.h"
}

namespace pg_retention::pg
{

namespace
{

/* Converts one C++ value to a Datum of `type`; runs inside PgCall. */
Datum ToDatum(const Value &value, Oid type)
{
	if (const auto *s = std::get_if<std::string>(&value)) {
		if (type == NAMEOID)
			return DirectFunctionCall1(namein, CStringGetDatum(s->c_str()));
		if (type == TEXTOID)
			return PointerGetDatum(cstring_to_text_with_len(s->data(), s->size()));
		Oid input;
		Oid ioparam;
		getTypeInputInfo(type, &input, &ioparam);
		return OidInputFunctionCall(input, const_cast<char *>(s->c_str()), ioparam, -1);
	}
	if (const auto *oid = std::get_if<Oid>(&value))
		return ObjectIdGetDatum(*oid);
	if (const auto *delay = std::get_if<Delay>(&value)) {
		Interval *interval = static_cast<Interval *>(palloc0(sizeof(Interval)));
		interval->month = delay->months;
		interval->day = delay->days;
		return IntervalPGetDatum(interval);
	}
	if (const auto *i = std::get_if<int64_t>(&value)) {
		if (type == INT4OID)
			return Int32GetDatum(static_cast<int32>(*i));
		if (type == TIMESTAMPTZOID)
			return TimestampTzGetDatum(*i);
		return Int64GetDatum(*i);
	}
	if (const auto *b = std::get_if<bool>(&value))
		return BoolGetDatum(*b);
	if (const auto *d = std::get_if<double>(&value))
		return Float8GetDatum(*d);
	elog(ERROR, "pg_retention: unsupported result value");
	return (Datum)0;
}

} // namespace

ResultSet::ResultSet(FunctionCallInfo fcinfo)
{
	PgCall([&] { InitMaterializedSRF(fcinfo, 0); });
	ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	store_ = rsinfo->setResult;
	desc_ = rsinfo->setDesc;
}

void ResultSet::Add(const std::vector<Value> &row)
{
	if (static_cast<int>(row.size()) != desc_->natts)
		throw Error(ErrorKind::Internal, "result row has " + std::to_string(row.size()) +
		                                     " values for " + std::to_string(desc_->natts) +
		                                     " columns");
	PgCall([&] {
		Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * row.size()));
		bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * row.size()));
		for (size_t i = 0; i < row.size(); i++) {
			nulls[i] = std::holds_alternative<std::monostate>(row[i]);
			values[i] = nulls[i] ? (Datum)0 : ToDatum(row[i], TupleDescAttr(desc_, i)->atttypid);
		}
		tuplestore_putvalues(store_, desc_, values, nulls);
		pfree(values);
		pfree(nulls);
	});
}

} // namespace pg_retention::pg
