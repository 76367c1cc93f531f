#include "errand/store/rocks_logger.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "spdlog/spdlog.h"

namespace errand::store {
namespace {

rocksdb::InfoLogLevel FromSpdlog(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return rocksdb::InfoLogLevel::DEBUG_LEVEL;
    case spdlog::level::debug:
      return rocksdb::InfoLogLevel::INFO_LEVEL;
    case spdlog::level::info:
    case spdlog::level::warn:
      return rocksdb::InfoLogLevel::WARN_LEVEL;
    case spdlog::level::err:
      return rocksdb::InfoLogLevel::ERROR_LEVEL;
    default:
      return rocksdb::InfoLogLevel::FATAL_LEVEL;
  }
}

}  // namespace

RocksLogger::RocksLogger() : rocksdb::Logger(FromSpdlog(spdlog::get_level())) {}

spdlog::level::level_enum RocksLogger::ToSpdlog(rocksdb::InfoLogLevel level) {
  switch (level) {
    case rocksdb::InfoLogLevel::DEBUG_LEVEL:
      return spdlog::level::trace;
    case rocksdb::InfoLogLevel::INFO_LEVEL:
    case rocksdb::InfoLogLevel::HEADER_LEVEL:
      return spdlog::level::debug;
    case rocksdb::InfoLogLevel::WARN_LEVEL:
      return spdlog::level::warn;
    case rocksdb::InfoLogLevel::ERROR_LEVEL:
      return spdlog::level::err;
    default:
      return spdlog::level::critical;
  }
}

void RocksLogger::Logv(const char* format, va_list ap) {
  Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
}

void RocksLogger::LogHeader(const char* format, va_list ap) {
  Logv(rocksdb::InfoLogLevel::HEADER_LEVEL, format, ap);
}

void RocksLogger::Logv(const rocksdb::InfoLogLevel level, const char* format,
                       va_list ap) {
  const spdlog::level::level_enum to = ToSpdlog(level);
  if (!spdlog::should_log(to)) return;
  char small[512];
  va_list copy;
  va_copy(copy, ap);
  const int n = std::vsnprintf(small, sizeof(small), format, copy);
  va_end(copy);
  if (n < 0) return;
  std::string message;
  if (static_cast<size_t>(n) < sizeof(small)) {
    message.assign(small, n);
  } else {
    message.resize(n + 1);
    std::vsnprintf(message.data(), message.size(), format, ap);
    message.resize(n);
  }
  while (!message.empty() && message.back() == '\n') message.pop_back();
  // One entry, one line (RocksDB dumps options and version edits over many).
  std::replace(message.begin(), message.end(), '\n', ' ');
  if (to < spdlog::level::warn) {
    spdlog::log(to, "rocksdb: {}", message);
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  absl::MutexLock lock(&mu_);
  if (message == last_ && now - last_logged_ < kRepeatWindow) {
    ++repeats_;
    return;
  }
  if (repeats_ > 0) {
    spdlog::log(last_level_, "rocksdb: (the last message repeated {} times)",
                repeats_);
  }
  spdlog::log(to, "rocksdb: {}", message);
  last_ = std::move(message);
  last_level_ = to;
  repeats_ = 0;
  last_logged_ = now;
}

}  // namespace errand::store
