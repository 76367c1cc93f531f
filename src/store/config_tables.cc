#include "errand/store/config_tables.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "errand/store/keys.h"

namespace errand::store {
namespace {

// Parses every value of `table` as a `Record` and hands it to `visit`.
template <typename Record>
absl::Status ScanRecords(const Store& store, Table table,
                         absl::string_view what,
                         const std::function<void(Record)>& visit) {
  absl::Status parse_error;
  absl::Status scan = store.Scan(
      table, "", [&](absl::string_view key, absl::string_view value) {
        Record record;
        if (!record.ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
          parse_error = absl::DataLossError(
              absl::StrCat(what, " ", absl::CHexEscape(key), " is corrupt"));
          return false;
        }
        visit(std::move(record));
        return true;
      });
  return scan.ok() ? parse_error : scan;
}

}  // namespace

absl::Status Namespaces::ScanAll(
    const std::function<void(NamespaceRecord record)>& visit) const {
  return ScanRecords<NamespaceRecord>(*store_, Table::kNamespaces,
                                      "namespace record", visit);
}

void Namespaces::Put(Batch& batch, const NamespaceRecord& record) const {
  batch.Put(Table::kNamespaces, record.name(), record.SerializeAsString());
}

absl::Status TaskQueues::ScanAll(
    const std::function<void(TaskQueueRecord record)>& visit) const {
  return ScanRecords<TaskQueueRecord>(*store_, Table::kTaskQueues,
                                      "task queue config", visit);
}

void TaskQueues::Put(Batch& batch, const TaskQueueRecord& record) const {
  batch.Put(Table::kTaskQueues,
            TaskQueueKey(record.namespace_id(), record.type(), record.name()),
            record.SerializeAsString());
}

}  // namespace errand::store
