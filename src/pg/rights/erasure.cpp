/*-------------------------------------------------------------------------
 *
 * erasure.cpp
 *		Carrying out erasure requests (retention.process_erasure_requests(),
 *		also called by the background worker) and re-applying the erasure
 *		log after a backup is restored (retention.reapply_erasures()).
 *
 *		The log names forgotten subjects only by the keyed hash of their id,
 *		so re-applying it cannot look ids up: it reads every key of each
 *		subject table once, hashes it and keeps those in the log.  That is
 *		one HMAC per row of the subject tables (about a microsecond each),
 *		paid only when a backup is restored.  Children are then reached
 *		through their paths, as forget always does.
 *
 * IDENTIFICATION
 *		src/pg/rights/erasure.cpp
 *-------------------------------------------------------------------------
 */
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/error.hpp"

#include "guc.hpp"
#include "archive/archive.hpp"
#include "rights/erasure.hpp"
#include "rights/forget.hpp"
#include "boundary/guard.hpp"
#include "boundary/owner_sql.hpp"
#include "boundary/result_set.hpp"
#include "rights/subject_rights.hpp"
#include "boundary/subtransaction.hpp"
#include "catalog/schema_version.hpp"

namespace pg_retention::pg
{

namespace
{

/* Carries out one approved request; throws what forget throws. */
void CarryOut(const std::string &request_id, const std::string &subject, const SqlValue &id,
              const SqlValue &reason)
{
	if (!id)
		throw Error(ErrorKind::ObjectNotInPrerequisiteState,
		            "erasure request " + request_id + " has no subject id");
	ResolvedSubject resolved = ResolveSubject(subject, *id, "forget");
	std::string receipt = ForgetSubject(*resolved.scope, resolved.id, reason, request_id);
	Sql("UPDATE retention.erasure_request SET status = 'done', done_at = now(), "
	    "receipt = $2::jsonb, subject_id = NULL, last_error = NULL WHERE id = $1::bigint",
	    {request_id, receipt});
}

std::string HexToBytes(const std::string &hex)
{
	std::string bytes;
	for (size_t i = 0; i + 1 < hex.size(); i += 2)
		bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
	return bytes;
}

/*
 * Forgets the archived rows and the data key of a subject known only by
 * its hash (its subject row is gone, archived perhaps); nullopt when the
 * archive holds nothing of it.
 */
SqlValue ForgetArchiveOnly(const std::string &subject, const std::string &hash_hex,
                           const std::shared_ptr<const SubjectScope> &scope,
                           const std::string &reason)
{
	int64_t held = Sql("SELECT (SELECT count(*) FROM retention_archive.archived_row "
	                   "WHERE subject = $1 AND subject_hash = decode($2, 'hex')) + "
	                   "(SELECT count(*) FROM retention_archive.data_key "
	                   "WHERE subject = $1 AND subject_hash = decode($2, 'hex'))",
	                   {subject, hash_hex})
	                   .ScalarInt();
	if (held == 0)
		return std::nullopt;
	SubjectId id;
	id.hash = HexToBytes(hash_hex);
	if (scope != nullptr)
		return ForgetSubject(*scope, id, reason, std::nullopt);
	/* no longer declared: nothing of it is under legal hold any more */
	int64_t rows = Sql("DELETE FROM retention_archive.archived_row WHERE subject = $1 "
	                   "AND subject_hash = decode($2, 'hex')",
	                   {subject, hash_hex})
	                   .processed;
	bool destroyed = DestroySubjectKey(subject, id.hash);
	return "{\"subject\": " + JsonString(subject) + ", \"subject_hash\": " + JsonString(hash_hex) +
	       ", \"archive\": {\"rows_deleted\": " + std::to_string(rows) +
	       ", \"data_key_destroyed\": " + (destroyed ? "true" : "false") + "}}";
}

} // namespace

int64_t ProcessErasureRequests()
{
	Sql("UPDATE retention.erasure_request SET status = 'overdue' "
	    "WHERE status = 'received' AND due_at < now()");
	SqlResult approved = Sql("SELECT id::text, subject, subject_id, reason "
	                         "FROM retention.erasure_request WHERE status = 'approved' "
	                         "ORDER BY due_at, id FOR UPDATE SKIP LOCKED");
	int64_t done = 0;
	for (const SqlRow &row : approved.rows) {
		std::string id = row[0].value();
		std::string error;
		try {
			InSubtransaction([&] { CarryOut(id, row[1].value(), row[2], row[3]); });
			done++;
		} catch (const PgError &e) {
			RethrowIfInterrupt(e); /* a cancel stops every request, not this one */
			error = e.what();
		} catch (const Error &e) {
			error = e.what();
		}
		if (!error.empty())
			Sql("UPDATE retention.erasure_request SET last_error = $2 WHERE id = $1::bigint",
			    {id, error});
	}
	return done;
}

/* retention.process_erasure_requests() -> bigint */
PGR_FUNCTION(retention_process_erasure_requests)
{
	RequireCurrentSchema("retention.process_erasure_requests()");
	return Int64GetDatum(ProcessErasureRequests());
}

/*
 * retention.reapply_erasures() -> (erasure_id, subject, receipt): forgets
 * again every subject of the erasure log still found in this database,
 * live or archived.  One receipt per subject found, logged like any forget.
 */
PGR_FUNCTION(retention_reapply_erasures)
{
	RequireCurrentSchema("retention.reapply_erasures()");
	ResultSet out(fcinfo);
	SqlResult subjects = Sql("SELECT DISTINCT subject FROM retention.erasure_log ORDER BY 1");
	for (const SqlRow &s : subjects.rows) {
		std::string subject = s[0].value();
		std::shared_ptr<const SubjectScope> scope;
		try {
			scope = SubjectScope::Load(subject);
		} catch (const Error &e) {
			if (e.kind() != ErrorKind::UndefinedObject)
				throw;
		}
		/* each hash once, with the first erasure that named it */
		SqlResult logged =
		    Sql("SELECT encode(subject_hash, 'hex'), min(erasure_id)::text "
		        "FROM retention.erasure_log WHERE subject = $1 GROUP BY 1 ORDER BY 2",
		        {subject});
		std::set<std::string> found_hashes;
		if (scope != nullptr) {
			scope->RequireResolvedPaths("re-apply the erasures of");
			/* the keys are read as the subject table's owner, hashed here */
			std::map<std::string, std::string> logged_hashes; /* raw hash -> hex */
			for (const SqlRow &l : logged.rows)
				logged_hashes.emplace(HexToBytes(l[0].value()), l[0].value());
			SqlResult keys = OwnerSql(scope->identity().info.relid,
			                          "SELECT " + scope->KeyTextSql("r") + " FROM " +
			                              scope->identity().info.qualified + " r");
			std::vector<SqlRow> found_rows;
			for (const SqlRow &k : keys.rows) {
				if (!k[0])
					continue;
				auto hit = logged_hashes.find(SubjectHash(subject, *k[0]));
				if (hit != logged_hashes.end())
					found_rows.push_back({k[0], hit->second});
			}
			for (const SqlRow &f : found_rows) {
				std::string erasure;
				for (const SqlRow &l : logged.rows)
					if (l[0] == f[1])
						erasure = l[1].value();
				SubjectId id = scope->Canonical(f[0].value());
				std::string receipt =
				    ForgetSubject(*scope, id, "re-applied erasure " + erasure, std::nullopt);
				out.Add({static_cast<int64_t>(std::stoll(erasure)), subject, receipt});
				found_hashes.insert(f[1].value());
			}
		}
		for (const SqlRow &l : logged.rows) {
			if (found_hashes.count(l[0].value()))
				continue;
			SqlValue receipt = ForgetArchiveOnly(subject, l[0].value(), scope,
			                                     "re-applied erasure " + l[1].value());
			if (receipt)
				out.Add({static_cast<int64_t>(std::stoll(l[1].value())), subject, *receipt});
		}
	}
	return (Datum)0;
}

} // namespace pg_retention::pg
