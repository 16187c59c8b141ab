/*-------------------------------------------------------------------------
 *
 * table_order.hpp
 *		Children before parents: the order in which rows can be deleted
 *		without a foreign key ever firing, for the lifecycle (purge and
 *		archive) and for forget alike.
 *
 * IDENTIFICATION
 *		src/pg/catalog/table_order.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <map>
#include <set>
#include <vector>

#include "boundary/pg_headers.hpp"

namespace pg_retention::pg
{

/*
 * Orders `items` so that each comes after every item whose table references
 * its own (`children` maps a table to the tables referencing it).  Items
 * caught in a reference cycle come last, in their given order.
 */
template <typename T, typename RelidOf>
std::vector<T> ChildrenFirstOrder(const std::vector<T> &items, RelidOf relid_of,
                                  const std::map<Oid, std::set<Oid>> &children)
{
	std::set<Oid> present;
	for (const T &item : items)
		present.insert(relid_of(item));
	std::vector<T> ordered;
	std::set<Oid> placed;
	bool progress = true;
	while (progress) {
		progress = false;
		for (const T &item : items) {
			Oid relid = relid_of(item);
			if (placed.count(relid))
				continue;
			bool ready = true;
			auto found = children.find(relid);
			if (found != children.end())
				for (Oid child : found->second)
					if (child != relid && present.count(child) && !placed.count(child))
						ready = false;
			if (!ready)
				continue;
			ordered.push_back(item);
			placed.insert(relid);
			progress = true;
		}
	}
	for (const T &item : items)
		if (!placed.count(relid_of(item)))
			ordered.push_back(item);
	return ordered;
}

} // namespace pg_retention::pg
