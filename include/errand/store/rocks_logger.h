// RocksDB's info log, sent to spdlog instead of a LOG file in the data
// directory. RocksDB writes its log on the error path itself (a failed write
// logs "Background IO error"); with the log on a full disk, that write failed
// too, and the next one tripped an assertion in RocksDB's file writer, which
// Debian's build keeps, aborting the server. This logger writes no file.
#ifndef ERRAND_STORE_ROCKS_LOGGER_H_
#define ERRAND_STORE_ROCKS_LOGGER_H_

#include <rocksdb/env.h>

#include <chrono>
#include <cstdarg>
#include <string>

#include "absl/synchronization/mutex.h"
#include "spdlog/common.h"

namespace errand::store {

class RocksLogger final : public rocksdb::Logger {
 public:
  // RocksDB skips formatting messages below the level spdlog shows when the
  // logger is made.
  RocksLogger();

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;
  void Logv(const rocksdb::InfoLogLevel level, const char* format,
            va_list ap) override;
  void LogHeader(const char* format, va_list ap) override;

  // RocksDB's DEBUG → trace; INFO and HEADER (its option dump) → debug,
  // as RocksDB reports every flush and compaction there; WARN → warn;
  // ERROR → error; FATAL → critical.
  static spdlog::level::level_enum ToSpdlog(rocksdb::InfoLogLevel level);

  // A warning or error that repeats the previous one within this long is
  // counted, not logged: while writes are stopped RocksDB reports the same
  // background error for every write it refuses.
  static constexpr std::chrono::seconds kRepeatWindow{10};

 private:
  absl::Mutex mu_;
  std::string last_ ABSL_GUARDED_BY(mu_);
  spdlog::level::level_enum last_level_ ABSL_GUARDED_BY(mu_) =
      spdlog::level::off;
  int repeats_ ABSL_GUARDED_BY(mu_) = 0;
  std::chrono::steady_clock::time_point last_logged_ ABSL_GUARDED_BY(mu_);
};

}  // namespace errand::store

#endif  // ERRAND_STORE_ROCKS_LOGGER_H_
