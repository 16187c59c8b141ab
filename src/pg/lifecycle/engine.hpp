/*-------------------------------------------------------------------------
 *
 * engine.hpp
 *		The lifecycle engine, inside: the driver (engine.cpp) walks the
 *		declared tables and calls each stage; every stage has its own file
 *		and shares the run's record (run_record.cpp), the leftover accounting
 *		(stage_support.cpp) and the batches (batch.hpp).
 *
 *		Stages, in the order the driver calls them for a table:
 *		  drop_partitions.cpp  whole expired range partitions
 *		  minimize_rows.cpp    rows written before their minimize rule
 *		  update_values.cpp    anonymize and purge values (keyset batches)
 *		  late_queue.cpp       ... and the rows queued behind the watermark
 *		  move_rows.cpp        purge rows, then archive rows
 *		  archive_rows.cpp     ... one batch sealed into the archive
 *		  purge_archive.cpp    expired archived rows, once per run
 *
 * IDENTIFICATION
 *		src/pg/lifecycle/engine.hpp
 *-------------------------------------------------------------------------
 */
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lifecycle/age_windows.hpp"
#include "lifecycle/batch.hpp"
#include "lifecycle/lifecycle.hpp"
#include "lifecycle/lifecycle_sql.hpp"
#include "boundary/spi_query.hpp"

namespace pg_retention::pg::lifecycle
{

class Keyset;

/* The longest a heap-order batch waits for a row lock before it skips locked rows. */
constexpr int kHeapPathLockTimeoutMs = 1;

/* Advisory lock class of "a run is in progress in this database" ('RET1'). */
constexpr int32_t kRunLockClass = 0x52455431;

/*
 * The rows a purge or archive takes, as parts built once per stage: the
 * table (alias r) and the rows' conditions on it.  The index path selects
 * their ctids, the heap path puts the conditions on its DELETE itself,
 * and the leftover probe counts them: the same text in each.
 */
struct DueRows {
	std::string table; /* the leaf, qualified */
	std::string where; /* conditions on r, $1 the cutoff */

	/* SELECT r.ctid FROM <table> r WHERE <where> */
	std::string Select() const { return "SELECT r.ctid FROM " + table + " r WHERE " + where; }
};

/* Where a value stage's pass in heap order stands (retention.value_pass; value_pass.cpp). */
struct ValuePass {
	std::string cutoff;     /* fixed for the pass, as text */
	std::string snapshot;   /* pg_snapshot text, taken when it began */
	int64_t next_block = 0; /* the first range not yet visited */
	int64_t end_block = 0;  /* the table's size in blocks when it began */
};

/*
 * Runs `once(false)` under a lock_timeout of kHeapPathLockTimeoutMs, in a
 * subtransaction: no row lock of its own first.  Only when it meets a row
 * an application transaction holds is it rolled back and `once(true)` run
 * instead (skipping locked rows, FOR UPDATE SKIP LOCKED), and
 * `skipped_locked` set: the run waits at most kHeapPathLockTimeoutMs for
 * the application.
 */
template <typename Once> auto WithoutWaiting(Once &&once, bool &skipped_locked)
{
	decltype(once(false)) result{};
	try {
		InEngineSubtransaction([&] {
			Batcher::SetLockTimeout(kHeapPathLockTimeoutMs);
			result = once(false);
			Batcher::SetLockTimeout(LockTimeoutMs());
		});
		return result;
	} catch (const BatchFailed &f) {
		if (f.sqlstate != "55P03")
			throw;
	}
	skipped_locked = true;
	return once(true);
}

/* What one stage of one relation did. */
struct StageOutcome {
	int64_t due = 0;
	int64_t done = 0;
	int64_t blocked = 0;
	std::string blocked_by;
	int batches = 0;
};

/* One row of retention.run_detail, kept in memory too (dry runs write it at the end). */
struct DetailRecord {
	Oid relid;
	std::string table_text;
	std::string column;
	std::string action;
	StageOutcome outcome;
	std::string status;
	std::string error;
	std::string access_path; /* purge and archive: "index" or "heap" */
};

inline std::string Str(int64_t v)
{
	return std::to_string(v);
}

/* Why a value stage left `n` rows of its batches unchanged (its status is then partial). */
inline std::string SkippedByTrigger(int64_t n)
{
	return Str(n) + " row(s) of its batches were left unchanged behind the watermark: a BEFORE " +
	       "UPDATE trigger skipped them (returned NULL)";
}

/* The text values of one column of a result. */
std::vector<std::string> ColumnsOf(const SqlResult &r, size_t column);

/* ---- the key access path (key_rows.cpp) ---- */
/* Whether the batches of `t` select rows by key (Citus tables; access_path = key). */
bool ByKey(const Target &t);
/* The least rows of a key-path batch on a Citus table (KeyBatchSize). */
constexpr int64_t kCitusLeastBatchRows = 5000;
/* The next key-path batch's size after `rows` in `elapsed_ms` (0 rows: the first). */
int64_t KeyBatchSize(const Target &t, int64_t rows, double elapsed_ms);
/* A WHERE condition: the rows whose key `rows` (a SELECT of the key columns) returns. */
std::string RowsIn(const Target &t, const std::string &rows);
/* Why `method` cannot rewrite a column of `t` ("" when it can: not Citus, or IMMUTABLE). */
std::string RefusedOnCitus(const Target &t, const MethodCall &method);

class Engine
{
public:
	Engine(const RunOptions &options, TransactionControl &tx);

	RunSummary Run();

	const std::vector<DetailRecord> &details() const { return details_; }

	/* Releases the run lock; safe after an error (a session lock needs no transaction). */
	static void ReleaseRunLock();

private:
	struct DryRunDone {
	};

	const RunOptions &options_;
	TransactionControl &tx_;
	Batcher batcher_;
	RunSummary summary_;
	std::string now_;
	std::vector<DetailRecord> details_;
	std::set<Oid> partial_tables_; /* declared tables with a stage that left due rows */
	std::string partial_text_;
	int64_t late_held_ = 0; /* late rows ProcessLateRows found held: queued again */

	/* ---- the driver (engine.cpp) ---- */
	void AcquireRunLock();
	void RequireRunLock();
	bool StopRequested() const;
	static std::string TimestampText(TimestampTz ts);
	static std::vector<const DeclaredTable *>
	InProcessingOrder(const std::vector<DeclaredTable> &tables);
	void ProcessTable(const DeclaredTable &t);
	bool Paused(Oid relid);
	static std::string TypeName(Oid type);
	Target MakeTarget(const DeclaredTable &t, Oid leaf, const std::vector<DeclaredTable> &all);

	/* ---- the run's record: history, details, notices (run_record.cpp) ---- */
	int64_t InsertHistory();
	void RecordEnd(const SqlValue &message);
	void WriteDetail(const DetailRecord &d, bool insert);
	DetailRecord &Detail(const Target &t, const std::string &column, const char *action);
	int64_t StartDetail(const Target &t, const std::string &column, const char *action,
	                    int64_t due);
	void UpdateDetail(const Target &t, const std::string &column, const char *action,
	                  const StageOutcome &o, const char *status);
	void RecordFailure(const DeclaredTable &t, const std::string &column, const char *action,
	                   const std::string &error);
	void Notice(const char *level, const std::string &text);
	void Report(const Target &t, const std::string &column, const char *action,
	            const StageOutcome &o, double seconds);
	void Finish(const Target &t, const std::string &column, const char *action,
	            const StageOutcome &o, std::chrono::steady_clock::time_point started,
	            const std::string &left_undone = "");

	/* ---- what every stage uses (stage_support.cpp) ---- */
	int64_t Count(const Target &t, const std::string &sql, const std::vector<SqlValue> &params);
	std::string StageHorizon();
	std::pair<int64_t, int64_t> ProbeLeftover(const Target &t, const std::string &due_select,
	                                          std::vector<SqlValue> params, std::vector<Oid> types,
	                                          const std::string &horizon);
	std::string AccountLeftover(const Target &t, StageOutcome &o, const std::string &due_select,
	                            const std::vector<SqlValue> &params, const std::vector<Oid> &types,
	                            const std::string &horizon);
	std::string AccountLeft(StageOutcome &o, int64_t locked, int64_t left);
	void FailIfAgeMoved(const Target &t, int64_t moved, const char *action);
	std::string Cutoff(const Target &t, const Delay &delay);
	template <typename Work> void Batch(Work &&work) { batcher_.Run(std::forward<Work>(work)); }

	/* ---- the stages ---- */
	void DropExpiredPartitions(const DeclaredTable &t, const Delay &delay);
	void MinimizeExistingRows(const Target &t);
	void UpdateValues(const Target &t, const DeclaredColumn &c, const char *action,
	                  const Delay &delay, const std::string &expression);
	int64_t ProcessLateRows(const Target &t, const ColumnInfo &column, const char *action,
	                        const std::string &expression, const std::string &cutoff,
	                        const std::vector<SqlValue> &mark);
	void ForgetQueued(const Target &t, const std::string &attnum, const SqlResult &processed);
	std::vector<bool> QueuedAmong(const Target &t, const std::string &attnum,
	                              const std::vector<SqlRow> &keys);
	int64_t TallyLateRows(const Target &t, const SqlResult &counts, const char *action);
	/* the late-row queues of a Citus table's nodes (citus_late_queue.cpp) */
	int64_t ProcessCitusLateRows(const Target &t, const ColumnInfo &column, const char *action,
	                             const std::string &expression, const std::string &cutoff,
	                             const std::vector<SqlValue> &mark);
	int64_t UpdateQueuedRows(const Target &t, const ColumnInfo &column, const char *action,
	                         const std::string &expression, const std::string &cutoff,
	                         const std::vector<SqlValue> &mark,
	                         const std::vector<std::vector<SqlValue>> &keys,
	                         const std::vector<std::string> &digests);
	int64_t CountBlocked(const Target &t, const std::string &cutoff, std::string &blocked_by);
	/* a value stage's pass in heap order (value_pass.cpp) */
	std::optional<ValuePass> LoadValuePass(const Target &t, const std::string &attnum,
	                                       const char *action);
	static bool PlainUpdates(const Target &t);
	ValuePass BeginValuePass(const Target &t, const std::string &attnum, const char *action,
	                         const std::string &cutoff, int64_t blocks);
	void KeepPassKeys(const Target &t, const std::string &attnum, const char *action,
	                  const SqlValue &row_keys, const std::optional<DatumParam> &binary = {});
	bool RunValuePass(const Target &t, const ColumnInfo &column, const char *action,
	                  const std::string &expression, const std::string &due, ValuePass &pass,
	                  std::vector<SqlValue> &mark, StageOutcome &o, std::string &left);
	SqlResult SweepRows(const Target &t, const ColumnInfo &column, const std::string &expression,
	                    const Keyset &keyset, const std::vector<SqlRow> &keys);
	void MoveRows(const Target &t, const char *action, const Delay &delay);
	int64_t EstimateDue(const Target &t, const std::string &select,
	                    const std::vector<SqlValue> &params);
	const char *ChooseAccessPath(const Target &t, int64_t due, int64_t &blocks);
	void MoveRowsInIndexOrder(const Target &t, bool archive, const DueRows &due,
	                          const std::vector<SqlValue> &params, StageOutcome &o);
	std::pair<int64_t, int64_t> MoveRowsInHeapOrder(const Target &t, bool archive,
	                                                const DueRows &due,
	                                                const std::vector<SqlValue> &params,
	                                                int64_t blocks, const std::string &horizon,
	                                                StageOutcome &o);
	int64_t MoveBlockRange(const Target &t, bool archive, const DueRows &due,
	                       const std::string &range, const std::vector<SqlValue> &params,
	                       bool &skipped_locked);
	/* `p`: cutoff, $2, run id, purge delay, $5; $2 is the heap and index
	 * paths' batch size, or the key path's window bound (window_bound) */
	SqlResult ArchiveRows(const Target &t, const std::string &which, const std::vector<SqlValue> &p,
	                      bool window_bound = false);
	void PurgeArchive();

	/* ---- the key access path (key_rows.cpp) ---- */
	int64_t MinimizeBatchByKey(const Target &t, const std::string &sets, const std::string &differs,
	                           int64_t size, int64_t &moved);
	SqlResult UpdateBatchByKey(const Target &t, const ColumnInfo &column,
	                           const std::string &expression, const std::string &batch_rows,
	                           int last_first, const std::vector<SqlValue> &params,
	                           const std::vector<Oid> &types, int64_t found);
	void MoveRowsByKey(const Target &t, const char *action, const Delay &delay);
	SqlResult NextValueBatchByKey(const Target &t, const Keyset &keyset,
	                              std::optional<AgeWindows> &windows, int64_t size,
	                              int64_t previous);
	SqlResult UpdateBatchHere(const Target &t, const ColumnInfo &column,
	                          const std::string &expression, const std::string &batch_rows,
	                          const std::vector<SqlValue> &params, const std::vector<Oid> &types,
	                          const std::string &returning);
};

} // namespace pg_retention::pg::lifecycle
