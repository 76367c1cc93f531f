#include "errand/visibility/writer.h"

#include <algorithm>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "errand/store/activity_record.h"
#include "errand/store/keys.h"
#include "errand/store/records.h"
#include "spdlog/spdlog.h"

namespace errand::visibility {
namespace {

namespace enums = temporal::api::enums::v1;
using store::FromProtoDuration;
using store::FromProtoTime;
using store::ToProtoDuration;
using store::ToProtoTime;

bool Closed(const Row& row) { return store::IsClosedApiStatus(row.status()); }

std::string KeyOf(absl::string_view namespace_id, const Row& row) {
  return store::VisibilityKey(namespace_id, Closed(row),
                              FromProtoTime(row.close_time()),
                              FromProtoTime(row.schedule_time()), row.run_id());
}

// Every index key of `row`, stored at `row_key`: what goes in with the row
// and out with it.
std::vector<std::string> IndexKeysOf(absl::string_view namespace_id,
                                     const Row& row,
                                     absl::string_view row_key) {
  const std::pair<const char*, std::string> values[] = {
      {"TaskQueue", row.task_queue()},
      {"ActivityType", row.activity_type().name()},
      {"ExecutionStatus", store::ExecutionStatusName(row.status())}};
  std::vector<std::string> keys;
  for (const auto& [attribute, value] : values) {
    if (Indexable(value)) {
      keys.push_back(store::IndexKey(namespace_id, attribute, value, row_key));
    }
  }
  keys.push_back(store::TimeIndexKey(
      namespace_id, "StartTime", FromProtoTime(row.schedule_time()), row_key));
  if (row.has_close_time()) {
    keys.push_back(store::TimeIndexKey(
        namespace_id, "CloseTime", FromProtoTime(row.close_time()), row_key));
  }
  return keys;
}

// The row and its index entries in, or out; the counts are the callers'.
void PutRowKeys(store::Batch& batch, absl::string_view namespace_id,
                const Row& row) {
  const std::string row_key = KeyOf(namespace_id, row);
  batch.Put(store::Table::kVisibility, row_key, row.SerializeAsString());
  for (const std::string& key : IndexKeysOf(namespace_id, row, row_key)) {
    batch.Put(store::Table::kVisibilityIndex, key, "");
  }
}

void DeleteRowKeys(store::Batch& batch, absl::string_view namespace_id,
                   const Row& row, absl::string_view row_key) {
  batch.Delete(store::Table::kVisibility, row_key);
  for (const std::string& key : IndexKeysOf(namespace_id, row, row_key)) {
    batch.Delete(store::Table::kVisibilityIndex, key);
  }
}

// The counts a row is in: its namespace's total of its status, and its
// status's count for its task queue and for its activity type, each only if
// Indexable (Count scans for the others).
std::vector<std::string> CountKeysOf(absl::string_view namespace_id,
                                     enums::ActivityExecutionStatus status,
                                     absl::string_view task_queue,
                                     absl::string_view activity_type) {
  const absl::string_view name = store::ExecutionStatusName(status);
  std::vector<std::string> keys{store::CountKey(namespace_id, name)};
  if (Indexable(task_queue)) {
    keys.push_back(
        store::CountKey(namespace_id, "TaskQueue", task_queue, name));
  }
  if (Indexable(activity_type)) {
    keys.push_back(
        store::CountKey(namespace_id, "ActivityType", activity_type, name));
  }
  return keys;
}

std::vector<std::string> CountKeysOf(absl::string_view namespace_id,
                                     const Row& row) {
  return CountKeysOf(namespace_id, row.status(), row.task_queue(),
                     row.activity_type().name());
}

google::protobuf::Timestamp ExecutionTimeOf(const store::ActivityRecord& r) {
  return ToProtoTime(FromProtoTime(r.schedule_time()) +
                     FromProtoDuration(r.options().start_delay()));
}

}  // namespace

bool Indexable(absl::string_view value) {
  return value.find('\0') == absl::string_view::npos;
}

Row RowOf(const store::ActivityRecord& r) {
  Row info;
  info.set_activity_id(r.activity_id());
  info.set_run_id(r.run_id());
  *info.mutable_activity_type() = r.activity_type();
  *info.mutable_schedule_time() = r.schedule_time();
  *info.mutable_execution_time() = ExecutionTimeOf(r);
  if (r.has_close_time()) {
    *info.mutable_close_time() = r.close_time();
    *info.mutable_execution_duration() = ToProtoDuration(
        FromProtoTime(r.close_time()) - FromProtoTime(r.schedule_time()));
  }
  info.set_status(store::ApiStatus(r.status()));
  info.set_task_queue(r.options().task_queue().name());
  *info.mutable_search_attributes() = r.search_attributes();
  // As Temporal: an open run's row has no transition count (its upstream
  // tests expect it unset until the run closes).
  if (r.has_close_time()) info.set_state_transition_count(r.version());
  info.set_state_size_bytes(static_cast<int64_t>(r.ByteSizeLong()));
  return info;
}

bool RowState::operator==(const RowState& other) const {
  auto same_time = [](const google::protobuf::Timestamp& a,
                      const google::protobuf::Timestamp& b) {
    return a.seconds() == b.seconds() && a.nanos() == b.nanos();
  };
  return status == other.status &&
         close_time.has_value() == other.close_time.has_value() &&
         (!close_time || same_time(*close_time, *other.close_time)) &&
         task_queue == other.task_queue &&
         same_time(execution_time, other.execution_time);
}

RowState RowStateOf(const store::ActivityRecord& record) {
  // Computed as RowOf computes them, without building the whole row: this
  // runs for every record a shard turn loads.
  RowState state{store::ApiStatus(record.status()), std::nullopt,
                 record.options().task_queue().name(), ExecutionTimeOf(record)};
  if (record.has_close_time()) state.close_time = record.close_time();
  return state;
}

void WriteRow(store::Batch& batch, const store::ActivityRecord& record,
              const std::optional<RowState>& stored, bool deleted) {
  if (stored && !deleted && *stored == RowStateOf(record)) return;
  if (!stored && deleted) return;  // created and deleted in one turn
  Row row = RowOf(record);
  const absl::string_view ns = record.namespace_id();
  // The counts move when the public status or the task queue does (the
  // activity type is fixed at creation): out of the stored row's counts that
  // the new row is not in, into the new row's that the stored row was not
  // in. A row rewritten for its execution time stays where it is.
  std::vector<std::string> out, in;
  if (stored) {
    out = CountKeysOf(ns, stored->status, stored->task_queue,
                      row.activity_type().name());
  }
  if (!deleted) in = CountKeysOf(ns, row);
  for (const std::string& key : out) {
    if (std::find(in.begin(), in.end(), key) == in.end()) {
      batch.AddCount(key, -1);
    }
  }
  for (const std::string& key : in) {
    if (std::find(out.begin(), out.end(), key) == out.end()) {
      batch.AddCount(key, 1);
    }
  }
  if (stored) {
    // The stored row is today's with the stored status and close time
    // (rebuilt from the list fields, not kept as a copy of the record).
    Row old = row;
    old.set_status(stored->status);
    old.set_task_queue(stored->task_queue);
    *old.mutable_execution_time() = stored->execution_time;
    if (stored->close_time) {
      *old.mutable_close_time() = *stored->close_time;
    } else {
      old.clear_close_time();
    }
    DeleteRowKeys(batch, ns, old, KeyOf(ns, old));
  }
  if (!deleted) PutRowKeys(batch, ns, row);
}

void DeleteRow(store::Batch& batch, absl::string_view namespace_id,
               const Row& row, absl::string_view row_key) {
  DeleteRowKeys(batch, namespace_id, row, row_key);
  for (const std::string& key : CountKeysOf(namespace_id, row)) {
    batch.AddCount(key, -1);
  }
}

namespace {

// Calls `fn` with each stored row, its namespace ID and its key, in key
// order; stops at the first error `fn` returns. DATA_LOSS for a row or key
// that does not parse.
absl::Status ForEachRow(
    store::Store& store,
    const std::function<absl::Status(absl::string_view namespace_id,
                                     const Row& row, absl::string_view key)>&
        fn) {
  absl::Status error;
  absl::Status scan = store.Scan(
      store::Table::kVisibility, "",
      [&](absl::string_view key, absl::string_view value) {
        Row row;
        if (!row.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError("corrupt visibility row");
          return false;
        }
        const size_t nul = key.find('\0');
        if (nul == absl::string_view::npos) {
          error = absl::DataLossError("malformed visibility key");
          return false;
        }
        error = fn(key.substr(0, nul), row, key);
        return error.ok();
      });
  if (!scan.ok()) return scan;
  return error;
}

}  // namespace

absl::Status EnsureIndex(store::Store& store) {
  using store::Table;
  auto version = store.Get(Table::kMeta, kIndexVersionKey);
  if (!version.ok()) return version.status();
  if (*version && **version == kIndexVersion) return absl::OkStatus();
  // Safe to repeat: the version is written last.
  store::BoundedWriter writer(store);
  if (absl::Status s = writer.DeleteAll(Table::kVisibilityIndex); !s.ok()) {
    return s;
  }
  size_t rows = 0;
  if (absl::Status s =
          ForEachRow(store,
                     [&](absl::string_view namespace_id, const Row& row,
                         absl::string_view key) {
                       ++rows;
                       for (const std::string& index_key :
                            IndexKeysOf(namespace_id, row, key)) {
                         if (absl::Status s = writer.Put(
                                 Table::kVisibilityIndex, index_key, "");
                             !s.ok()) {
                           return s;
                         }
                       }
                       return absl::OkStatus();
                     });
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          writer.Put(Table::kMeta, kIndexVersionKey, kIndexVersion);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = writer.Flush(); !s.ok()) return s;
  // A new store has nothing to rebuild; only an upgrade is worth a line.
  if (*version || rows > 0) {
    spdlog::info("visibility indexes rebuilt for {} rows (layout {} -> {})",
                 rows, *version ? **version : std::string("unversioned"),
                 std::string(kIndexVersion));
  }
  return absl::OkStatus();
}

absl::Status EnsureCounts(store::Store& store) {
  using store::Table;
  auto version = store.Get(Table::kMeta, kCountsVersionKey);
  if (!version.ok()) return version.status();
  if (*version && **version == kCountsVersion) return absl::OkStatus();
  std::map<std::string, int64_t> counts;  // by count key
  size_t rows = 0;
  if (absl::Status s = ForEachRow(store,
                                  [&](absl::string_view namespace_id,
                                      const Row& row, absl::string_view) {
                                    ++rows;
                                    for (std::string& key :
                                         CountKeysOf(namespace_id, row)) {
                                      ++counts[std::move(key)];
                                    }
                                    return absl::OkStatus();
                                  });
      !s.ok()) {
    return s;
  }
  // A few keys per namespace, task queue and activity type: more than one
  // batch should hold, so bounded batches. The version goes first and comes
  // back last, so a rebuild cut short leaves it absent and the next start
  // rebuilds again (and Count meanwhile scans).
  store::BoundedWriter writer(store);
  if (absl::Status s = writer.Delete(Table::kMeta, kCountsVersionKey);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = writer.Flush(); !s.ok()) return s;
  if (absl::Status s = writer.DeleteAll(Table::kVisibilityCounts); !s.ok()) {
    return s;
  }
  for (const auto& [key, count] : counts) {
    if (absl::Status s = writer.Put(Table::kVisibilityCounts, key,
                                    store::EncodeCount(count));
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s =
          writer.Put(Table::kMeta, kCountsVersionKey, kCountsVersion);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = writer.Flush(); !s.ok()) return s;
  if (*version || rows > 0) {
    spdlog::info("visibility counts rebuilt from {} rows", rows);
  }
  return absl::OkStatus();
}

}  // namespace errand::visibility
