/*-------------------------------------------------------------------------
 *
 * bench_envelope.cpp
 *		Micro-benchmarks of the archive's envelope encryption.
 *
 *		Seal and Open run once per archived row; the archive must keep up
 *		with at least half the throughput of a plain DELETE ... RETURNING /
 *		INSERT, so they should cost on the order of a microsecond for a
 *		typical 200-byte row.  WrapDataKey runs once per new subject.
 *
 * IDENTIFICATION
 *		bench/micro/bench_envelope.cpp
 *-------------------------------------------------------------------------
 */
#include <benchmark/benchmark.h>

#include <string>

#include "crypto/envelope.hpp"

namespace pg_retention
{
namespace
{

constexpr std::string_view kRowAad = "table=16384;subject=0123456789abcdef";
const std::string kRow(200, 'r');

void BM_Seal200Bytes(benchmark::State &state)
{
	const SecureBytes key = NewDataKey();
	for (auto _ : state)
		benchmark::DoNotOptimize(Seal(key, kRow, kRowAad));
	state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kRow.size()));
}
BENCHMARK(BM_Seal200Bytes);

void BM_Open200Bytes(benchmark::State &state)
{
	const SecureBytes key = NewDataKey();
	const std::string sealed = Seal(key, kRow, kRowAad);
	for (auto _ : state)
		benchmark::DoNotOptimize(Open(key, sealed, kRowAad));
	state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kRow.size()));
}
BENCHMARK(BM_Open200Bytes);

void BM_WrapDataKey(benchmark::State &state)
{
	const SecureBytes wrapping_key = NewDataKey();
	const SecureBytes data_key = NewDataKey();
	for (auto _ : state)
		benchmark::DoNotOptimize(WrapDataKey(wrapping_key, 1, data_key, kRowAad));
}
BENCHMARK(BM_WrapDataKey);

void BM_UnwrapDataKey(benchmark::State &state)
{
	const SecureBytes wrapping_key = NewDataKey();
	const std::string wrapped = WrapDataKey(wrapping_key, 1, NewDataKey(), kRowAad);
	for (auto _ : state)
		benchmark::DoNotOptimize(UnwrapDataKey(wrapping_key, wrapped, kRowAad));
}
BENCHMARK(BM_UnwrapDataKey);

} // namespace
} // namespace pg_retention
