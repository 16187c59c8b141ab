/*-------------------------------------------------------------------------
 *
 * bench_anon.cpp
 *		Micro-benchmarks of the anonymization kernels (anon.hpp), one per
 *		kernel, over realistic inputs, with the baselines the SQL-level
 *		targets are stated against: OpenSSL MD5 (PostgreSQL's md5()) and
 *		OpenSSL's one-shot HMAC() (what pgcrypto's hmac() costs at least).
 *
 *		Also keeps the alternative KeyedHasher design, EVP_MD_CTX_copy_ex
 *		from prepared contexts, to show why anon_hash.cpp copies low-level
 *		SHA256_CTX midstates instead.
 *
 *		Run: core_bench --benchmark_filter=Anon
 *
 * IDENTIFICATION
 *		bench/micro/bench_anon.cpp
 *-------------------------------------------------------------------------
 */
#include <benchmark/benchmark.h>

#include <array>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>

#include "anon/anon.hpp"
#include "schedule/calendar.hpp"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

using namespace pg_retention;

namespace
{

/* 1024 realistic values, cycled through so that branch predictors see variety. */
constexpr size_t kValues = 1024;

const std::vector<std::string> &Emails()
{
	static const std::vector<std::string> values = [] {
		static const char *firsts[] = {"john", "marie", "élodie", "wei", "o'brien", "anna-lisa"};
		static const char *lasts[] = {"doe", "dupont", "lefèvre", "smith", "nguyen", "garcia"};
		static const char *domains[] = {"example.com", "mail.example.org", "company.fr"};
		std::vector<std::string> v;
		for (size_t i = 0; i < kValues; i++)
			v.push_back(std::string(firsts[i % 6]) + "." + lasts[(i / 6) % 6] + std::to_string(i) +
			            "@" + domains[i % 3]);
		return v;
	}();
	return values;
}

const std::vector<std::string> &Names()
{
	static const std::vector<std::string> values = [] {
		static const char *names[] = {"Jean-Pierre Martin", "Hélène Dubois", "John Smith",
		                              "Maria Garcia",       "Zoë Lefèvre",   "Li Wei"};
		std::vector<std::string> v;
		for (size_t i = 0; i < kValues; i++)
			v.push_back(std::string(names[i % 6]) + " " + std::to_string(i));
		return v;
	}();
	return values;
}

const std::vector<std::string> &Phones()
{
	static const std::vector<std::string> values = [] {
		std::vector<std::string> v;
		for (size_t i = 0; i < kValues; i++)
			v.push_back("+33 6 " + std::to_string(10 + i % 90) + " " +
			            std::to_string(10 + i * 7 % 90) + " " + std::to_string(10 + i * 3 % 90) +
			            " " + std::to_string(10 + i * 11 % 90));
		return v;
	}();
	return values;
}

const HmacKey &BenchKey()
{
	static const HmacKey key = [] {
		HmacKey k;
		for (size_t i = 0; i < sizeof k.bytes; i++)
			k.bytes[i] = static_cast<uint8_t>(i * 13 + 5);
		return k;
	}();
	return key;
}

/* Runs `kernel(value, out)` over `values`, clearing and reusing one buffer. */
template <typename Kernel>
void RunTextKernel(benchmark::State &state, const std::vector<std::string> &values, Kernel kernel)
{
	std::string out;
	size_t i = 0;
	for (auto _ : state) {
		out.clear();
		kernel(values[i++ % kValues], out);
		benchmark::DoNotOptimize(out.data());
	}
	state.SetItemsProcessed(state.iterations());
}

void BM_Baseline_Md5Hex(benchmark::State &state)
{
	static const char hex[] = "0123456789abcdef";
	RunTextKernel(state, Emails(), [](const std::string &v, std::string &out) {
		unsigned char digest[MD5_DIGEST_LENGTH];
		MD5(reinterpret_cast<const unsigned char *>(v.data()), v.size(), digest);
		for (unsigned char b : digest) {
			out.push_back(hex[b >> 4]);
			out.push_back(hex[b & 0xf]);
		}
	});
}
BENCHMARK(BM_Baseline_Md5Hex);

void BM_Baseline_OpenSslHmacOneShot(benchmark::State &state)
{
	RunTextKernel(state, Emails(), [](const std::string &v, std::string &out) {
		unsigned char digest[EVP_MAX_MD_SIZE];
		unsigned int length = 0;
		HMAC(EVP_sha256(), BenchKey().bytes, sizeof BenchKey().bytes,
		     reinterpret_cast<const unsigned char *>(v.data()), v.size(), digest, &length);
		out.append(reinterpret_cast<char *>(digest), length);
	});
}
BENCHMARK(BM_Baseline_OpenSslHmacOneShot);

/* The design not taken: HMAC midstates kept as EVP_MD_CTX, copied per value. */
class EvpMidstateHasher
{
public:
	EvpMidstateHasher()
	    : inner_(EVP_MD_CTX_new()), outer_(EVP_MD_CTX_new()), work_(EVP_MD_CTX_new())
	{
		Prepare(inner_, 0x36);
		Prepare(outer_, 0x5c);
	}
	~EvpMidstateHasher()
	{
		EVP_MD_CTX_free(inner_);
		EVP_MD_CTX_free(outer_);
		EVP_MD_CTX_free(work_);
	}
	void Mac(const std::string &message, unsigned char *digest)
	{
		unsigned int length;
		EVP_MD_CTX_copy_ex(work_, inner_);
		EVP_DigestUpdate(work_, message.data(), message.size());
		EVP_DigestFinal_ex(work_, digest, &length);
		EVP_MD_CTX_copy_ex(work_, outer_);
		EVP_DigestUpdate(work_, digest, 32);
		EVP_DigestFinal_ex(work_, digest, &length);
	}

private:
	static void Prepare(EVP_MD_CTX *ctx, unsigned char pad)
	{
		unsigned char block[64];
		for (size_t i = 0; i < sizeof block; i++)
			block[i] = static_cast<unsigned char>((i < 32 ? BenchKey().bytes[i] : 0) ^ pad);
		EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
		EVP_DigestUpdate(ctx, block, sizeof block);
	}
	EVP_MD_CTX *inner_, *outer_, *work_;
};

void BM_Baseline_EvpMidstateHmac(benchmark::State &state)
{
	EvpMidstateHasher hasher;
	RunTextKernel(state, Emails(), [&](const std::string &v, std::string &out) {
		unsigned char digest[32];
		hasher.Mac(v, digest);
		out.append(reinterpret_cast<char *>(digest), sizeof digest);
	});
}
BENCHMARK(BM_Baseline_EvpMidstateHmac);

void BM_Anon_KeyedHasherMac(benchmark::State &state)
{
	const KeyedHasher hasher(BenchKey());
	RunTextKernel(state, Emails(), [&](const std::string &v, std::string &out) {
		uint8_t digest[kDigestLength];
		hasher.Mac(v, digest);
		out.append(reinterpret_cast<char *>(digest), sizeof digest);
	});
}
BENCHMARK(BM_Anon_KeyedHasherMac);

void BM_Anon_HashHex(benchmark::State &state)
{
	const KeyedHasher hasher(BenchKey());
	RunTextKernel(state, Emails(), [&](const std::string &v, std::string &out) {
		HashText(hasher, v, HashEncoding::Hex, 0, out);
	});
}
BENCHMARK(BM_Anon_HashHex);

void BM_Anon_HashBase32Truncated(benchmark::State &state)
{
	const KeyedHasher hasher(BenchKey());
	RunTextKernel(state, Emails(), [&](const std::string &v, std::string &out) {
		HashText(hasher, v, HashEncoding::Base32, 16, out);
	});
}
BENCHMARK(BM_Anon_HashBase32Truncated);

void BM_Anon_MaskEmail(benchmark::State &state)
{
	RunTextKernel(state, Emails(),
	              [](const std::string &v, std::string &out) { MaskEmail(v, out); });
}
BENCHMARK(BM_Anon_MaskEmail);

void BM_Anon_Partial(benchmark::State &state)
{
	RunTextKernel(state, Phones(), [](const std::string &v, std::string &out) {
		PartialText(v, 3, "******", 2, out);
	});
}
BENCHMARK(BM_Anon_Partial);

void BM_Anon_Redact(benchmark::State &state)
{
	RunTextKernel(state, Names(),
	              [](const std::string &v, std::string &out) { RedactText(v, out); });
}
BENCHMARK(BM_Anon_Redact);

/* One benchmark per fake kind and locale: Arg 0..6 is the FakeKind, range(1) the locale. */
void BM_Anon_FakeDeterministic(benchmark::State &state)
{
	const KeyedHasher hasher(BenchKey());
	const auto kind = static_cast<FakeKind>(state.range(0));
	const auto locale = static_cast<FakeLocale>(state.range(1));
	RunTextKernel(state, Names(), [&](const std::string &v, std::string &out) {
		FakeDeterministic(kind, locale, hasher, v, out);
	});
}
BENCHMARK(BM_Anon_FakeDeterministic)
    ->ArgNames({"kind", "fr"})
    ->ArgsProduct({{0, 1, 2, 3, 4, 5, 6}, {0, 1}});

void BM_Anon_FakeRandom(benchmark::State &state)
{
	const auto kind = static_cast<FakeKind>(state.range(0));
	RunTextKernel(state, Names(), [&](const std::string &, std::string &out) {
		FakeRandom(kind, FakeLocale::Fr, out);
	});
}
BENCHMARK(BM_Anon_FakeRandom)->ArgName("kind")->Arg(0)->Arg(2)->Arg(5);

void BM_Anon_NoiseInteger(benchmark::State &state)
{
	int64_t v = 0;
	for (auto _ : state) {
		benchmark::DoNotOptimize(NoiseInteger(52000 + (v++ & 1023), 0.1, INT32_MIN, INT32_MAX));
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Anon_NoiseInteger);

void BM_Anon_NoiseDouble(benchmark::State &state)
{
	double v = 1234.5;
	for (auto _ : state) {
		benchmark::DoNotOptimize(NoiseDouble(v, 0.05));
		v += 0.25;
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Anon_NoiseDouble);

void BM_Anon_GeneralizeInteger(benchmark::State &state)
{
	int64_t v = -5000;
	for (auto _ : state) {
		benchmark::DoNotOptimize(GeneralizeInteger(v++, 10));
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Anon_GeneralizeInteger);

void BM_Anon_GeneralizeDouble(benchmark::State &state)
{
	double v = 10.0;
	for (auto _ : state) {
		benchmark::DoNotOptimize(GeneralizeDouble(v, 0.1));
		v += 0.037;
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Anon_GeneralizeDouble);

void BM_Anon_GeneralizeDate(benchmark::State &state)
{
	const auto granularity = static_cast<DateGranularity>(state.range(0));
	int64_t day = DaysFromCivil(1950, 1, 1);
	for (auto _ : state) {
		benchmark::DoNotOptimize(GeneralizeDate(day, granularity));
		day = day < DaysFromCivil(2030, 1, 1) ? day + 1 : DaysFromCivil(1950, 1, 1);
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Anon_GeneralizeDate)->ArgName("granularity")->DenseRange(0, 3);

void BM_Anon_GeneralizeTimestamp(benchmark::State &state)
{
	int64_t ts = DaysFromCivil(2020, 1, 1) * INT64_C(86400000000);
	for (auto _ : state) {
		benchmark::DoNotOptimize(GeneralizeTimestamp(ts, DateGranularity::Month));
		ts += INT64_C(3600000000) * 7;
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Anon_GeneralizeTimestamp);

void BM_Anon_JitterDate(benchmark::State &state)
{
	int64_t day = DaysFromCivil(2000, 1, 1);
	for (auto _ : state) {
		benchmark::DoNotOptimize(JitterDate(day++, 0, 7));
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Anon_JitterDate);

void BM_Anon_JitterTimestamp(benchmark::State &state)
{
	int64_t ts = DaysFromCivil(2020, 1, 1) * INT64_C(86400000000);
	for (auto _ : state) {
		benchmark::DoNotOptimize(JitterTimestamp(ts, 1, 0, 0));
		ts += 1000;
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Anon_JitterTimestamp);

void BM_Anon_IpPrefix(benchmark::State &state)
{
	std::array<uint8_t, 16> address = {0x20, 0x01, 0x0d, 0xb8, 0x85, 0xa3, 0,    0,
	                                   0,    0,    0x8a, 0x2e, 0x03, 0x70, 0x73, 0x34};
	uint8_t n = 0;
	for (auto _ : state) {
		std::array<uint8_t, 16> copy = address;
		copy[15] = n++;
		benchmark::DoNotOptimize(IpPrefix(copy.data(), copy.size(), 48));
		benchmark::DoNotOptimize(copy);
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Anon_IpPrefix);

} // namespace

/* main() comes from one other file of core_bench (all of bench/micro links into one binary). */
