#ifndef ERRAND_STORE_DATA_DIR_LOCK_H_
#define ERRAND_STORE_DATA_DIR_LOCK_H_

#include <string>

#include "absl/status/statusor.h"

namespace errand::store {

// An exclusive advisory lock (flock) on <data_dir>/errand.lock, held for the
// lock's lifetime. It exists to give a clear error when a second errand
// points at a directory already in use; the kernel drops it if we crash.
class DataDirLock {
 public:
  static absl::StatusOr<DataDirLock> Acquire(const std::string& data_dir);

  DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace errand::store

#endif  // ERRAND_STORE_DATA_DIR_LOCK_H_
