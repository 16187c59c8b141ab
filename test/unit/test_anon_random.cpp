/*-------------------------------------------------------------------------
 *
 * test_anon_random.cpp
 *		Unit tests of the per-thread random generator (random.cpp): ranges,
 *		rough uniformity, and no shared numbers across threads or forks.
 *
 * IDENTIFICATION
 *		test/unit/test_anon_random.cpp
 *-------------------------------------------------------------------------
 */
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <limits>
#include <set>
#include <thread>
#include <vector>

#include "crypto/random.hpp"

using namespace pg_retention;

TEST(AnonRandom, BelowStaysBelowTheBoundAndIsRoughlyUniform)
{
	std::array<int, 10> buckets{};
	for (int i = 0; i < 100000; i++) {
		const uint64_t v = RandomBelow(10);
		ASSERT_LT(v, 10u);
		buckets[v]++;
	}
	for (int count : buckets) {
		/* expected 10000, standard deviation about 95 */
		EXPECT_GT(count, 9000);
		EXPECT_LT(count, 11000);
	}
	EXPECT_EQ(RandomBelow(1), 0u);
	EXPECT_EQ(RandomBelow(0), 0u);
}

TEST(AnonRandom, InRangeIncludesBothEnds)
{
	std::set<int64_t> seen;
	for (int i = 0; i < 2000; i++) {
		const int64_t v = RandomInRange(-3, 3);
		ASSERT_GE(v, -3);
		ASSERT_LE(v, 3);
		seen.insert(v);
	}
	EXPECT_EQ(seen.size(), 7u);
	EXPECT_EQ(RandomInRange(5, 5), 5);
	EXPECT_EQ(RandomInRange(5, 4), 5);
}

TEST(AnonRandom, InRangeAcceptsTheWholeInt64Range)
{
	constexpr int64_t lo = std::numeric_limits<int64_t>::min();
	constexpr int64_t hi = std::numeric_limits<int64_t>::max();
	bool negative = false, positive = false;
	for (int i = 0; i < 200; i++) {
		const int64_t v = RandomInRange(lo, hi);
		negative |= v < 0;
		positive |= v > 0;
	}
	EXPECT_TRUE(negative && positive);
}

TEST(AnonRandom, UnitIsInTheHalfOpenInterval)
{
	double lowest = 1, highest = 0;
	for (int i = 0; i < 10000; i++) {
		const double v = RandomUnit();
		ASSERT_GE(v, 0.0);
		ASSERT_LT(v, 1.0);
		lowest = std::min(lowest, v);
		highest = std::max(highest, v);
	}
	EXPECT_LT(lowest, 0.01);
	EXPECT_GT(highest, 0.99);
}

TEST(AnonRandom, FillSpansBufferRefillsWithoutRepeating)
{
	std::vector<uint8_t> a(10000), b(10000);
	RandomFill(a.data(), a.size());
	RandomFill(b.data(), b.size());
	EXPECT_NE(a, b);
	std::set<uint8_t> values(a.begin(), a.end());
	EXPECT_EQ(values.size(), 256u);
}

TEST(AnonRandom, ReseedKeepsGivingNumbers)
{
	const uint64_t before = RandomU64();
	ReseedRandom();
	std::set<uint64_t> seen = {before};
	for (int i = 0; i < 1000; i++)
		seen.insert(RandomU64());
	EXPECT_EQ(seen.size(), 1001u);
}

TEST(AnonRandom, ThreadsDrawDifferentNumbers)
{
	std::vector<uint64_t> first(4);
	std::vector<std::thread> threads;
	for (size_t i = 0; i < first.size(); i++)
		threads.emplace_back([&first, i] { first[i] = RandomU64(); });
	for (std::thread &t : threads)
		t.join();
	EXPECT_EQ(std::set<uint64_t>(first.begin(), first.end()).size(), first.size());
}

TEST(AnonRandom, AForkedChildDoesNotRepeatItsParentsNumbers)
{
	(void)RandomU64(); /* the parent's buffer is filled before the fork */
	int pipe_fds[2];
	ASSERT_EQ(pipe(pipe_fds), 0);
	const pid_t child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		uint64_t values[4];
		for (uint64_t &v : values)
			v = RandomU64();
		const ssize_t written = write(pipe_fds[1], values, sizeof values);
		_exit(written == sizeof values ? 0 : 1);
	}
	close(pipe_fds[1]);
	uint64_t from_child[4];
	ASSERT_EQ(read(pipe_fds[0], from_child, sizeof from_child), ssize_t(sizeof from_child));
	close(pipe_fds[0]);
	int status = 0;
	waitpid(child, &status, 0);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	uint64_t from_parent[4];
	for (uint64_t &v : from_parent)
		v = RandomU64();
	for (uint64_t c : from_child)
		for (uint64_t p : from_parent)
			EXPECT_NE(c, p);
}
