#include "errand/store/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "errand/store/rocks_logger.h"
#include "spdlog/spdlog.h"

namespace errand::store {
namespace {

// Memory and disk bounds of the embedded store (see Store::Open).
constexpr size_t kBlockCacheBytes = 64 << 20;
constexpr size_t kMemtableBudgetBytes = 128 << 20;
constexpr size_t kWriteBufferBytes = 32 << 20;
constexpr uint64_t kMaxWalBytes = 256 << 20;
// After a full disk, a resume (which flushes every memtable) is not tried
// until at least this much space is free again.
constexpr uint64_t kResumeMinFreeBytes = 1 << 20;
// While free space stays low, the warning is repeated this often.
constexpr absl::Duration kLowSpaceRewarnInterval = absl::Minutes(10);
// Never written with the WAL and never read: see Store::guard_needed_.
constexpr char kWalGuardKey[] = "~store.wal_guard";

constexpr std::array<const char*, kTableCount> kTableNames = {
    "default",      "namespaces", "executions",
    "current_runs", "visibility", "visibility_index"};

// Used at open, where the operator wants RocksDB's own words (and paths).
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  return absl::UnavailableError(message);
}

bool IsNoSpace(const rocksdb::Status& s) {
  return s.IsNoSpace() ||
         (s.IsIOError() && s.subcode() == rocksdb::Status::kSpaceLimit);
}

// The system's words for an I/O error, such as "Input/output error", without
// the file paths RocksDB puts in its messages (clients are not told about
// the store's files). Empty when nothing path-free is left.
std::string Reason(const rocksdb::Status& s) {
  const char* state = s.getState();
  absl::string_view text = state == nullptr ? "" : state;
  if (const size_t colon = text.rfind(": "); colon != absl::string_view::npos) {
    text = text.substr(colon + 2);
  }
  for (absl::string_view file_part :
       {"/", ".log", ".sst", "MANIFEST", "OPTIONS", "CURRENT"}) {
    if (file_part == "/" ? absl::StartsWith(text, file_part)
                         : absl::StrContains(text, file_part)) {
      return "";
    }
  }
  return std::string(text);
}

// The status a client gets for a store error. Nothing here names a file.
absl::Status ClientStatus(const rocksdb::Status& s, absl::string_view what,
                          const std::string& data_dir) {
  if (IsNoSpace(s)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("no space left on the device holding the data "
                     "directory ",
                     data_dir, "; free space to resume writes"));
  }
  if (s.IsCorruption()) {
    return absl::DataLossError(absl::StrCat(
        what, " failed: corrupt data in the data directory ", data_dir));
  }
  if (s.IsInvalidArgument()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " failed"));
  }
  if (s.IsIOError()) {
    const std::string reason = Reason(s);
    const bool fatal = s.severity() >= rocksdb::Status::Severity::kFatalError;
    return absl::UnavailableError(absl::StrCat(
        what, " failed: I/O error on the device holding the data directory ",
        data_dir, reason.empty() ? "" : absl::StrCat(" (", reason, ")"),
        fatal ? "; writes stay off until the server restarts" : ""));
  }
  // Busy, TryAgain, Incomplete (a write stall cut short), shutdown: the
  // store is there but cannot take this now.
  return absl::UnavailableError(
      absl::StrCat(what, " failed: the store is busy; try again"));
}

rocksdb::Slice ToSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

std::string Bytes(uint64_t bytes) {
  if (bytes >= (uint64_t{10} << 30)) return absl::StrCat(bytes >> 30, " GiB");
  if (bytes >= (uint64_t{1} << 20)) return absl::StrCat(bytes >> 20, " MiB");
  if (bytes >= 1024) return absl::StrCat(bytes >> 10, " KiB");
  return absl::StrCat(bytes, " bytes");
}

}  // namespace

// Reports to the store what it needs to keep resuming safe; see the members
// it sets. Called on RocksDB's threads and on writers' threads.
class Store::Listener final : public rocksdb::EventListener {
 public:
  explicit Listener(Store* store) : store_(store) {}

  void OnMemTableSealed(const rocksdb::MemTableInfo& info) override {
    if (info.cf_name == kTableNames[static_cast<int>(Table::kMeta)]) {
      store_->guard_needed_.store(true, std::memory_order_release);
    }
    // A switch after a failed WAL write always starts a new WAL (the failed
    // one is not empty), so the failed writer is no longer appended to.
    // Seals are serialized with writes, after the error they follow.
    store_->wal_failed_.store(false, std::memory_order_release);
  }

  // The store resumes from errors that stop writes itself (MaybeResume):
  // RocksDB's own recovery of a full disk polls every 5 s, and while it
  // runs DB::Resume only answers Busy. Lesser errors (a compaction that ran
  // out of space) are left to RocksDB, which clears them when space is back.
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason reason,
                            rocksdb::Status bg_error,
                            bool* auto_recovery) override {
    if (bg_error.severity() >= rocksdb::Status::Severity::kHardError) {
      *auto_recovery = false;
    }
  }

 private:
  Store* const store_;
};

void Batch::Put(Table table, absl::string_view key, absl::string_view value) {
  batch_.Put(store_->handle(table), ToSlice(key), ToSlice(value));
}

void Batch::Delete(Table table, absl::string_view key) {
  batch_.Delete(store_->handle(table), ToSlice(key));
}

Store::Store(StoreOptions options, DataDirLock lock)
    : options_(std::move(options)), lock_(std::move(lock)) {}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(
    const StoreOptions& options) {
  auto lock = DataDirLock::Acquire(options.data_dir);
  if (!lock.ok()) return lock.status();
  std::unique_ptr<Store> store(new Store(options, std::move(*lock)));
  if (store->options_.clock == nullptr) {
    store->options_.clock = SystemClock::Get();
  }
  store->listener_ = std::make_shared<Listener>(store.get());

  rocksdb::DBOptions db_options;
  if (options.env) db_options.env = options.env.get();
  // RocksDB's info log goes to spdlog, never to a file: see rocks_logger.h.
  db_options.info_log = std::make_shared<RocksLogger>();
  db_options.listeners.push_back(store->listener_);
  // A failed WAL write must stop writes (RocksDB's default, stated because
  // without it RocksDB would go on appending after a torn record, and
  // recovery would stop at that record, dropping what came after).
  db_options.paranoid_checks = true;
  // No automatic resume of retryable I/O errors: the store resumes itself
  // (MaybeResume), and RocksDB's thread would make DB::Resume answer Busy.
  db_options.max_bgerror_resume_count = 0;
  // Close does not flush: the server flushes on shutdown when writes work,
  // and a flush over a failed WAL makes the error permanent. The WAL-less
  // guard write (see guard_needed_) would otherwise make Close flush.
  db_options.avoid_flush_during_shutdown = true;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  // Memory stays bounded however many activities are stored or queued: all
  // memtables share one budget, and reads share one block cache.
  auto cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(kMemtableBudgetBytes,
                                                    cache);
  // A table written once (namespaces, meta) would otherwise pin every WAL
  // file since its last write: past this size its memtable is flushed so the
  // old logs can go (the default allows gigabytes).
  db_options.max_total_wal_size = kMaxWalBytes;
  // Shard threads commit concurrently: let one write group's WAL write (and
  // fsync) overlap the previous group's memtable inserts, done by the group
  // leader, which on two cores beat inserting in parallel (throughput
  // workload: about 3.1k/s against 2.9k/s). Acknowledgements still wait for
  // the fsync.
  db_options.enable_pipelined_write = true;
  db_options.allow_concurrent_memtable_write = false;
  rocksdb::ColumnFamilyOptions scanned;
  scanned.write_buffer_size = kWriteBufferBytes;
  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = cache;
  scanned.table_factory.reset(
      rocksdb::NewBlockBasedTableFactory(table_options));
  // Tables read by key get Bloom filters (about 1.2 bytes per key): a start
  // looks up a current run that usually does not exist, and a dispatch from
  // a backlog reads a record from one table file of many. Without filters
  // each lookup searched every level-0 file's blocks.
  rocksdb::ColumnFamilyOptions looked_up = scanned;
  table_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  looked_up.table_factory.reset(
      rocksdb::NewBlockBasedTableFactory(table_options));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kTableCount; ++i) {
    const auto table = static_cast<Table>(i);
    const bool is_scanned =
        table == Table::kVisibility || table == Table::kVisibilityIndex;
    descriptors.emplace_back(kTableNames[i], is_scanned ? scanned : looked_up);
  }
  const std::string db_path = options.data_dir + "/db";
  // Made here rather than by RocksDB, which first reports at error level
  // that it cannot list the directory.
  rocksdb::Env* env = db_options.env;
  if (rocksdb::Status made = env->CreateDirIfMissing(db_path); !made.ok()) {
    return FromRocks(made, absl::StrCat("creating ", db_path));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  const rocksdb::Status s =
      rocksdb::DB::Open(db_options, db_path, descriptors, &handles, &raw_db);
  if (IsNoSpace(s)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "opening store at ", db_path, ": no space left on the device holding ",
        "the data directory; free space and start again (", s.ToString(), ")"));
  }
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening store at ", db_path));

  store->db_.reset(raw_db);
  store->all_handles_ = handles;
  for (int i = 0; i < kTableCount; ++i) store->handles_[i] = handles[i];
  // RocksDB flushed what it recovered, so every memtable is empty now.
  {
    // Nothing else has the store yet; the lock is for the analysis only.
    absl::ReaderMutexLock lock(&store->write_mu_);
    store->PlaceWalGuard();
  }
  store->MaybeCheckFreeSpace();
  return store;
}

Store::~Store() {
  if (!db_) return;
  for (auto* h : all_handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

absl::Status Store::Write(Batch& batch) {
  MaybeCheckFreeSpace();
  if (writes_failing_.load(std::memory_order_acquire)) MaybeResume();
  rocksdb::Status s;
  {
    absl::ReaderMutexLock lock(&write_mu_);
    if (guard_needed_.load(std::memory_order_acquire)) PlaceWalGuard();
    rocksdb::WriteOptions write_options;
    write_options.sync = options_.sync;
    s = db_->Write(write_options, &batch.batch_);
    // A write that reached the WAL and failed there gets RocksDB's I/O
    // status as it came (no severity); writes refused because writes are
    // stopped get the stored background error, which carries one. Noted
    // under the lock, so before any resume can switch the WAL.
    if (s.IsIOError() && s.severity() == rocksdb::Status::Severity::kNoError) {
      wal_failed_.store(true, std::memory_order_release);
    }
  }
  if (!s.ok()) return WriteFailed(s);
  if (writes_failing_.load(std::memory_order_acquire) &&
      writes_failing_.exchange(false)) {
    spdlog::info("store writes resumed");
  }
  return absl::OkStatus();
}

absl::Status Store::WriteFailed(const rocksdb::Status& s) {
  const absl::Status status = ClientStatus(s, "store write", options_.data_dir);
  // A malformed batch is the caller's fault, not the store's.
  if (s.IsInvalidArgument() || s.IsNotSupported()) {
    spdlog::error("store write rejected: {}", s.ToString());
    return status;
  }
  failing_for_space_.store(IsNoSpace(s), std::memory_order_release);
  if (!writes_failing_.exchange(true)) {
    next_resume_ns_.store(
        absl::ToUnixNanos(options_.clock->Now() + kResumeInterval),
        std::memory_order_release);
    spdlog::error("store writes failing: {} [{}]",
                  std::string(status.message()), s.ToString());
  } else {
    spdlog::debug("store write failed: {}", s.ToString());
  }
  return status;
}

void Store::MaybeResume() {
  const absl::Time now = options_.clock->Now();
  if (absl::ToUnixNanos(now) <
      next_resume_ns_.load(std::memory_order_acquire)) {
    return;
  }
  // Exclusive: no write is between RocksDB and the WAL while it resumes, and
  // none reaches the WAL before the guard is back.
  absl::MutexLock lock(&write_mu_);
  if (!writes_failing_.load(std::memory_order_acquire) ||
      absl::ToUnixNanos(now) <
          next_resume_ns_.load(std::memory_order_acquire)) {
    return;  // another writer resumed or tried meanwhile
  }
  next_resume_ns_.store(absl::ToUnixNanos(now + kResumeInterval),
                        std::memory_order_release);
  if (failing_for_space_.load(std::memory_order_acquire)) {
    auto free = FreeBytes();
    if (free.ok() && *free < kResumeMinFreeBytes) return;
  }
  if (wal_failed_.load(std::memory_order_acquire) && AllMemtablesEmpty()) {
    // The guard should make this impossible; if it happens anyway, resuming
    // would make RocksDB append to the failed WAL file and abort.
    if (!resume_blocked_logged_.exchange(true)) {
      spdlog::critical(
          "store writes cannot resume in this process (a WAL write failed "
          "while every memtable was empty); restart errand to resume "
          "writes, nothing acknowledged is lost");
    }
    return;
  }
  const rocksdb::Status s = db_->Resume();
  if (!s.ok()) {
    spdlog::debug("store resume failed: {}", s.ToString());
    return;
  }
  wal_failed_.store(false, std::memory_order_release);
  PlaceWalGuard();
  if (writes_failing_.exchange(false)) spdlog::info("store writes resumed");
}

void Store::PlaceWalGuard() {
  guard_needed_.store(false, std::memory_order_release);
  rocksdb::WriteOptions write_options;
  write_options.disableWAL = true;
  rocksdb::WriteBatch guard;
  rocksdb::Status s = guard.Delete(handle(Table::kMeta), kWalGuardKey);
  if (s.ok()) s = db_->Write(write_options, &guard);
  if (!s.ok()) {
    // Writes are stopped; the next write (or resume) tries again.
    guard_needed_.store(true, std::memory_order_release);
    spdlog::debug("store: placing the WAL guard failed: {}", s.ToString());
  }
}

bool Store::AllMemtablesEmpty() const {
  for (auto* h : all_handles_) {
    uint64_t entries = 0;
    if (!db_->GetIntProperty(h, "rocksdb.num-entries-active-mem-table",
                             &entries) ||
        entries > 0) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<uint64_t> Store::FreeBytes() const {
  rocksdb::Env* env =
      options_.env ? options_.env.get() : rocksdb::Env::Default();
  uint64_t free = 0;
  const rocksdb::Status s = env->GetFreeSpace(options_.data_dir, &free);
  if (!s.ok()) return FromRocks(s, "looking up free space");
  return free;
}

void Store::MaybeCheckFreeSpace() const {
  const absl::Time now = options_.clock->Now();
  if (absl::ToUnixNanos(now) <
      next_space_check_ns_.load(std::memory_order_acquire)) {
    return;
  }
  // One caller looks; the others go on with the last figure.
  if (!space_mu_.TryLock()) return;
  next_space_check_ns_.store(absl::ToUnixNanos(now + kFreeSpaceCheckInterval),
                             std::memory_order_release);
  const absl::StatusOr<uint64_t> free = FreeBytes();
  if (!free.ok()) {
    spdlog::debug("store: {}", free.status().ToString());
    space_mu_.Unlock();
    return;
  }
  free_bytes_.store(*free, std::memory_order_release);
  const uint64_t floor = options_.min_free_bytes;
  const uint64_t low =
      std::max(kLowFreeSpaceWarningBytes,
               floor > UINT64_MAX / 4 ? UINT64_MAX : floor * 4);
  const SpaceState state = floor > 0 && *free < floor ? SpaceState::kBelowFloor
                           : *free < low              ? SpaceState::kLow
                                                      : SpaceState::kOk;
  const bool rewarn = state != SpaceState::kOk &&
                      now - last_space_warning_ >= kLowSpaceRewarnInterval;
  if (state != space_state_ || rewarn) {
    const std::string where = absl::StrCat(
        Bytes(*free), " free on the device holding the data directory ",
        options_.data_dir);
    switch (state) {
      case SpaceState::kOk:
        spdlog::info("disk space recovered: {}", where);
        break;
      case SpaceState::kLow:
        spdlog::warn("low disk space: {}{}", where,
                     floor > 0 ? absl::StrCat("; new activity starts are "
                                              "refused below ",
                                              Bytes(floor))
                               : "");
        break;
      case SpaceState::kBelowFloor:
        spdlog::warn(
            "disk space below min_free_space ({}): {}; refusing new activity "
            "starts until space is freed",
            Bytes(floor), where);
        break;
    }
    if (state != SpaceState::kOk) last_space_warning_ = now;
    space_state_ = state;
  }
  space_mu_.Unlock();
}

absl::Status Store::CheckFreeSpaceFloor() const {
  if (options_.min_free_bytes == 0) return absl::OkStatus();
  MaybeCheckFreeSpace();
  const uint64_t free = free_bytes_.load(std::memory_order_acquire);
  if (free >= options_.min_free_bytes) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "not starting new activities: the device holding the data directory ",
      options_.data_dir, " has ", Bytes(free), " free, below min_free_space (",
      Bytes(options_.min_free_bytes),
      "), which is kept for activities already started; free space to "
      "resume"));
}

absl::StatusOr<std::optional<std::string>> Store::Get(
    Table table, absl::string_view key) const {
  std::string value;
  const rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), handle(table), ToSlice(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) {
    spdlog::warn("store read failed: {}", s.ToString());
    return ClientStatus(s, "store read", options_.data_dir);
  }
  return value;
}

absl::Status Store::Scan(
    Table table, absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& visit,
    absl::string_view after) const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handle(table)));
  const bool resume = !after.empty() && after > prefix;
  it->Seek(ToSlice(resume ? after : prefix));
  if (resume && it->Valid() && it->key() == ToSlice(after)) it->Next();
  for (; it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key();
    if (!key.starts_with(ToSlice(prefix))) break;
    const rocksdb::Slice value = it->value();
    if (!visit(absl::string_view(key.data(), key.size()),
               absl::string_view(value.data(), value.size()))) {
      break;
    }
  }
  if (!it->status().ok()) {
    spdlog::warn("store scan failed: {}", it->status().ToString());
    return ClientStatus(it->status(), "store scan", options_.data_dir);
  }
  return absl::OkStatus();
}

absl::Status Store::Flush() {
  absl::MutexLock lock(&write_mu_);
  if (writes_failing_.load(std::memory_order_acquire) ||
      wal_failed_.load(std::memory_order_acquire)) {
    return absl::UnavailableError(
        "store flush skipped: writes are failing (the WAL has everything "
        "acknowledged)");
  }
  rocksdb::FlushOptions flush_options;
  return FromRocks(db_->Flush(flush_options, all_handles_), "store flush");
}

}  // namespace errand::store
