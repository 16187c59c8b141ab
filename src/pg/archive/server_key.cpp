/*-------------------------------------------------------------------------
 *
 * server_key.cpp
 *		Loading the server key in the postmaster (see server_key.hpp).
 *
 *		Like pgsodium, the key comes from a file or from a command's output,
 *		read while shared_preload_libraries are loaded; backends inherit it
 *		through fork.  The settings hold a path or a command, never the key,
 *		and are visible to superusers only.  A missing or invalid key does
 *		not stop the server: it is logged (without key material) and the
 *		functions that need it fail with a hint.
 *
 * IDENTIFICATION
 *		src/pg/archive/server_key.cpp
 *-------------------------------------------------------------------------
 */
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <openssl/crypto.h>

#include "base/error.hpp"
#include "crypto/keys.hpp"

#include "guc.hpp"
#include "boundary/guard.hpp"
#include "archive/server_key.hpp"

extern "C" {
#include "storage/fd.h"
#include <sys/stat.h>
}

namespace pg_retention::pg
{

namespace
{

std::optional<KeyRing> server_key;
std::optional<KeyRing> previous_key; /* during a rotation: the key being retired */

/* Largest key source we read: a key is 64 characters; leave room for comments. */
constexpr size_t kMaxKeySource = 4096;

/* Reads a key source (a file, or a command's output) into a wiped buffer; sets `why` on failure. */
SecureBytes ReadSource(const char *file, const char *command, std::string &why)
{
	SecureBytes content(kMaxKeySource);
	size_t used = 0;
	bool from_command = command != nullptr && command[0] != '\0';
	FILE *f = nullptr;
	if (from_command) {
		f = popen(command, "r");
	} else {
		struct stat st;
		if (stat(file, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
			why =
			    "key file \"" + std::string(file) + "\" is accessible to other users: chmod 600 it";
			return SecureBytes();
		}
		f = fopen(file, "r");
	}
	if (f == nullptr) {
		why = from_command ? "could not run the key command"
		                   : "could not open key file \"" + std::string(file) + "\"";
		return SecureBytes();
	}
	size_t n;
	while (used < content.size() &&
	       (n = fread(content.data() + used, 1, content.size() - used, f)) > 0)
		used += n;
	int status = from_command ? pclose(f) : fclose(f);
	if (from_command && status != 0) {
		why = "the key command exited with status " + std::to_string(status);
		return SecureBytes();
	}
	return SecureBytes(content.data(), used);
}

bool IsSet(const char *setting)
{
	return setting != nullptr && setting[0] != '\0';
}

/* The key ring of one source, or nullopt when the source is not configured. */
std::optional<KeyRing> LoadRing(const char *what, const char *file, const char *command,
                                int version)
{
	if (!IsSet(file) && !IsSet(command))
		return std::nullopt;
	if (IsSet(file) && IsSet(command))
		throw Error(ErrorKind::ConfigFileError,
		            std::string(what) + ": a key file and a key command are both set", "",
		            "set only one of them");
	std::string why;
	SecureBytes source = ReadSource(file, command, why);
	if (!why.empty())
		throw Error(ErrorKind::ConfigFileError, std::string("could not load the ") + what, why);
	return KeyRing(ParseKeyMaterial(std::string_view(reinterpret_cast<const char *>(source.data()),
	                                                 source.size())),
	               static_cast<uint32_t>(version));
}

void Load()
{
	if (std::optional<KeyRing> ring = LoadRing("retention server key", key_file_setting,
	                                           key_command_setting, key_version_setting))
		server_key.emplace(std::move(*ring));
	if (std::optional<KeyRing> ring =
	        LoadRing("previous retention server key", previous_key_file_setting, nullptr,
	                 previous_key_version_setting))
		previous_key.emplace(std::move(*ring));
}

} // namespace

bool ServerKeyLoaded() noexcept
{
	return server_key.has_value();
}

const KeyRing *PreviousServerKey() noexcept
{
	return previous_key ? &*previous_key : nullptr;
}

const KeyRing &RequireServerKey()
{
	if (!server_key)
		throw Error(ErrorKind::ObjectNotInPrerequisiteState, "no retention server key is loaded",
		            "anonymization methods that use a key and the archive need the server key",
		            "set retention.key_file (or retention.key_command) in postgresql.conf and "
		            "restart the server");
	return *server_key;
}

void LoadServerKey()
{
	try {
		Load();
	} catch (const Error &e) {
		std::string message = e.what();
		std::string detail = e.detail();
		PgCall([&] {
			ereport(WARNING, (errcode(ERRCODE_CONFIG_FILE_ERROR), errmsg("%s", message.c_str()),
			                  detail.empty() ? 0 : errdetail("%s", detail.c_str()),
			                  errhint("Functions that need the key will fail until it loads.")));
		});
	}
}

} // namespace pg_retention::pg

namespace pg_retention::pg
{

/* key_info() -> (loaded, version, fingerprint): never the key itself. */
PGR_FUNCTION(retention_key_info)
{
	TupleDesc desc;
	if (PgCall([&] { return get_call_result_type(fcinfo, nullptr, &desc); }) != TYPEFUNC_COMPOSITE)
		throw Error(ErrorKind::Internal, "key_info must return a record");
	bool loaded = ServerKeyLoaded();
	std::string fingerprint = loaded ? server_key->Fingerprint() : std::string();
	int32 version = loaded ? static_cast<int32>(server_key->version()) : 0;
	return PgCall([&] {
		Datum values[3] = {BoolGetDatum(loaded), Int32GetDatum(version),
		                   loaded ? CStringGetTextDatum(fingerprint.c_str()) : (Datum)0};
		bool nulls[3] = {false, !loaded, !loaded};
		return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls));
	});
}

} // namespace pg_retention::pg
