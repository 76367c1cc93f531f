// A RocksDB file system for tests that fails file operations on request:
// writes, syncs or reads, once, a given number of times, always, or at a
// rate, as a full disk (NoSpace) or as an I/O error. Give the store its Env:
//
//   auto fs = std::make_shared<errand::testing::FaultInjectionFs>();
//   store::StoreOptions options{dir, true};
//   options.env = fs->NewEnv();
//   ... fs->FailAlways(FaultOp::kWrite, FaultKind::kNoSpace); ...
//   fs->Clear();
//
// Test-only: linked into the test binaries (errand_test_support), never into
// the server.
#ifndef ERRAND_TESTS_SUPPORT_FAULT_INJECTION_FS_H_
#define ERRAND_TESTS_SUPPORT_FAULT_INJECTION_FS_H_

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "absl/synchronization/mutex.h"

namespace errand::testing {

enum class FaultOp : int {
  kWrite = 0,  // Append and PositionedAppend, on every writable file
  kSync = 1,   // Sync, Fsync and RangeSync
  kRead = 2,   // reads of table files, WALs and the MANIFEST
};

enum class FaultKind {
  // A full disk, reported as the POSIX file system reports ENOSPC.
  kNoSpace,
  // A transient device error: an IOError marked retryable, which RocksDB
  // treats as a hard error that the store clears (by reopening) once the
  // fault is gone.
  kIOError,
  // An IOError RocksDB does not retry (what the POSIX file system reports
  // for EIO): writes stay off until the database is reopened.
  kFatalIOError,
};

class FaultInjectionFs final
    : public rocksdb::FileSystemWrapper,
      public std::enable_shared_from_this<FaultInjectionFs> {
 public:
  explicit FaultInjectionFs(std::shared_ptr<rocksdb::FileSystem> base =
                                rocksdb::FileSystem::Default());

  // An Env over this file system, for StoreOptions::env. It keeps this file
  // system alive.
  std::shared_ptr<rocksdb::Env> NewEnv();

  // Fails the next `count` operations of `op` on files whose name contains
  // `file_filter` (every file when empty), e.g. ".log" for the WAL, ".sst",
  // "MANIFEST". Replaces an earlier fault set for `op`.
  void FailNext(FaultOp op, FaultKind kind, int count = 1,
                std::string file_filter = "");
  // Fails every such operation until Clear.
  void FailAlways(FaultOp op, FaultKind kind, std::string file_filter = "");
  // Fails each such operation with probability `rate`; `seed` fixes which.
  void FailAtRate(FaultOp op, FaultKind kind, double rate, uint64_t seed,
                  std::string file_filter = "");
  // Stops failing `op`, or every operation.
  void Clear(FaultOp op);
  void Clear();

  // How many operations of `op` were failed so far.
  int64_t injected(FaultOp op) const;

  // Reports this much free space for every path (nullopt: the real figure).
  void SetFreeSpace(std::optional<uint64_t> bytes);

  // Returns the error to inject into `op` on `file`, or OK. Called by the
  // wrapped files.
  rocksdb::IOStatus MaybeFail(FaultOp op, const std::string& file);

  static const char* kClassName() { return "ErrandFaultInjectionFs"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& fname, const std::string& old_fname,
      const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomAccessFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewSequentialFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSSequentialFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetFreeSpace(const std::string& path,
                                 const rocksdb::IOOptions& options,
                                 uint64_t* free_space,
                                 rocksdb::IODebugContext* dbg) override;

 private:
  struct Fault {
    bool active = false;
    FaultKind kind = FaultKind::kIOError;
    int remaining = 0;  // < 0: no limit
    double rate = 1.0;
    std::string file_filter;
  };
  void Set(FaultOp op, Fault fault);

  mutable absl::Mutex mu_;
  std::array<Fault, 3> faults_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 random_ ABSL_GUARDED_BY(mu_);
  std::optional<uint64_t> free_space_ ABSL_GUARDED_BY(mu_);
  std::array<std::atomic<int64_t>, 3> injected_{};
};

}  // namespace errand::testing

#endif  // ERRAND_TESTS_SUPPORT_FAULT_INJECTION_FS_H_
