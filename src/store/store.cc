#include "errand/store/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "errand/store/keys.h"
#include "errand/store/rocks_logger.h"
#include "spdlog/spdlog.h"

namespace errand::store {
namespace {

// Memory and disk bounds of the embedded store (see Store::Open).
constexpr size_t kBlockCacheBytes = 64 << 20;
constexpr size_t kMemtableBudgetBytes = 128 << 20;
constexpr size_t kWriteBufferBytes = 32 << 20;
constexpr uint64_t kMaxWalBytes = 256 << 20;
// After a full disk, a reopen (which flushes what the WAL holds) is not tried
// until at least this much space is free again.
constexpr uint64_t kResumeMinFreeBytes = 1 << 20;
// While free space stays low, the warning is repeated this often.
constexpr absl::Duration kLowSpaceRewarnInterval = absl::Minutes(10);

constexpr std::array<const char*, kTableCount> kTableNames = {
    "default",      "namespaces", "executions",
    "current_runs", "visibility", "visibility_index",
    "task_queues",  "batches",    "visibility_counts"};

// At most this many additions to one count wait in a memtable: at the next
// one RocksDB reads the count and stores the sum instead (a read from the
// memtable, where the last sum is). Without it a hot count (every start adds
// to its namespace's Running) could hold hundreds of thousands of additions
// per memtable, each summed again by every read.
constexpr size_t kMaxSuccessiveAdditions = 64;

// The merge operator of the visibility_counts table: values and operands are
// EncodeCount bytes, and merging adds them (two's complement, so the order
// of additions does not matter). A malformed operand fails the merge, which
// RocksDB reports as corruption rather than a wrong count.
class CountAddOperator final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing_value,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger*) const override {
    const std::optional<int64_t> add =
        DecodeCount(absl::string_view(value.data(), value.size()));
    std::optional<int64_t> base = 0;
    if (existing_value != nullptr) {
      base = DecodeCount(
          absl::string_view(existing_value->data(), existing_value->size()));
    }
    if (!add || !base) return false;
    *new_value = EncodeCount(static_cast<int64_t>(static_cast<uint64_t>(*base) +
                                                  static_cast<uint64_t>(*add)));
    return true;
  }
  const char* Name() const override { return "errand.CountAdd"; }
};

// Format 1 → 2: visibility row keys get the one time encoding. Their two
// descending times were ~u (u: the unsigned nanoseconds), and are now
// ~(u ^ sign bit): the same bytes with the top bit flipped. Times of rows
// are never before 1970, so a field whose top bit is set is still in the
// old encoding; fields already flipped are left alone, which makes the
// migration safe to repeat after a crash halfway. The index entries hold
// row keys too: they are dropped, with the index's version, and the
// visibility writer rebuilds them at start (visibility::EnsureIndex).
absl::Status MigrateFrom1(Store& store) {
  BoundedWriter writer(store);
  if (absl::Status s = writer.Delete(Table::kMeta, kVisibilityIndexVersionKey);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = writer.Flush(); !s.ok()) return s;
  if (absl::Status s = writer.DeleteAll(Table::kVisibilityIndex); !s.ok()) {
    return s;
  }
  absl::Status error;
  absl::Status scan = store.Scan(
      Table::kVisibility, "",
      [&](absl::string_view key, absl::string_view value) {
        const size_t times_at = key.find('\0') + 2;  // after <ns> \0 <0|1>
        if (times_at == 1 || key.size() < times_at + 2 * kTimeBytes) {
          return true;  // not a row key; left for nobody to read
        }
        std::string moved(key);
        bool changed = false;
        for (size_t at : {times_at, times_at + kTimeBytes}) {
          if (moved[at] & 0x80) {
            moved[at] = static_cast<char>(moved[at] ^ 0x80);
            changed = true;
          }
        }
        if (!changed) return true;
        error = writer.Delete(Table::kVisibility, key);
        if (error.ok()) error = writer.Put(Table::kVisibility, moved, value);
        return error.ok();
      });
  if (!scan.ok()) return scan;
  if (!error.ok()) return error;
  return writer.Flush();
}

bool HasData(const Store& store) {
  bool found = false;
  for (int t = 0; t < kTableCount && !found; ++t) {
    (void)store.Scan(static_cast<Table>(t), "",
                     [&](absl::string_view, absl::string_view) {
                       found = true;
                       return false;
                     });
  }
  return found;
}

// Reads the data directory's storage format version, refuses a newer or
// unknown one, migrates an older one and records the current one. A store
// with data but no version is format 1 (written before versions were
// stored); an empty one is new.
absl::Status EnsureFormat(Store& store) {
  auto stored = store.Get(Table::kMeta, kFormatVersionKey);
  if (!stored.ok()) return stored.status();
  int version = 0;
  if (stored->has_value()) {
    if (!absl::SimpleAtoi(**stored, &version) || version < 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the data directory ", store.options().data_dir,
          " has an unknown storage format version \"",
          absl::CHexEscape(**stored),
          "\"; this errand reads format versions 1 to ", kFormatVersion));
    }
    if (version > kFormatVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the data directory ", store.options().data_dir,
          " has storage format version ", version, ", newer than this errand (",
          ERRAND_VERSION, ") reads: format versions 1 to ", kFormatVersion,
          "; run a newer errand, or use another data directory"));
    }
    if (version == kFormatVersion) return absl::OkStatus();
  } else {
    version = HasData(store) ? 1 : kFormatVersion;
  }
  if (version < kFormatVersion) {
    spdlog::info("data directory {}: migrating storage format {} -> {}",
                 store.options().data_dir, version, kFormatVersion);
  }
  if (version == 1) {
    if (absl::Status s = MigrateFrom1(store); !s.ok()) return s;
  }
  // 2 -> 3 added the task_queues table, 3 -> 4 the batches table and 4 -> 5
  // the visibility_counts table, which opening created empty. The counts
  // are derived from the rows: without their version key the visibility
  // writer rebuilds them when the server starts (visibility::EnsureCounts).
  Batch batch = store.NewBatch();
  batch.Delete(Table::kMeta, kVisibilityCountsVersionKey);
  batch.Put(Table::kMeta, kFormatVersionKey, absl::StrCat(kFormatVersion));
  return store.Write(batch);
}

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

struct Store::Db {
  std::unique_ptr<rocksdb::DB> db;
  // Opened for reads only, after a reopen for writing failed.
  bool read_only = false;
  std::array<rocksdb::ColumnFamilyHandle*, kTableCount> handles{};

  rocksdb::ColumnFamilyHandle* handle(Table table) const {
    return handles[static_cast<int>(table)];
  }
  std::vector<rocksdb::ColumnFamilyHandle*> all_handles() const {
    return {handles.begin(), handles.end()};
  }
  ~Db() {
    if (!db) return;
    for (auto* h : handles) {
      if (h != nullptr) db->DestroyColumnFamilyHandle(h);
    }
    // Does not flush (avoid_flush_during_shutdown): a flush over a failed
    // WAL would make the error permanent, and the WAL has everything.
    db->Close();
  }
};

// Keeps RocksDB from resuming on its own after errors that stop writes: the
// store reopens instead (see store.h). Lesser errors (a compaction that ran
// out of space) are left to RocksDB, which clears them when space is back.
// It also notes errors RocksDB calls unrecoverable: the store then leaves
// writes off until the server restarts rather than reopening by itself.
class Store::Listener final : public rocksdb::EventListener {
 public:
  explicit Listener(std::atomic<bool>* fatal) : fatal_(fatal) {}

  void OnBackgroundError(rocksdb::BackgroundErrorReason reason,
                         rocksdb::Status* bg_error) override {
    if (bg_error->severity() >= rocksdb::Status::Severity::kFatalError) {
      fatal_->store(true, std::memory_order_release);
    }
  }

  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason reason,
                            rocksdb::Status bg_error,
                            bool* auto_recovery) override {
    if (bg_error.severity() >= rocksdb::Status::Severity::kHardError) {
      *auto_recovery = false;
    }
  }

 private:
  std::atomic<bool>* const fatal_;
};

void Batch::Put(Table table, absl::string_view key, absl::string_view value) {
  // Column family IDs stay the same when the database is reopened, so a
  // batch built before a reopen is written to the new one as it is.
  std::shared_ptr<const Store::Db> db = store_->CurrentDb();
  if (db == nullptr) {
    detached_ = true;
    return;
  }
  batch_.Put(db->handle(table), ToSlice(key), ToSlice(value));
}

void Batch::Delete(Table table, absl::string_view key) {
  std::shared_ptr<const Store::Db> db = store_->CurrentDb();
  if (db == nullptr) {
    detached_ = true;
    return;
  }
  batch_.Delete(db->handle(table), ToSlice(key));
}

void Batch::AddCount(absl::string_view key, int64_t delta) {
  auto it = count_deltas_.find(key);
  if (it == count_deltas_.end()) {
    count_deltas_.emplace(std::string(key), delta);
  } else {
    it->second += delta;
  }
}

void Batch::AddCountsToBatch(rocksdb::ColumnFamilyHandle* counts) {
  for (const auto& [key, delta] : count_deltas_) {
    if (delta == 0) continue;
    batch_.Merge(counts, ToSlice(key), ToSlice(EncodeCount(delta)));
  }
  count_deltas_.clear();
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
  store->listener_ = std::make_shared<Listener>(&store->failure_fatal_);
  auto db = OpenDb(store->options_, store->listener_, /*read_only=*/false);
  if (!db.ok()) return db.status();
  store->Install(std::move(*db));
  store->MaybeCheckFreeSpace();
  if (absl::Status s = EnsureFormat(*store); !s.ok()) return s;
  return store;
}

absl::StatusOr<std::unique_ptr<Store::Db>> Store::OpenDb(
    const StoreOptions& options, std::shared_ptr<Listener> listener,
    bool read_only) {
  rocksdb::DBOptions db_options;
  if (options.env) db_options.env = options.env.get();
  // RocksDB's info log goes to spdlog, never to a file: see rocks_logger.h.
  db_options.info_log = std::make_shared<RocksLogger>();
  db_options.listeners.push_back(std::move(listener));
  // A failed WAL write must stop writes (RocksDB's default, stated because
  // without it RocksDB would go on appending after a torn record, and
  // recovery would stop at that record, dropping what came after).
  db_options.paranoid_checks = true;
  // No automatic resume of retryable I/O errors: the store reopens instead.
  db_options.max_bgerror_resume_count = 0;
  // Close does not flush: the server flushes on shutdown when writes work,
  // and a flush over a failed WAL makes the error permanent.
  db_options.avoid_flush_during_shutdown = true;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  // Flushes and compactions yield the CPU to the threads that answer calls:
  // on a machine with few cores a flush (50 to 200 ms of CPU) otherwise
  // takes a core from the shards and gRPC while it runs, and the calls of
  // those milliseconds wait (it set the tail of start-to-dispatch latency).
  // When foreground work leaves no CPU at all, memtables fill up and
  // RocksDB's write stall slows the writers until background work catches
  // up, so it is never starved for long.
  for (auto pool :
       {rocksdb::Env::Priority::HIGH, rocksdb::Env::Priority::LOW}) {
    db_options.env->LowerThreadPoolCPUPriority(pool, rocksdb::CpuPriority::kLow)
        .PermitUncheckedError();
  }
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

  // The counts: a few keys per namespace, read by key and by namespace.
  rocksdb::ColumnFamilyOptions counted = looked_up;
  counted.merge_operator = std::make_shared<CountAddOperator>();
  counted.max_successive_merges = kMaxSuccessiveAdditions;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kTableCount; ++i) {
    const auto table = static_cast<Table>(i);
    const bool is_scanned =
        table == Table::kVisibility || table == Table::kVisibilityIndex;
    descriptors.emplace_back(kTableNames[i], table == Table::kVisibilityCounts
                                                 ? counted
                                             : is_scanned ? scanned
                                                          : looked_up);
  }
  const std::string db_path = options.data_dir + "/db";
  // Made here rather than by RocksDB, which first reports at error level
  // that it cannot list the directory.
  rocksdb::Env* env = db_options.env;
  if (rocksdb::Status made = env->CreateDirIfMissing(db_path); !made.ok()) {
    return FromRocks(made, absl::StrCat("creating ", db_path));
  }
  // RocksDB refuses to open a database without naming all its column
  // families; one this binary does not know comes from a newer format, and
  // gets the same clear refusal as a newer format version.
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(db_options, db_path, &existing).ok()) {
    for (const std::string& name : existing) {
      if (std::find(kTableNames.begin(), kTableNames.end(), name) ==
          kTableNames.end()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the data directory ", options.data_dir, " has a table \"", name,
            "\" that this errand (", ERRAND_VERSION,
            ") does not know: it was written by a newer errand, whose storage "
            "format this one cannot read (this one reads format versions 1 to ",
            kFormatVersion,
            "); run a newer errand, or use another data "
            "directory"));
      }
    }
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  const rocksdb::Status s =
      read_only ? rocksdb::DB::OpenForReadOnly(db_options, db_path, descriptors,
                                               &handles, &raw_db)
                : rocksdb::DB::Open(db_options, db_path, descriptors, &handles,
                                    &raw_db);
  if (IsNoSpace(s)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "opening store at ", db_path, ": no space left on the device holding ",
        "the data directory; free space and start again (", s.ToString(), ")"));
  }
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening store at ", db_path));
  auto db = std::make_unique<Db>();
  db->db.reset(raw_db);
  db->read_only = read_only;
  for (int i = 0; i < kTableCount; ++i) db->handles[i] = handles[i];
  return db;
}

Store::~Store() {
  std::shared_ptr<const Db> last;
  {
    absl::MutexLock lock(&db_mu_);
    closing_ = true;
    last = std::move(db_);
  }
  // Nothing else holds the database once its users are gone: this closes it.
}

std::shared_ptr<const Store::Db> Store::CurrentDb() const {
  absl::ReaderMutexLock lock(&db_mu_);
  return db_;
}

std::shared_ptr<const Store::Db> Store::CurrentDbOrWait() const {
  absl::MutexLock lock(&db_mu_);
  if (db_ == nullptr && reopening_) {
    // The reopen runs on whichever thread lets go of the old database last,
    // usually within milliseconds. Bounded: this thread may itself hold the
    // old database (a read made inside a scan), which the reopen waits for.
    db_mu_.AwaitWithTimeout(
        absl::Condition(
            +[](const bool* reopening) { return !*reopening; }, &reopening_),
        kReopenWait);
  }
  return db_;
}

void Store::Install(std::unique_ptr<Db> db) {
  std::shared_ptr<const Db> shared(
      db.release(), [this](const Db* old) { Retired(const_cast<Db*>(old)); });
  {
    absl::MutexLock lock(&db_mu_);
    std::swap(db_, shared);
    generation_.fetch_add(1, std::memory_order_release);
  }
  // `shared` now holds what was current (nothing, in practice); let go of it
  // outside the lock, since letting go of a database can retire it.
}

void Store::Retired(Db* db) {
  delete db;
  bool reopen = false;
  {
    absl::MutexLock lock(&db_mu_);
    reopen = !closing_ && reopening_;
  }
  if (reopen) OpenAgain();
}

void Store::OpenAgain() {
  auto opened = OpenDb(options_, listener_, /*read_only=*/false);
  if (!opened.ok()) {
    // Reads go on from the database opened read-only (which writes nothing,
    // so needs no space); the next due write tries again.
    spdlog::warn(
        "store: reopening the database for writing failed, trying again "
        "later: {}",
        opened.status().ToString());
    opened = OpenDb(options_, listener_, /*read_only=*/true);
    if (!opened.ok()) {
      spdlog::error("store: opening the database read-only failed too: {}",
                    opened.status().ToString());
    }
  }
  const bool writable = opened.ok() && !(*opened)->read_only;
  if (opened.ok()) Install(std::move(*opened));
  {
    absl::MutexLock lock(&db_mu_);
    reopening_ = false;
  }
  if (writable && writes_failing_.exchange(false)) {
    spdlog::info("store writes resumed (database reopened)");
  }
}

absl::Status Store::NoDbStatus(absl::string_view what) const {
  return absl::UnavailableError(
      absl::StrCat(what,
                   " failed: the store is reopening its database after "
                   "a write error; try again"));
}

void Store::ReopenIfDue() {
  if (writes_failing_.load(std::memory_order_acquire)) {
    MaybeReopen();
    // So that the first write after a fault clears does not fail for a
    // reopen still finishing on another thread (see CurrentDbOrWait).
    CurrentDbOrWait();
  }
}

Batch Store::NewBatch() {
  ReopenIfDue();
  return Batch(this);
}

absl::Status Store::Write(Batch& batch) {
  MaybeCheckFreeSpace();
  std::shared_ptr<const Db> db = CurrentDb();
  if (db == nullptr || db->read_only || batch.detached_) {
    absl::MutexLock lock(&failure_mu_);
    return last_failure_.ok() ? NoDbStatus("store write") : last_failure_;
  }
  batch.AddCountsToBatch(db->handle(Table::kVisibilityCounts));
  if (batch.batch_.Count() == 0) return absl::OkStatus();
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync;
  const absl::Time began = options_.clock->Now();
  const rocksdb::Status s = db->db->Write(write_options, &batch.batch_);
  if (!s.ok()) return WriteFailed(s);
  if (options_.write_latency != nullptr) {
    options_.write_latency->Observe(
        absl::ToDoubleSeconds(options_.clock->Now() - began));
  }
  return absl::OkStatus();
}

StoreFigures Store::Figures() const {
  StoreFigures f;
  f.writes_failing = writes_failing();
  std::error_code ec;
  for (auto it =
           std::filesystem::recursive_directory_iterator(options_.data_dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const uintmax_t size = it->file_size(size_ec);
      if (!size_ec) f.disk_bytes += size;
    }
  }
  std::shared_ptr<const Db> db = CurrentDb();
  if (db == nullptr) return f;
  uint64_t value = 0;
  if (db->db->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped,
                             &value)) {
    f.write_stopped = value != 0;
  }
  if (db->db->GetIntProperty(rocksdb::DB::Properties::kActualDelayedWriteRate,
                             &value)) {
    f.delayed_write_rate = value;
  }
  if (db->db->GetAggregatedIntProperty(
          rocksdb::DB::Properties::kEstimatePendingCompactionBytes, &value)) {
    f.pending_compaction_bytes = value;
  }
  if (db->db->GetAggregatedIntProperty(
          rocksdb::DB::Properties::kCurSizeAllMemTables, &value)) {
    f.memtable_bytes = value;
  }
  return f;
}

absl::Status Store::WriteFailed(const rocksdb::Status& s) {
  const absl::Status status = ClientStatus(s, "store write", options_.data_dir);
  // A malformed batch is the caller's fault, not the store's.
  if (s.IsInvalidArgument() || s.IsNotSupported()) {
    spdlog::error("store write rejected: {}", s.ToString());
    return status;
  }
  failing_for_space_.store(IsNoSpace(s), std::memory_order_release);
  if (s.severity() >= rocksdb::Status::Severity::kFatalError) {
    failure_fatal_.store(true, std::memory_order_release);
  }
  {
    absl::MutexLock lock(&failure_mu_);
    last_failure_ = status;
  }
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

void Store::MaybeReopen() {
  if (failure_fatal_.load(std::memory_order_acquire)) return;
  const absl::Time now = options_.clock->Now();
  if (absl::ToUnixNanos(now) <
      next_resume_ns_.load(std::memory_order_acquire)) {
    return;
  }
  // One writer per interval goes on; the others write (and fail) as before.
  int64_t due = next_resume_ns_.load(std::memory_order_acquire);
  if (absl::ToUnixNanos(now) < due ||
      !next_resume_ns_.compare_exchange_strong(
          due, absl::ToUnixNanos(now + kResumeInterval))) {
    return;
  }
  if (failing_for_space_.load(std::memory_order_acquire)) {
    auto free = FreeBytes();
    if (free.ok() && *free < kResumeMinFreeBytes) return;
  }
  std::shared_ptr<const Db> old;
  {
    absl::MutexLock lock(&db_mu_);
    if (reopening_ || closing_) return;
    reopening_ = true;
    old = std::move(db_);
  }
  if (old == nullptr) {
    OpenAgain();  // an earlier reopen failed to open
    return;
  }
  // Whoever lets go of the old database last closes and reopens it
  // (Retired); readers meanwhile get UNAVAILABLE, writers the last failure.
  old.reset();
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
  std::shared_ptr<const Db> db = CurrentDbOrWait();
  if (db == nullptr) return NoDbStatus("store read");
  std::string value;
  const rocksdb::Status s = db->db->Get(
      rocksdb::ReadOptions(), db->handle(table), ToSlice(key), &value);
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
  std::shared_ptr<const Db> db = CurrentDbOrWait();
  if (db == nullptr) return NoDbStatus("store scan");
  std::unique_ptr<rocksdb::Iterator> it(
      db->db->NewIterator(rocksdb::ReadOptions(), db->handle(table)));
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

absl::Status BoundedWriter::Put(Table table, absl::string_view key,
                                absl::string_view value) {
  batch_.Put(table, key, value);
  return Count();
}

absl::Status BoundedWriter::Delete(Table table, absl::string_view key) {
  batch_.Delete(table, key);
  return Count();
}

absl::Status BoundedWriter::DeleteAll(Table table) {
  absl::Status error;
  absl::Status scan =
      store_.Scan(table, "", [&](absl::string_view key, absl::string_view) {
        error = Delete(table, key);
        return error.ok();
      });
  return scan.ok() ? error : scan;
}

absl::Status BoundedWriter::Flush() {
  pending_ = 0;
  if (batch_.empty()) return absl::OkStatus();
  absl::Status s = store_.Write(batch_);
  batch_ = store_.NewBatch();
  return s;
}

absl::Status BoundedWriter::Count() {
  return ++pending_ < kPerBatch ? absl::OkStatus() : Flush();
}

absl::Status Store::Flush() {
  std::shared_ptr<const Db> db = CurrentDb();
  if (writes_failing_.load(std::memory_order_acquire) || db == nullptr) {
    return absl::UnavailableError(
        "store flush skipped: writes are failing (the WAL has everything "
        "acknowledged)");
  }
  rocksdb::FlushOptions flush_options;
  return FromRocks(db->db->Flush(flush_options, db->all_handles()),
                   "store flush");
}

}  // namespace errand::store
