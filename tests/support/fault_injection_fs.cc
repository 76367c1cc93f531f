#include "support/fault_injection_fs.h"

#include <utility>

namespace errand::testing {
namespace {

rocksdb::IOStatus Injected(FaultKind kind, const std::string& file) {
  switch (kind) {
    case FaultKind::kNoSpace: {
      // As the POSIX file system reports ENOSPC.
      rocksdb::IOStatus s = rocksdb::IOStatus::NoSpace(
          "While appending to file: " + file, "No space left on device");
      s.SetRetryable(true);
      return s;
    }
    case FaultKind::kIOError: {
      rocksdb::IOStatus s = rocksdb::IOStatus::IOError(
          "While writing file: " + file, "Input/output error");
      s.SetRetryable(true);
      return s;
    }
    case FaultKind::kFatalIOError:
      return rocksdb::IOStatus::IOError("While writing file: " + file,
                                        "Input/output error");
  }
  return rocksdb::IOStatus::IOError("injected");
}

class FaultyWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWritableFile(std::unique_ptr<rocksdb::FSWritableFile> target,
                     FaultInjectionFs* fs, std::string name)
      : FSWritableFileOwnerWrapper(std::move(target)),
        fs_(fs),
        name_(std::move(name)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_->MaybeFail(FaultOp::kWrite, name_); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_->MaybeFail(FaultOp::kWrite, name_); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data,
                                     uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_->MaybeFail(FaultOp::kWrite, name_); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options,
                                                        dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data,
                                     uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_->MaybeFail(FaultOp::kWrite, name_); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options,
                                                        info, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_->MaybeFail(FaultOp::kSync, name_); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_->MaybeFail(FaultOp::kSync, name_); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Fsync(options, dbg);
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes,
                              const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_->MaybeFail(FaultOp::kSync, name_); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::RangeSync(offset, nbytes, options, dbg);
  }

 private:
  FaultInjectionFs* const fs_;
  const std::string name_;
};

class FaultyRandomAccessFile final
    : public rocksdb::FSRandomAccessFileOwnerWrapper {
 public:
  FaultyRandomAccessFile(std::unique_ptr<rocksdb::FSRandomAccessFile> target,
                         FaultInjectionFs* fs, std::string name)
      : FSRandomAccessFileOwnerWrapper(std::move(target)),
        fs_(fs),
        name_(std::move(name)) {}

  rocksdb::IOStatus Read(uint64_t offset, size_t n,
                         const rocksdb::IOOptions& options,
                         rocksdb::Slice* result, char* scratch,
                         rocksdb::IODebugContext* dbg) const override {
    if (auto s = fs_->MaybeFail(FaultOp::kRead, name_); !s.ok()) return s;
    return FSRandomAccessFileOwnerWrapper::Read(offset, n, options, result,
                                                scratch, dbg);
  }
  rocksdb::IOStatus MultiRead(rocksdb::FSReadRequest* reqs, size_t num_reqs,
                              const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_->MaybeFail(FaultOp::kRead, name_); !s.ok()) {
      for (size_t i = 0; i < num_reqs; ++i) reqs[i].status = s;
      return s;
    }
    return FSRandomAccessFileOwnerWrapper::MultiRead(reqs, num_reqs, options,
                                                     dbg);
  }

 private:
  FaultInjectionFs* const fs_;
  const std::string name_;
};

class FaultySequentialFile final
    : public rocksdb::FSSequentialFileOwnerWrapper {
 public:
  FaultySequentialFile(std::unique_ptr<rocksdb::FSSequentialFile> target,
                       FaultInjectionFs* fs, std::string name)
      : FSSequentialFileOwnerWrapper(std::move(target)),
        fs_(fs),
        name_(std::move(name)) {}

  rocksdb::IOStatus Read(size_t n, const rocksdb::IOOptions& options,
                         rocksdb::Slice* result, char* scratch,
                         rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_->MaybeFail(FaultOp::kRead, name_); !s.ok()) return s;
    return FSSequentialFileOwnerWrapper::Read(n, options, result, scratch, dbg);
  }
  rocksdb::IOStatus PositionedRead(uint64_t offset, size_t n,
                                   const rocksdb::IOOptions& options,
                                   rocksdb::Slice* result, char* scratch,
                                   rocksdb::IODebugContext* dbg) override {
    if (auto s = fs_->MaybeFail(FaultOp::kRead, name_); !s.ok()) return s;
    return FSSequentialFileOwnerWrapper::PositionedRead(offset, n, options,
                                                        result, scratch, dbg);
  }

 private:
  FaultInjectionFs* const fs_;
  const std::string name_;
};

}  // namespace

FaultInjectionFs::FaultInjectionFs(std::shared_ptr<rocksdb::FileSystem> base)
    : FileSystemWrapper(std::move(base)), random_(1) {}

std::shared_ptr<rocksdb::Env> FaultInjectionFs::NewEnv() {
  return rocksdb::NewCompositeEnv(shared_from_this());
}

void FaultInjectionFs::Set(FaultOp op, Fault fault) {
  absl::MutexLock lock(&mu_);
  faults_[static_cast<int>(op)] = std::move(fault);
}

void FaultInjectionFs::FailNext(FaultOp op, FaultKind kind, int count,
                                std::string file_filter) {
  Set(op, {true, kind, count, 1.0, std::move(file_filter)});
}

void FaultInjectionFs::FailAlways(FaultOp op, FaultKind kind,
                                  std::string file_filter) {
  Set(op, {true, kind, -1, 1.0, std::move(file_filter)});
}

void FaultInjectionFs::FailAtRate(FaultOp op, FaultKind kind, double rate,
                                  uint64_t seed, std::string file_filter) {
  {
    absl::MutexLock lock(&mu_);
    random_.seed(seed);
  }
  Set(op, {true, kind, -1, rate, std::move(file_filter)});
}

void FaultInjectionFs::Clear(FaultOp op) { Set(op, {}); }

void FaultInjectionFs::Clear() {
  absl::MutexLock lock(&mu_);
  for (Fault& f : faults_) f = {};
}

int64_t FaultInjectionFs::injected(FaultOp op) const {
  return injected_[static_cast<int>(op)].load();
}

void FaultInjectionFs::SetFreeSpace(std::optional<uint64_t> bytes) {
  absl::MutexLock lock(&mu_);
  free_space_ = bytes;
}

rocksdb::IOStatus FaultInjectionFs::MaybeFail(FaultOp op,
                                              const std::string& file) {
  FaultKind kind;
  {
    absl::MutexLock lock(&mu_);
    Fault& fault = faults_[static_cast<int>(op)];
    if (!fault.active || fault.remaining == 0) return rocksdb::IOStatus::OK();
    if (file.find(fault.file_filter) == std::string::npos) {
      return rocksdb::IOStatus::OK();
    }
    if (fault.rate < 1.0 &&
        std::uniform_real_distribution<double>(0, 1)(random_) >= fault.rate) {
      return rocksdb::IOStatus::OK();
    }
    if (fault.remaining > 0) --fault.remaining;
    kind = fault.kind;
  }
  ++injected_[static_cast<int>(op)];
  return Injected(kind, file);
}

rocksdb::IOStatus FaultInjectionFs::NewWritableFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->NewWritableFile(fname, options, &file, dbg);
  if (s.ok()) {
    *result =
        std::make_unique<FaultyWritableFile>(std::move(file), this, fname);
  }
  return s;
}

rocksdb::IOStatus FaultInjectionFs::ReopenWritableFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s =
      target()->ReopenWritableFile(fname, options, &file, dbg);
  if (s.ok()) {
    *result =
        std::make_unique<FaultyWritableFile>(std::move(file), this, fname);
  }
  return s;
}

rocksdb::IOStatus FaultInjectionFs::ReuseWritableFile(
    const std::string& fname, const std::string& old_fname,
    const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s =
      target()->ReuseWritableFile(fname, old_fname, options, &file, dbg);
  if (s.ok()) {
    *result =
        std::make_unique<FaultyWritableFile>(std::move(file), this, fname);
  }
  return s;
}

rocksdb::IOStatus FaultInjectionFs::NewRandomAccessFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
    rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSRandomAccessFile> file;
  rocksdb::IOStatus s =
      target()->NewRandomAccessFile(fname, options, &file, dbg);
  if (s.ok()) {
    *result =
        std::make_unique<FaultyRandomAccessFile>(std::move(file), this, fname);
  }
  return s;
}

rocksdb::IOStatus FaultInjectionFs::NewSequentialFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSSequentialFile>* result,
    rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSSequentialFile> file;
  rocksdb::IOStatus s = target()->NewSequentialFile(fname, options, &file, dbg);
  if (s.ok()) {
    *result =
        std::make_unique<FaultySequentialFile>(std::move(file), this, fname);
  }
  return s;
}

rocksdb::IOStatus FaultInjectionFs::GetFreeSpace(
    const std::string& path, const rocksdb::IOOptions& options,
    uint64_t* free_space, rocksdb::IODebugContext* dbg) {
  {
    absl::MutexLock lock(&mu_);
    if (free_space_) {
      *free_space = *free_space_;
      return rocksdb::IOStatus::OK();
    }
  }
  return target()->GetFreeSpace(path, options, free_space, dbg);
}

}  // namespace errand::testing
