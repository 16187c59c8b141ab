/*-------------------------------------------------------------------------
 *
 * archive.cpp
 *		The encrypted archive (see archive.hpp).
 *
 *		The lifecycle archives a batch in one subtransaction: the table's
 *		owner deletes the rows and hands them back in binary, then
 *		WriteArchivedRows seals them here, in C++, and writes them all at
 *		once, in bulk as COPY does: a row is in exactly one place at every
 *		instant.
 *		_seal() stays SQL-callable (it is what 0.1.0 archived with), and
 *		_open() is how every reader decrypts.
 *
 * IDENTIFICATION
 *		src/pg/archive/archive.cpp
 *-------------------------------------------------------------------------
 */
#include <string>
#include <string_view>
#include <memory>
#include <optional>
#include <unordered_map>

#include "anon/anon.hpp"
#include "crypto/envelope.hpp"
#include "base/error.hpp"
#include "crypto/keys.hpp"

#include "methods/anon_functions.hpp"
#include "archive/archive.hpp"
#include "boundary/guard.hpp"
#include "archive/server_key.hpp"
#include "boundary/spi_query.hpp"
#include "catalog/schema_version.hpp"

#include "boundary/compat.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/tableam.h"
#include "commands/sequence.h"
#include "utils/array.h"
#include "utils/timestamp.h"
}

namespace pg_retention::pg
{

namespace
{

std::unordered_map<std::string, SecureBytes> data_keys;
constexpr size_t kMaxCachedKeys = 100000;

std::string Unhex(const std::string &hex)
{
	std::string out;
	for (size_t i = 0; i + 1 < hex.size(); i += 2)
		out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
	return out;
}

std::string_view TextOf(const text *t)
{
	return {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)};
}

std::string ByteaString(const bytea *b)
{
	return std::string(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
}

Datum ByteaDatum(const std::string &bytes)
{
	return PgCall([&] {
		bytea *result = static_cast<bytea *>(palloc(VARHDRSZ + bytes.size()));
		SET_VARSIZE(result, VARHDRSZ + bytes.size());
		memcpy(VARDATA(result), bytes.data(), bytes.size());
		return PointerGetDatum(result);
	});
}

/* The additional authenticated data of a subject's key and rows. */
std::string Aad(const std::string &subject, const std::string &subject_hash)
{
	return "pg_retention/archive/" + subject + '\0' + subject_hash;
}

const SecureBytes &WrappingKey()
{
	static SecureBytes key;
	if (key.empty())
		key = RequireServerKey().Derive(KeyPurpose::Wrap);
	return key;
}

/*
 * Unwraps a data key with the server key of the version it was wrapped
 * under: the current one, or during a rotation the one being retired.
 */
SecureBytes UnwrapAnyVersion(const std::string &blob, const std::string &aad)
{
	uint32_t version = WrappedKeyVersion(blob);
	if (version == RequireServerKey().version())
		return UnwrapDataKey(WrappingKey(), blob, aad);
	const KeyRing *previous = PreviousServerKey();
	if (previous == nullptr || previous->version() != version)
		throw Error(ErrorKind::ObjectNotInPrerequisiteState,
		            "archive key of version " + std::to_string(version) + " cannot be opened",
		            "it was wrapped under server key version " + std::to_string(version) +
		                ", which is not loaded",
		            "set retention.previous_key_file and retention.previous_key_version to that "
		            "key, restart, and run retention.rewrap_archive_keys()");
	return UnwrapDataKey(previous->Derive(KeyPurpose::Wrap), blob, aad);
}

/* Runs a parameterized statement through SPI; returns the first column of the first row. */
std::optional<std::string> QueryBytes(const char *sql, int nargs, Oid *types, Datum *values,
                                      int expected)
{
	bytea *found = nullptr;
	PgCall([&] {
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		int rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 1);
		if (rc != expected)
			elog(ERROR, "pg_retention: archive key query failed: %s", SPI_result_code_string(rc));
		if (SPI_processed > 0) {
			bool isnull;
			Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			if (!isnull)
				found = reinterpret_cast<bytea *>(DatumGetPointer(SPI_datumTransfer(d, false, -1)));
		}
		SPI_finish();
	});
	if (found == nullptr)
		return std::nullopt;
	return ByteaString(found);
}

/*
 * The data key of a subject, from the cache, the archive, or created (and
 * stored wrapped) on first use.  Two backends creating the same key race
 * on the primary key; the loser reads the winner's.
 */
const SecureBytes &DataKeyFor(const std::string &subject, const std::string &subject_hash,
                              bool create)
{
	std::string cache_key = subject + '\0' + subject_hash;
	auto it = data_keys.find(cache_key);
	if (it != data_keys.end())
		return it->second;
	if (data_keys.size() >= kMaxCachedKeys)
		data_keys.clear();

	std::string aad = Aad(subject, subject_hash);
	Oid types[4] = {TEXTOID, BYTEAOID, INT4OID, BYTEAOID};
	Datum subject_datum = PgCall([&] { return CStringGetTextDatum(subject.c_str()); });
	Datum hash_datum = ByteaDatum(subject_hash);
	Datum select_args[2] = {subject_datum, hash_datum};
	const char *select_sql = "SELECT wrapped_key FROM retention_archive.data_key "
	                         "WHERE subject = $1 AND subject_hash = $2";
	std::optional<std::string> wrapped =
	    QueryBytes(select_sql, 2, types, select_args, SPI_OK_SELECT);
	if (!wrapped) {
		if (!create)
			throw Error(ErrorKind::ObjectNotInPrerequisiteState, "no archive key for this subject",
			            "the subject was forgotten, or nothing of it was archived");
		SecureBytes fresh = NewDataKey();
		uint32_t version = RequireServerKey().version();
		std::string blob = WrapDataKey(WrappingKey(), version, fresh, aad);
		Datum insert_args[4] = {subject_datum, hash_datum, Int32GetDatum((int32)version),
		                        ByteaDatum(blob)};
		QueryBytes(
		    "INSERT INTO retention_archive.data_key (subject, subject_hash, key_version, "
		    "wrapped_key) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING wrapped_key",
		    4, types, insert_args, SPI_OK_INSERT_RETURNING);
		wrapped = QueryBytes(select_sql, 2, types, select_args, SPI_OK_SELECT);
		if (!wrapped)
			throw Error(ErrorKind::Internal, "archive data key vanished while being created");
	}
	SecureBytes key = UnwrapAnyVersion(*wrapped, aad);
	return data_keys.emplace(cache_key, std::move(key)).first->second;
}

/* An array literal of bytea values, for a bytea[] parameter: {"\\x..."}. */
std::string ByteaArrayLiteral(const std::vector<std::string> &values)
{
	std::string out = "{";
	for (const std::string &v : values)
		out += (out.size() > 1 ? ",\"\\\\x" : "\"\\\\x") + HexEncode(v) + "\"";
	return out + "}";
}

/*
 * Creates, in one statement, the data keys of the subject hashes given that
 * the cache does not hold, and caches those it stored: a batch of new
 * subjects costs one INSERT, not a lookup and an insert per subject.  A
 * hash whose key already existed (or that another backend stored first)
 * keeps its stored key: DataKeyFor reads it, and the fresh one is dropped.
 */
void CreateDataKeys(const std::string &subject, const std::vector<std::string> &hashes)
{
	std::vector<std::string> wanted, wrapped;
	std::unordered_map<std::string, SecureBytes> fresh;
	uint32_t version = RequireServerKey().version();
	for (const std::string &hash : hashes)
		if (data_keys.find(subject + '\0' + hash) == data_keys.end() && fresh.count(hash) == 0) {
			SecureBytes key = NewDataKey();
			wrapped.push_back(WrapDataKey(WrappingKey(), version, key, Aad(subject, hash)));
			wanted.push_back(hash);
			fresh.emplace(hash, std::move(key));
		}
	if (wanted.empty())
		return;
	if (data_keys.size() + wanted.size() > kMaxCachedKeys)
		data_keys.clear();
	SqlResult stored = TypedSql(
	    "INSERT INTO retention_archive.data_key (subject, subject_hash, key_version, wrapped_key) "
	    "SELECT $1, u.hash, $3, u.wrapped FROM unnest($2, $4) AS u(hash, wrapped) "
	    "ON CONFLICT DO NOTHING RETURNING encode(subject_hash, 'hex')",
	    {subject, ByteaArrayLiteral(wanted), std::to_string(version), ByteaArrayLiteral(wrapped)},
	    {TEXTOID, BYTEAARRAYOID, INT4OID, BYTEAARRAYOID});
	for (const SqlRow &row : stored.rows) {
		std::string hash = Unhex(row[0].value());
		data_keys.emplace(subject + '\0' + hash, std::move(fresh.at(hash)));
	}
}

/* The sealed rows of one batch, in archived_row's types (Datums palloc'd or by value). */
struct SealedRows {
	Oid relid;
	Datum table_name, subject, run_id; /* text, text, int8 */
	std::optional<Datum> purge_delay;  /* interval */
	std::vector<Datum> hashes, sealed; /* bytea */
	std::vector<Datum> aged;           /* timestamptz */
	std::vector<bool> no_age;
};

/*
 * Writes the rows into retention_archive.archived_row as COPY writes a
 * table: heap pages filled a batch of tuples at a time through a bulk-insert
 * state (one WAL record per page, not one per row), then each tuple's index
 * entries (partial indexes take only the rows they describe).  Ids from the
 * table's sequence, archived_at the batch's moment.  The archive's own table,
 * with no trigger, rule or row security: the caller checked
 * (WriteArchivedRows), and the privileges an INSERT needs.  Runs inside PgCall.
 */
int64 BulkInsertArchived(Relation rel, Oid sequence, const SealedRows &rows)
{
	constexpr int kSlots = 128; /* a few pages of rows per multi-insert; slots cost to make */
	TupleDesc desc = RelationGetDescr(rel);
	auto column = [&](const char *name) {
		AttrNumber number = get_attnum(RelationGetRelid(rel), name);
		if (number == InvalidAttrNumber)
			elog(ERROR, "pg_retention: retention_archive.archived_row has no column %s", name);
		return number;
	};
	AttrNumber id = column("id"), relid = column("relid"), table_name = column("table_name"),
	           subject = column("subject"), subject_hash = column("subject_hash"),
	           aged_at = column("aged_at"), purge_after = column("purge_after"),
	           archived_at = column("archived_at"), run_id = column("run_id"),
	           payload = column("payload");
	Datum now = TimestampTzGetDatum(GetCurrentTimestamp());

	EState *estate = CreateExecutorState();
	ResultRelInfo *result_rel = makeNode(ResultRelInfo);
	InitResultRelInfo(result_rel, rel, 1, NULL, 0);
	ExecOpenIndices(result_rel, false);
	BulkInsertState bistate = GetBulkInsertState();
	CommandId cid = GetCurrentCommandId(true);
	int n = static_cast<int>(rows.sealed.size());
	int nslots = n < kSlots ? n : kSlots;
	TupleTableSlot **slots = static_cast<TupleTableSlot **>(palloc(sizeof(void *) * nslots));
	for (int i = 0; i < nslots; i++)
		slots[i] = table_slot_create(rel, NULL);
	for (int start = 0; start < n; start += nslots) {
		int count = n - start < nslots ? n - start : nslots;
		for (int k = 0; k < count; k++) {
			int i = start + k;
			TupleTableSlot *slot = slots[k];
			ExecClearTuple(slot);
			Datum *v = slot->tts_values;
			bool *null = slot->tts_isnull;
			for (int a = 0; a < desc->natts; a++) {
				v[a] = (Datum)0;
				null[a] = true;
			}
			auto set = [&](AttrNumber att, Datum value) {
				v[att - 1] = value;
				null[att - 1] = false;
			};
			set(id, Int64GetDatum(nextval_internal(sequence, false)));
			set(relid, ObjectIdGetDatum(rows.relid));
			set(table_name, rows.table_name);
			set(subject, rows.subject);
			set(subject_hash, rows.hashes[i]);
			if (!rows.no_age[i]) {
				set(aged_at, rows.aged[i]);
				if (rows.purge_delay)
					set(purge_after, DirectFunctionCall2(timestamptz_pl_interval, rows.aged[i],
					                                     *rows.purge_delay));
			}
			set(archived_at, now);
			set(run_id, rows.run_id);
			set(payload, rows.sealed[i]);
			ExecStoreVirtualTuple(slot);
		}
		table_multi_insert(rel, slots, count, cid, 0, bistate);
		if (result_rel->ri_NumIndices > 0)
			for (int k = 0; k < count; k++) {
				compat::InsertIndexEntries(result_rel, slots[k], estate);
				ResetPerTupleExprContext(estate);
			}
	}
	for (int i = 0; i < nslots; i++)
		ExecDropSingleTupleTableSlot(slots[i]);
	FreeBulkInsertState(bistate);
	ExecCloseIndices(result_rel);
	FreeExecutorState(estate);
	CommandCounterIncrement();
	return n;
}

} // namespace

std::string SubjectHash(const std::string &subject, const std::string &subject_id)
{
	static std::unique_ptr<KeyedHasher> hasher;
	if (!hasher) {
		SecureBytes key = RequireServerKey().Derive(KeyPurpose::ErasureLog);
		hasher = std::make_unique<KeyedHasher>(key.data(), key.size());
	}
	uint8_t digest[kDigestLength];
	std::string message = subject + '\0' + subject_id;
	hasher->Mac(message, digest);
	return std::string(reinterpret_cast<const char *>(digest), kDigestLength);
}

int64_t WriteArchivedRows(unsigned int relid, const std::string &table_name,
                          const std::string &subject, const SqlValue &purge_delay,
                          const std::string &run_id, const DatumResult &rows)
{
	/* a batch's rows often share their subject (or all name the table, without one) */
	constexpr size_t kMaxSealers = 1024;
	std::unordered_map<std::string, std::unique_ptr<RowSealer>> sealers;
	size_t n = rows.Rows();
	std::vector<Datum> hashes, sealed; /* bytea, palloc'd */
	hashes.reserve(n);
	sealed.reserve(n);
	/* each row's subject hash, once for a run of rows of the same subject */
	std::vector<std::string> subject_hashes;
	std::vector<size_t> hash_of(n);
	std::string_view last_id;
	for (size_t i = 0; i < n; i++) {
		if (rows.IsNull(i, 0) || rows.IsNull(i, 2))
			throw Error(ErrorKind::NullValueNotAllowed, "archived row has no subject id",
			            "row " + std::to_string(i + 1) + " of the batch from " + table_name);
		std::string_view id = TextOf(reinterpret_cast<const text *>(rows.Cell(i, 0)));
		if (i == 0 || id != last_id)
			subject_hashes.push_back(SubjectHash(subject, std::string(id)));
		hash_of[i] = subject_hashes.size() - 1;
		last_id = id;
	}
	CreateDataKeys(subject, subject_hashes);
	const std::string *hash = nullptr;
	std::string aad;
	Datum hash_datum = 0;
	RowSealer *sealer = nullptr;
	for (size_t i = 0; i < n; i++) {
		std::string_view payload = TextOf(reinterpret_cast<const text *>(rows.Cell(i, 2)));
		const std::string &next = subject_hashes[hash_of[i]];
		if (hash == nullptr || next != *hash) {
			hash = &next;
			hash_datum = ByteaDatum(next);
			aad = Aad(subject, next);
			auto found = sealers.find(next);
			if (found == sealers.end()) {
				if (sealers.size() >= kMaxSealers)
					sealers.clear();
				found =
				    sealers
				        .emplace(next, std::make_unique<RowSealer>(DataKeyFor(subject, next, true)))
				        .first;
			}
			sealer = found->second.get();
		}
		hashes.push_back(hash_datum);
		sealed.push_back(ByteaDatum(sealer->Seal(payload, aad)));
	}
	SealedRows batch{relid, 0, 0, 0, std::nullopt, std::move(hashes), std::move(sealed), {}, {}};
	batch.aged.reserve(n);
	batch.no_age.reserve(n);
	for (size_t i = 0; i < n; i++) {
		batch.no_age.push_back(rows.IsNull(i, 1));
		batch.aged.push_back(rows.IsNull(i, 1) ? (Datum)0 : rows.Cell(i, 1));
	}
	return PgCall([&] {
		batch.table_name = CStringGetTextDatum(table_name.c_str());
		batch.subject = CStringGetTextDatum(subject.c_str());
		batch.run_id = DirectFunctionCall1(int8in, CStringGetDatum(run_id.c_str()));
		if (purge_delay)
			batch.purge_delay =
			    DirectFunctionCall3(interval_in, CStringGetDatum(purge_delay->c_str()),
			                        ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		Oid nsp = get_namespace_oid("retention_archive", false);
		Oid archive = get_relname_relid("archived_row", nsp);
		Oid sequence = get_relname_relid("archived_row_id_seq", nsp);
		if (!OidIsValid(archive) || !OidIsValid(sequence))
			elog(ERROR,
			     "pg_retention: retention_archive.archived_row or its id sequence is missing");
		/* the privileges the INSERT would need, checked as the extension's identity */
		AclResult acl = pg_class_aclcheck(archive, GetUserId(), ACL_INSERT);
		if (acl != ACLCHECK_OK)
			aclcheck_error(acl, OBJECT_TABLE, "archived_row");
		acl = pg_class_aclcheck(sequence, GetUserId(), ACL_USAGE | ACL_UPDATE);
		if (acl != ACLCHECK_OK)
			aclcheck_error(acl, OBJECT_SEQUENCE, "archived_row_id_seq");
		Relation rel = table_open(archive, RowExclusiveLock);
		if (rel->trigdesc != NULL || rel->rd_rules != NULL || rel->rd_rel->relrowsecurity ||
		    rel->rd_rel->relkind != RELKIND_RELATION)
			ereport(ERROR,
			        (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			         errmsg("retention_archive.archived_row has a trigger, rule or row security"),
			         errdetail("the lifecycle writes the archive in bulk, as COPY does, and "
			                   "would not apply them"),
			         errhint("drop them: the archive is the extension's own table")));
		int64 written = BulkInsertArchived(rel, sequence, batch);
		table_close(rel, NoLock);
		return static_cast<int64_t>(written);
	});
}

void ClearDataKeyCache() noexcept
{
	data_keys.clear();
}

namespace
{

/*
 * A data key created in a (sub)transaction that rolls back was never
 * stored: forget every cached key on abort, so no row is ever sealed under
 * a key the archive does not hold.
 */
void ForgetKeysOnAbort(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		ClearDataKeyCache();
}

void ForgetKeysOnSubAbort(SubXactEvent event, SubTransactionId sub, SubTransactionId parent,
                          void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		ClearDataKeyCache();
}

} // namespace

void RegisterArchiveCallbacks()
{
	RegisterXactCallback(ForgetKeysOnAbort, nullptr);
	RegisterSubXactCallback(ForgetKeysOnSubAbort, nullptr);
}

bool DestroySubjectKey(const std::string &subject, const std::string &subject_hash)
{
	data_keys.erase(subject + '\0' + subject_hash);
	Oid types[2] = {TEXTOID, BYTEAOID};
	Datum args[2] = {PgCall([&] { return CStringGetTextDatum(subject.c_str()); }),
	                 ByteaDatum(subject_hash)};
	return QueryBytes("DELETE FROM retention_archive.data_key WHERE subject = $1 AND "
	                  "subject_hash = $2 RETURNING wrapped_key",
	                  2, types, args, SPI_OK_DELETE_RETURNING)
	    .has_value();
}

/*
 * rewrap_archive_keys(): after a key rotation, wraps every data key that is
 * still under the retired server key with the current one.  Archived rows
 * are not touched: their data keys do not change.
 */
PGR_FUNCTION(retention_rewrap_archive_keys)
{
	RequireCurrentSchema("retention.rewrap_archive_keys()");
	SqlResult old = Sql("SELECT subject, encode(subject_hash, 'hex'), encode(wrapped_key, 'hex') "
	                    "FROM retention_archive.data_key WHERE key_version <> $1::int",
	                    {std::to_string(RequireServerKey().version())});
	int64_t rewrapped = 0;
	for (const SqlRow &row : old.rows) {
		std::string subject = row[0].value();
		std::string hash = Unhex(row[1].value());
		std::string aad = Aad(subject, hash);
		SecureBytes key = UnwrapAnyVersion(Unhex(row[2].value()), aad);
		std::string blob = WrapDataKey(WrappingKey(), RequireServerKey().version(), key, aad);
		Sql("UPDATE retention_archive.data_key SET wrapped_key = decode($3, 'hex'), key_version = "
		    "$4::int WHERE subject = $1 AND subject_hash = decode($2, 'hex')",
		    {subject, row[1].value(), HexEncode(blob),
		     std::to_string(RequireServerKey().version())});
		rewrapped++;
	}
	data_keys.clear();
	return Int64GetDatum(rewrapped);
}

/* _subject_hash(subject text, subject_id text) -> bytea */
PGR_FUNCTION(retention_subject_hash)
{
	/* arguments first: detoasting may ereport, and no C++ object is alive yet */
	text *subject_arg = PG_GETARG_TEXT_PP(0);
	text *id_arg = PG_GETARG_TEXT_PP(1);
	std::string subject(TextOf(subject_arg));
	std::string id(TextOf(id_arg));
	return ByteaDatum(SubjectHash(subject, id));
}

/* _seal(subject text, subject_id text, payload text) -> bytea */
PGR_FUNCTION(retention_seal)
{
	text *subject_arg = PG_GETARG_TEXT_PP(0);
	text *id_arg = PG_GETARG_TEXT_PP(1);
	std::string_view payload = TextOf(PG_GETARG_TEXT_PP(2));
	std::string subject(TextOf(subject_arg));
	std::string id(TextOf(id_arg));
	std::string hash = SubjectHash(subject, id);
	const SecureBytes &key = DataKeyFor(subject, hash, true);
	return ByteaDatum(Seal(key, payload, Aad(subject, hash)));
}

/* _open(subject text, subject_hash bytea, payload bytea) -> text */
PGR_FUNCTION(retention_open)
{
	text *subject_arg = PG_GETARG_TEXT_PP(0);
	bytea *hash_arg = PG_GETARG_BYTEA_PP(1);
	bytea *sealed_arg = PG_GETARG_BYTEA_PP(2);
	std::string subject(TextOf(subject_arg));
	std::string hash = ByteaString(hash_arg);
	std::string sealed = ByteaString(sealed_arg);
	const SecureBytes &key = DataKeyFor(subject, hash, false);
	std::string plain = Open(key, sealed, Aad(subject, hash));
	return PgCall(
	    [&] { return PointerGetDatum(cstring_to_text_with_len(plain.data(), (int)plain.size())); });
}

} // namespace pg_retention::pg
