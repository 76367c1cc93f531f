#include "errand/store/visibility_key.h"

#include "absl/strings/match.h"
#include "errand/store/records.h"
#include "errand/store/store.h"
#include "spdlog/spdlog.h"

namespace errand::store {

std::vector<std::string> IndexKeysOf(
    absl::string_view namespace_id,
    const temporal::api::activity::v1::ActivityExecutionListInfo& row,
    absl::string_view visibility_key) {
  std::vector<std::string> keys;
  for (const auto& [attribute, value] : IndexedValues(row)) {
    if (Indexable(value)) {
      keys.push_back(IndexKey(namespace_id, attribute, value, visibility_key));
    }
  }
  const absl::string_view row_suffix =
      visibility_key.substr(VisibilityPrefix(namespace_id).size());
  auto add_time = [&](absl::string_view attribute,
                      const google::protobuf::Timestamp& t) {
    keys.push_back(absl::StrCat(
        TimeIndexPrefix(namespace_id, attribute),
        TimeIndexBytes(absl::ToUnixNanos(FromProtoTime(t))), row_suffix));
  };
  add_time("StartTime", row.schedule_time());
  if (row.has_close_time()) add_time("CloseTime", row.close_time());
  return keys;
}

std::optional<TimeIndexEntry> ParseTimeIndexKey(absl::string_view namespace_id,
                                                absl::string_view attribute,
                                                absl::string_view key) {
  const std::string prefix = TimeIndexPrefix(namespace_id, attribute);
  if (!absl::StartsWith(key, prefix) ||
      key.size() < prefix.size() + kTimeIndexBytes) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < kTimeIndexBytes; ++i) {
    v = (v << 8) | static_cast<unsigned char>(key[prefix.size() + i]);
  }
  const int64_t nanos = static_cast<int64_t>(v ^ (uint64_t{1} << 63));
  return TimeIndexEntry{
      absl::FromUnixNanos(nanos),
      absl::StrCat(VisibilityPrefix(namespace_id),
                   key.substr(prefix.size() + kTimeIndexBytes))};
}

std::string TimeIndexSeekKey(absl::string_view namespace_id,
                             absl::string_view attribute, absl::Time t) {
  return absl::StrCat(TimeIndexPrefix(namespace_id, attribute),
                      TimeIndexBytes(absl::ToUnixNanos(t)));
}

absl::string_view RunIdOfVisibilityKey(absl::string_view namespace_id,
                                       absl::string_view row_key) {
  // <prefix> <open/closed byte> <8-byte close time> <8-byte start time> <run>
  const size_t run_at = VisibilityPrefix(namespace_id).size() + 1 + 16;
  if (row_key.size() <= run_at) return {};
  return row_key.substr(run_at);
}

absl::Status EnsureVisibilityIndex(Store& store) {
  auto version = store.Get(Table::kMeta, kVisibilityIndexVersionKey);
  if (!version.ok()) return version.status();
  if (*version && **version == kVisibilityIndexVersion) {
    return absl::OkStatus();
  }
  // Batches of bounded size: a large store must not need one huge write.
  constexpr int kPerBatch = 10000;
  Batch batch = store.NewBatch();
  int pending = 0;
  absl::Status error;
  auto flush = [&]() {
    if (pending == 0) return true;
    error = store.Write(batch);
    batch = store.NewBatch();
    pending = 0;
    return error.ok();
  };
  absl::Status scan = store.Scan(Table::kVisibilityIndex, "",
                                 [&](absl::string_view key, absl::string_view) {
                                   batch.Delete(Table::kVisibilityIndex, key);
                                   return ++pending < kPerBatch || flush();
                                 });
  if (!scan.ok()) return scan;
  if (!error.ok() || !flush()) return error;
  size_t rows = 0;
  scan = store.Scan(
      Table::kVisibility, "",
      [&](absl::string_view key, absl::string_view value) {
        temporal::api::activity::v1::ActivityExecutionListInfo row;
        if (!row.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError("corrupt visibility row");
          return false;
        }
        const size_t nul = key.find('\0');
        if (nul == absl::string_view::npos) {
          error = absl::DataLossError("malformed visibility key");
          return false;
        }
        ++rows;
        for (const std::string& index_key :
             IndexKeysOf(key.substr(0, nul), row, key)) {
          batch.Put(Table::kVisibilityIndex, index_key, "");
          ++pending;
        }
        return pending < kPerBatch || flush();
      });
  if (!scan.ok()) return scan;
  if (!error.ok() || !flush()) return error;
  batch.Put(Table::kMeta, kVisibilityIndexVersionKey, kVisibilityIndexVersion);
  if (absl::Status s = store.Write(batch); !s.ok()) return s;
  // A new store has nothing to rebuild; only an upgrade is worth a line.
  if (*version || rows > 0) {
    spdlog::info("visibility indexes rebuilt for {} rows (layout {} -> {})",
                 rows, *version ? **version : std::string("unversioned"),
                 std::string(kVisibilityIndexVersion));
  }
  return absl::OkStatus();
}

}  // namespace errand::store
