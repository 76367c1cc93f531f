// Every key format of the store's tables, in one place, and the storage
// format version they make up. docs/storage-format.md describes each table,
// its keys and its values; change both together, and bump kFormatVersion
// (with a migration in store.cc) when stored bytes change meaning.
//
// Separators are NUL bytes: namespace IDs (UUIDs), activity IDs and run IDs
// hold none (activity IDs are validated), so keys are unambiguous and the
// keys of one namespace, or one activity, are one prefix.
//
// Times in keys have one encoding: Unix nanoseconds as an int64, big-endian
// with the sign bit flipped, so that byte order is time order (before 1970
// included). Descending keys use the bitwise complement of the same 8 bytes.
#ifndef ERRAND_STORE_KEYS_H_
#define ERRAND_STORE_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace errand::store {

// The storage format this binary reads and writes. The store refuses a data
// directory of a newer or unknown format, and migrates an older one.
//   1: before the format was stored (the visibility rows' descending times
//      were the complement of the unsigned nanoseconds);
//   2: one time encoding for every key, the format version in the meta
//      table;
//   3: the task_queues table (task queue configs);
//   4: the batches table (batch operations), and the activity statuses
//      PAUSED, PAUSE_REQUESTED and RESET_REQUESTED;
//   5: the visibility_counts table (rows per namespace and status).
inline constexpr int kFormatVersion = 5;

// Keys of the meta table.
inline constexpr absl::string_view kFormatVersionKey = "format_version";
inline constexpr absl::string_view kClusterIdKey = "cluster_id";
// The visibility index layout (visibility/writer.h); the index is derived
// from the rows and rebuilt when this differs from the writer's.
inline constexpr absl::string_view kVisibilityIndexVersionKey =
    "visibility_index_version";
// Present once the visibility counters were rebuilt from the rows
// (visibility::EnsureCounts); until then Count does not read them.
inline constexpr absl::string_view kVisibilityCountsVersionKey =
    "visibility_counts_version";

// --- Time -----------------------------------------------------------------

inline constexpr size_t kTimeBytes = 8;

// The 8 bytes of `t` (ascending order).
inline std::string TimeBytes(absl::Time t) {
  const uint64_t v =
      static_cast<uint64_t>(absl::ToUnixNanos(t)) ^ (uint64_t{1} << 63);
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
  return out;
}

// Appends the complement of TimeBytes(t): later times sort first.
inline void AppendTimeDescending(std::string& key, absl::Time t) {
  for (char c : TimeBytes(t)) key.push_back(static_cast<char>(~c));
}

// The time of TimeBytes' 8 bytes at the start of `bytes` (at least 8).
absl::Time TimeFromBytes(absl::string_view bytes);

// --- Executions and current runs ------------------------------------------

// executions: <namespace_id> \0 <activity_id> \0 <run_id>
std::string ExecutionKey(absl::string_view namespace_id,
                         absl::string_view activity_id,
                         absl::string_view run_id);
// current_runs: <namespace_id> \0 <activity_id>
std::string CurrentRunKey(absl::string_view namespace_id,
                          absl::string_view activity_id);

// --- Task queues ------------------------------------------------------------

// task_queues: <namespace_id> \0 <type, one byte> <task queue name>
// The type (temporal.api.enums.v1.TaskQueueType, 1 to 3) comes before the
// name, which may hold any byte, so the key splits unambiguously.
std::string TaskQueueKey(absl::string_view namespace_id, int type,
                         absl::string_view task_queue);

// --- Batch operations -------------------------------------------------------

// batches: <namespace_id> \0 <kind, one byte> <job_id> [\0 <item number>]
// where the kind is 'J' (BatchProgress), 'S' (BatchSpec) or 'I' (one
// BatchItem; the number is 8 bytes big-endian, so items sort in order). Job
// IDs hold no NUL. The jobs of a namespace share BatchJobPrefix.
std::string BatchProgressKey(absl::string_view namespace_id,
                             absl::string_view job_id);
std::string BatchSpecKey(absl::string_view namespace_id,
                         absl::string_view job_id);
std::string BatchJobPrefix(absl::string_view namespace_id);
std::string BatchItemPrefix(absl::string_view namespace_id,
                            absl::string_view job_id);
std::string BatchItemKey(absl::string_view namespace_id,
                         absl::string_view job_id, int64_t item);

// --- Visibility rows ------------------------------------------------------
// Keys sort in the order List returns executions, so a page is a range scan
// and a page token is the last key:
//   <namespace_id> \0 <'0' running | '1' closed> <close time, descending>
//   <start time, descending> <run_id>
// Running executions come first (their close time is the epoch), then closed
// ones by close time, newest first; ties go by start time, newest first,
// then run ID.

inline std::string VisibilityPrefix(absl::string_view namespace_id) {
  return absl::StrCat(namespace_id, absl::string_view("\0", 1));
}

std::string VisibilityKey(absl::string_view namespace_id, bool closed,
                          absl::Time close_time, absl::Time start_time,
                          absl::string_view run_id);

// The run ID at the end of a visibility row key; empty if malformed.
absl::string_view RunIdOfVisibilityKey(absl::string_view namespace_id,
                                       absl::string_view row_key);

// --- Visibility index -----------------------------------------------------
// Equality entries, one per indexed attribute of a row (visibility/writer.h
// decides which), sort in List order for one value:
//   <namespace_id> \0 <attribute> \0 <value> \0 <the row's key without its
//   namespace prefix>
// Time entries serve range predicates and sort by time, oldest first:
//   <namespace_id> \0 <attribute> \0 \0 <time, ascending> <the row's key
//   without its namespace prefix>
// The empty value keeps them apart from the equality entries. Values are
// empty strings.

inline std::string IndexPrefix(absl::string_view namespace_id,
                               absl::string_view attribute,
                               absl::string_view value) {
  const absl::string_view nul("\0", 1);
  return absl::StrCat(namespace_id, nul, attribute, nul, value, nul);
}

// The equality entry for the row at `visibility_key`.
std::string IndexKey(absl::string_view namespace_id,
                     absl::string_view attribute, absl::string_view value,
                     absl::string_view visibility_key);

inline std::string TimeIndexPrefix(absl::string_view namespace_id,
                                   absl::string_view attribute) {
  return IndexPrefix(namespace_id, attribute, "");
}

// The time entry of `attribute` at time `t` for the row at
// `visibility_key`.
std::string TimeIndexKey(absl::string_view namespace_id,
                         absl::string_view attribute, absl::Time t,
                         absl::string_view visibility_key);

// A time index entry, decoded: the time and the visibility row it points at.
struct TimeIndexEntry {
  absl::Time time;
  std::string row_key;
};

// Decodes `key`, an entry under TimeIndexPrefix(namespace_id, attribute);
// nullopt when it is not one.
std::optional<TimeIndexEntry> ParseTimeIndexKey(absl::string_view namespace_id,
                                                absl::string_view attribute,
                                                absl::string_view key);

// A bound for Store::Scan's `after`: the scan then starts at the first entry
// of time `t` or later (entries are longer than this key).
std::string TimeIndexSeekKey(absl::string_view namespace_id,
                             absl::string_view attribute, absl::Time t);

// --- Visibility counters ----------------------------------------------------
// The number of visibility rows with one ExecutionStatus (its name: Running,
// Completed, ...), kept by the visibility writer in the same batch as the
// rows, for a namespace and for one value of an attribute within it:
//   <namespace_id> \0 <attribute> \0 <value> \0 <status name>
// The namespace's totals have an empty attribute and value; the writer
// keeps per-value counts for TaskQueue and ActivityType (values without a
// NUL byte only, visibility::Indexable, so the key splits unambiguously).
// One prefix (CountPrefix) holds the statuses of one (attribute, value), in
// status name order.
// Values are a signed 64-bit count, 8 bytes little-endian (EncodeCount),
// changed only by blind additions (Batch::AddCount) that the store's merge
// operator sums. A count may be 0; it is never negative.

inline std::string CountPrefix(absl::string_view namespace_id,
                               absl::string_view attribute = "",
                               absl::string_view value = "") {
  return IndexPrefix(namespace_id, attribute, value);
}

// The count of `status_name` for `attribute` = `value` in the namespace.
inline std::string CountKey(absl::string_view namespace_id,
                            absl::string_view attribute,
                            absl::string_view value,
                            absl::string_view status_name) {
  return absl::StrCat(CountPrefix(namespace_id, attribute, value), status_name);
}

// The namespace's total of `status_name`.
inline std::string CountKey(absl::string_view namespace_id,
                            absl::string_view status_name) {
  return CountKey(namespace_id, "", "", status_name);
}

inline constexpr size_t kCountBytes = 8;

std::string EncodeCount(int64_t count);
// nullopt unless `bytes` is kCountBytes long.
std::optional<int64_t> DecodeCount(absl::string_view bytes);

}  // namespace errand::store

#endif  // ERRAND_STORE_KEYS_H_
