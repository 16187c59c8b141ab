/*-------------------------------------------------------------------------
 *
 * keyset.cpp
 *		The keyset of a value stage (see keyset.hpp).
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/keyset.cpp
 *-------------------------------------------------------------------------
 */
#include "lifecycle/keyset.hpp"

namespace pg_retention::pg::lifecycle
{

Keyset::Keyset(const Target &t, const std::string &due, const SqlValue &cutoff,
               const std::vector<SqlValue> &position)
    : t_(t), window_(due), params_{cutoff}, types_{t.age_type_oid}
{
	/* the age and key types of a keyset row: parameters bound in their own types */
	row_types_.push_back(t.age_type_oid);
	row_types_.insert(row_types_.end(), t.key_type_oids.begin(), t.key_type_oids.end());
	if (!position.empty()) {
		StartAfterPosition();
		params_.insert(params_.end(), position.begin(), position.end());
	}
}

/* $1 cutoff, $2.. the position */
void Keyset::StartAfterPosition()
{
	window_ += " AND " + t_.age_sql + " >= $2::" + t_.age_type + " AND " + KeysetColumns(t_) +
	           " > " + KeysetParams(t_, 2);
	types_.insert(types_.end(), row_types_.begin(), row_types_.end());
	positioned_ = true;
}

void Keyset::Advance(const SqlRow &last)
{
	if (!positioned_) {
		StartAfterPosition();
		params_.insert(params_.end(), last.begin(), last.end());
	} else {
		for (size_t i = 0; i < row_types_.size(); i++)
			params_[1 + i] = last[i];
	}
}

std::string Keyset::KeyArray(const SqlRow &last)
{
	std::string key_array = "{";
	for (size_t i = 1; i < last.size(); i++)
		key_array += (i > 1 ? "," : "") + QuoteArrayElement(last[i].value_or(""));
	return key_array + "}";
}

} // namespace pg_retention::pg::lifecycle
