#include "errand/store/store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "errand/common/clock.h"
#include "errand/common/uuid.h"
#include "errand/store/keys.h"
#include "errand/store/rocks_logger.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "support/fault_injection_fs.h"
#include "support/stored_keys.h"

namespace errand::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("errand-store-" + NewUuid());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(StoreTest, WritesSurviveReopen) {
  {
    auto store = Store::Open({dir_.string(), true});
    ASSERT_TRUE(store.ok()) << store.status();
    Batch batch = (*store)->NewBatch();
    batch.Put(Table::kNamespaces, "a", "1");
    batch.Put(Table::kNamespaces, "b", "2");
    batch.Put(Table::kMeta, "a", "meta");
    ASSERT_TRUE((*store)->Write(batch).ok());
  }
  auto store = Store::Open({dir_.string(), true});
  ASSERT_TRUE(store.ok()) << store.status();
  auto a = (*store)->Get(Table::kNamespaces, "a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(**a, "1");
  auto meta = (*store)->Get(Table::kMeta, "a");
  EXPECT_EQ(**meta, "meta");
  auto missing = (*store)->Get(Table::kNamespaces, "zzz");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(StoreTest, ScanVisitsPrefixInOrderAndStopsEarly) {
  auto store = Store::Open({dir_.string(), false});
  ASSERT_TRUE(store.ok());
  Batch batch = (*store)->NewBatch();
  for (const char* k : {"p/3", "p/1", "q/1", "p/2"}) {
    batch.Put(Table::kNamespaces, k, k);
  }
  batch.Delete(Table::kNamespaces, "p/2");
  ASSERT_TRUE((*store)->Write(batch).ok());
  std::vector<std::string> keys;
  ASSERT_TRUE((*store)
                  ->Scan(Table::kNamespaces, "p/",
                         [&](absl::string_view k, absl::string_view) {
                           keys.emplace_back(k);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"p/1", "p/3"}));
  keys.clear();
  ASSERT_TRUE((*store)
                  ->Scan(Table::kNamespaces, "",
                         [&](absl::string_view k, absl::string_view) {
                           keys.emplace_back(k);
                           return false;
                         })
                  .ok());
  EXPECT_EQ(keys.size(), 1u);
}

// A data directory's storage format (store/keys.h, kFormatVersion).
class StoreFormatTest : public StoreTest {
 protected:
  // Opens the store, runs `change` on it and closes it again.
  void WithStore(const std::function<void(Store&)>& change) {
    auto store = Store::Open({dir_.string(), false});
    ASSERT_TRUE(store.ok()) << store.status();
    change(**store);
  }
  static void Put(Store& store, Table table, absl::string_view key,
                  absl::string_view value) {
    Batch batch = store.NewBatch();
    batch.Put(table, key, value);
    ASSERT_TRUE(store.Write(batch).ok());
  }
  static void Erase(Store& store, Table table, absl::string_view key) {
    Batch batch = store.NewBatch();
    batch.Delete(table, key);
    ASSERT_TRUE(store.Write(batch).ok());
  }
  static std::optional<std::string> Read(Store& store, Table table,
                                         absl::string_view key) {
    auto value = store.Get(table, key);
    EXPECT_TRUE(value.ok()) << value.status();
    return value.ok() ? *value : std::nullopt;
  }
  static std::vector<std::string> Keys(Store& store, Table table) {
    return test_support::StoredKeys(store, table);
  }
};

TEST_F(StoreFormatTest, NewDirectoryRecordsTheCurrentFormat) {
  WithStore([](Store& store) {
    EXPECT_EQ(Read(store, Table::kMeta, kFormatVersionKey),
              absl::StrCat(kFormatVersion));
  });
}

TEST_F(StoreFormatTest, NewerFormatIsRefusedNamingBothVersions) {
  WithStore([](Store& store) {
    Put(store, Table::kMeta, kFormatVersionKey,
        absl::StrCat(kFormatVersion + 1));
  });
  auto store = Store::Open({dir_.string(), false});
  ASSERT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition)
      << store.status();
  const std::string message(store.status().message());
  EXPECT_NE(
      message.find(absl::StrCat("storage format version ", kFormatVersion + 1)),
      std::string::npos)
      << message;
  EXPECT_NE(message.find(absl::StrCat("format versions 1 to ", kFormatVersion)),
            std::string::npos)
      << message;
  EXPECT_NE(message.find(dir_.string()), std::string::npos) << message;
}

TEST_F(StoreFormatTest, UnknownFormatIsRefused) {
  WithStore(
      [](Store& store) { Put(store, Table::kMeta, kFormatVersionKey, "two"); });
  auto store = Store::Open({dir_.string(), false});
  ASSERT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition)
      << store.status();
  EXPECT_NE(store.status().message().find("unknown storage format version "
                                          "\"two\""),
            absl::string_view::npos)
      << store.status();
}

// A directory written before formats were stored: visibility row keys with
// the old descending time encoding (the complement of the unsigned
// nanoseconds), index entries and an index version.
TEST_F(StoreFormatTest, UnversionedDirectoryIsMigratedToTheCurrentFormat) {
  const absl::Time close = absl::FromUnixSeconds(1700000000);
  const absl::Time start = close - absl::Minutes(3);
  auto old_descending = [](absl::Time t) {
    const uint64_t v = ~static_cast<uint64_t>(absl::ToUnixNanos(t));
    std::string out;
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((v >> shift) & 0xff));
    }
    return out;
  };
  const std::string old_closed =
      absl::StrCat(VisibilityPrefix("ns"), "1", old_descending(close),
                   old_descending(start), "run-1");
  const std::string old_open = absl::StrCat(VisibilityPrefix("ns"), "0",
                                            old_descending(absl::UnixEpoch()),
                                            old_descending(start), "run-2");
  WithStore([&](Store& store) {
    Erase(store, Table::kMeta, kFormatVersionKey);
    Put(store, Table::kVisibility, old_closed, "closed row");
    Put(store, Table::kVisibility, old_open, "open row");
    Put(store, Table::kVisibilityIndex, "ns index entry", "");
    Put(store, Table::kMeta, kVisibilityIndexVersionKey, "2");
  });
  const std::vector<std::string> migrated = {
      VisibilityKey("ns", false, absl::UnixEpoch(), start, "run-2"),
      VisibilityKey("ns", true, close, start, "run-1")};
  for (int open = 0; open < 2; ++open) {  // a second open changes nothing
    WithStore([&](Store& store) {
      EXPECT_EQ(Read(store, Table::kMeta, kFormatVersionKey),
                absl::StrCat(kFormatVersion));
      EXPECT_EQ(Keys(store, Table::kVisibility), migrated);
      EXPECT_EQ(Read(store, Table::kVisibility, migrated[0]), "open row");
      EXPECT_EQ(Read(store, Table::kVisibility, migrated[1]), "closed row");
      // The index is rebuilt from the rows by the visibility writer.
      EXPECT_TRUE(Keys(store, Table::kVisibilityIndex).empty());
      EXPECT_EQ(Read(store, Table::kMeta, kVisibilityIndexVersionKey),
                std::nullopt);
    });
  }
}

// Format 4 had no visibility_counts table: opening one creates it empty and
// drops any counts version, so that the visibility writer rebuilds the
// counts from the rows (visibility::EnsureCounts).
TEST_F(StoreFormatTest, Format4DirectoryHasItsCountsRebuilt) {
  WithStore([](Store& store) {
    Put(store, Table::kMeta, kFormatVersionKey, "4");
    Put(store, Table::kMeta, kVisibilityCountsVersionKey, "1");
  });
  WithStore([](Store& store) {
    EXPECT_EQ(Read(store, Table::kMeta, kFormatVersionKey),
              absl::StrCat(kFormatVersion));
    EXPECT_EQ(Read(store, Table::kMeta, kVisibilityCountsVersionKey),
              std::nullopt);
    // Once rebuilt, the version stays across opens.
    Put(store, Table::kMeta, kVisibilityCountsVersionKey, "1");
  });
  WithStore([](Store& store) {
    EXPECT_EQ(Read(store, Table::kMeta, kVisibilityCountsVersionKey), "1");
  });
}

// Counts are blind additions, summed by the store's merge operator, on top
// of a Put base; the sum survives a flush (where RocksDB merges what the
// memtable holds) and a reopen, and long runs of additions to one count
// (past the memtable's limit of successive ones) sum exactly.
TEST_F(StoreFormatTest, CountsAddUp) {
  WithStore([](Store& store) {
    Batch batch = store.NewBatch();
    batch.AddCount(CountKey("ns", "Running"), 3);
    batch.AddCount(CountKey("ns", "Running"), -1);
    batch.AddCount(CountKey("ns", "Failed"), 1);
    ASSERT_TRUE(store.Write(batch).ok());
    EXPECT_EQ(Read(store, Table::kVisibilityCounts, CountKey("ns", "Running")),
              EncodeCount(2));
    for (int i = 0; i < 1000; ++i) {
      Batch one = store.NewBatch();
      one.AddCount(CountKey("ns", "Running"), i % 3 == 0 ? -1 : 1);
      ASSERT_TRUE(store.Write(one).ok());
    }
    // 334 of the 1000 subtract.
    EXPECT_EQ(Read(store, Table::kVisibilityCounts, CountKey("ns", "Running")),
              EncodeCount(2 + 666 - 334));
    ASSERT_TRUE(store.Flush().ok());
    Batch more = store.NewBatch();
    more.AddCount(CountKey("ns", "Running"), 1);
    more.Put(Table::kVisibilityCounts, CountKey("ns", "Failed"),
             EncodeCount(10));
    more.AddCount(CountKey("ns", "Failed"), -2);
    ASSERT_TRUE(store.Write(more).ok());
  });
  WithStore([](Store& store) {
    EXPECT_EQ(Read(store, Table::kVisibilityCounts, CountKey("ns", "Running")),
              EncodeCount(335));
    EXPECT_EQ(Read(store, Table::kVisibilityCounts, CountKey("ns", "Failed")),
              EncodeCount(8));
    EXPECT_EQ(DecodeCount(EncodeCount(-7)), -7);
    EXPECT_EQ(DecodeCount("short"), std::nullopt);
  });
}

// One batch's additions to one count are summed before they reach the
// store: a turn of many runs on one task queue adds one operand, not one per
// run, and additions that cancel out write nothing at all.
TEST_F(StoreFormatTest, ABatchSumsItsAdditionsToOneCount) {
  WithStore([](Store& store) {
    Batch batch = store.NewBatch();
    for (int i = 0; i < 100; ++i) {
      batch.AddCount(CountKey("ns", "Running"), 1);
      batch.AddCount(CountKey("ns", "Scheduled"), 1);
      batch.AddCount(CountKey("ns", "Scheduled"), -1);
    }
    ASSERT_TRUE(store.Write(batch).ok());
    EXPECT_EQ(Read(store, Table::kVisibilityCounts, CountKey("ns", "Running")),
              EncodeCount(100));
    // Net zero: never written, so still absent (a merge of +1 and -1
    // operands would have left a stored 0).
    EXPECT_EQ(
        Read(store, Table::kVisibilityCounts, CountKey("ns", "Scheduled")),
        std::nullopt);
  });
}

TEST_F(StoreFormatTest, TimesInKeysSortInTimeOrderAndRoundTrip) {
  const absl::Time times[] = {absl::FromUnixSeconds(-5), absl::UnixEpoch(),
                              absl::FromUnixNanos(1),
                              absl::FromUnixSeconds(1700000000)};
  for (size_t i = 0; i < std::size(times); ++i) {
    EXPECT_EQ(TimeFromBytes(TimeBytes(times[i])), times[i]);
    if (i == 0) continue;
    EXPECT_LT(TimeBytes(times[i - 1]), TimeBytes(times[i]));
    std::string earlier, later;
    AppendTimeDescending(earlier, times[i - 1]);
    AppendTimeDescending(later, times[i]);
    EXPECT_GT(earlier, later);
  }
}

TEST_F(StoreTest, SecondOpenOfSameDirectoryFailsClearly) {
  auto first = Store::Open({dir_.string(), true});
  ASSERT_TRUE(first.ok());
  auto second = Store::Open({dir_.string(), true});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("already in use"), std::string::npos)
      << second.status();
  first->reset();
  EXPECT_TRUE(Store::Open({dir_.string(), true}).ok());
}

// Sends spdlog's default logger to a string for the test's lifetime.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_pattern("%l %v");
    auto logger = std::make_shared<spdlog::logger>("captured", sink);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return out_.str();
  }
  int Count(const std::string& needle) {
    const std::string all = text();
    int n = 0;
    for (size_t at = all.find(needle); at != std::string::npos;
         at = all.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

using testing::FaultInjectionFs;
using testing::FaultKind;
using testing::FaultOp;

class StoreFaultTest : public StoreTest {
 protected:
  StoreOptions Options() {
    StoreOptions options{dir_.string(), true};
    options.env = env_;
    options.clock = &clock_;
    return options;
  }
  std::unique_ptr<Store> OpenStore() {
    auto store = Store::Open(Options());
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
  static absl::Status Put(Store& store, const std::string& key,
                          const std::string& value) {
    Batch batch = store.NewBatch();
    batch.Put(Table::kExecutions, key, value);
    batch.Put(Table::kVisibility, key, value);
    return store.Write(batch);
  }
  static std::optional<std::string> Value(Store& store,
                                          const std::string& key) {
    auto v = store.Get(Table::kExecutions, key);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : std::nullopt;
  }
  // What a client may see: never one of RocksDB's file names.
  static void ExpectNoFileNames(const absl::Status& status) {
    for (const char* part : {".log", ".sst", "MANIFEST", "/db/"}) {
      EXPECT_EQ(status.message().find(part), absl::string_view::npos) << status;
    }
  }

  FakeClock clock_;
  std::shared_ptr<FaultInjectionFs> fs_ = std::make_shared<FaultInjectionFs>();
  std::shared_ptr<rocksdb::Env> env_ = fs_->NewEnv();
};

TEST_F(StoreFaultTest, RocksDbLogsThroughSpdlogAndWritesNoLogFile) {
  CapturedLog log;
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  // RocksDB's INFO lines (its start-up report) arrive at debug level.
  EXPECT_GT(log.Count("debug rocksdb: "), 0) << log.text();
  EXPECT_EQ(log.Count("info rocksdb: "), 0) << log.text();
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "db")) {
    const std::string name = entry.path().filename().string();
    EXPECT_NE(name.rfind("LOG", 0), 0u) << name;
  }
  EXPECT_EQ(RocksLogger::ToSpdlog(rocksdb::InfoLogLevel::INFO_LEVEL),
            spdlog::level::debug);
  EXPECT_EQ(RocksLogger::ToSpdlog(rocksdb::InfoLogLevel::HEADER_LEVEL),
            spdlog::level::debug);
  EXPECT_EQ(RocksLogger::ToSpdlog(rocksdb::InfoLogLevel::WARN_LEVEL),
            spdlog::level::warn);
  EXPECT_EQ(RocksLogger::ToSpdlog(rocksdb::InfoLogLevel::ERROR_LEVEL),
            spdlog::level::err);
  EXPECT_EQ(RocksLogger::ToSpdlog(rocksdb::InfoLogLevel::FATAL_LEVEL),
            spdlog::level::critical);
}

TEST_F(StoreFaultTest, FullDiskIsResourceExhaustedReadsWorkAndWritesResume) {
  CapturedLog log;
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Put(*store, "before", "1").ok());

  fs_->FailAlways(FaultOp::kWrite, FaultKind::kNoSpace);
  const absl::Status failed = Put(*store, "during", "2");
  ASSERT_EQ(failed.code(), absl::StatusCode::kResourceExhausted) << failed;
  EXPECT_NE(failed.message().find("no space left on the device holding the "
                                  "data directory " +
                                  dir_.string()),
            absl::string_view::npos)
      << failed;
  ExpectNoFileNames(failed);
  EXPECT_TRUE(store->writes_failing());

  // Reads are served while writes fail.
  EXPECT_EQ(Value(*store, "before"), "1");
  EXPECT_EQ(Value(*store, "during"), std::nullopt);
  int rows = 0;
  ASSERT_TRUE(store
                  ->Scan(Table::kVisibility, "",
                         [&](absl::string_view, absl::string_view) {
                           ++rows;
                           return true;
                         })
                  .ok());
  EXPECT_EQ(rows, 1);

  // Still full a second later: no reopen is tried without free space, writes
  // fail and reads are still served.
  fs_->SetFreeSpace(0);
  clock_.Advance(kResumeInterval);
  EXPECT_EQ(Put(*store, "during", "3").code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Value(*store, "before"), "1");

  // Some space shows but writes still fail: the reopen for writing fails,
  // and reads are served from the database opened read-only.
  fs_->SetFreeSpace(std::nullopt);
  clock_.Advance(kResumeInterval);
  EXPECT_EQ(Put(*store, "during", "3").code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Value(*store, "before"), "1");
  EXPECT_EQ(log.Count("reopening the database for writing failed"), 1)
      << log.text();
  EXPECT_TRUE(store->writes_failing());

  // Space is back: within a resume interval, writes work again, without a
  // restart.
  fs_->Clear();
  clock_.Advance(kResumeInterval);
  ASSERT_TRUE(Put(*store, "after", "4").ok());
  EXPECT_FALSE(store->writes_failing());
  ASSERT_TRUE(Put(*store, "after2", "5").ok());
  EXPECT_EQ(Value(*store, "after"), "4");
  EXPECT_EQ(log.Count("store writes failing: no space left"), 1) << log.text();
  EXPECT_EQ(log.Count("store writes resumed"), 1) << log.text();

  store.reset();
  store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Value(*store, "before"), "1");
  EXPECT_EQ(Value(*store, "during"), std::nullopt);
  EXPECT_EQ(Value(*store, "after"), "4");
  EXPECT_EQ(Value(*store, "after2"), "5");
}

// Right after open every memtable is empty. RocksDB 7.8 then resumes without
// switching to a new WAL, and its writer for the failed WAL asserts on the
// next append: this test aborted before the store kept a WAL guard.
TEST_F(StoreFaultTest, WalFailureRightAfterOpenResumesWithoutCrashing) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(Put(*store, "before", "1").ok());
    ASSERT_TRUE(store->Flush().ok());
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  fs_->FailNext(FaultOp::kWrite, FaultKind::kNoSpace, 1, ".log");
  EXPECT_EQ(Put(*store, "lost", "x").code(),
            absl::StatusCode::kResourceExhausted);
  clock_.Advance(kResumeInterval);
  ASSERT_TRUE(Put(*store, "after", "2").ok());
  ASSERT_TRUE(Put(*store, "after2", "3").ok());
  EXPECT_EQ(fs_->injected(FaultOp::kWrite), 1);

  store.reset();
  store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Value(*store, "before"), "1");
  EXPECT_EQ(Value(*store, "lost"), std::nullopt);
  EXPECT_EQ(Value(*store, "after"), "2");
  EXPECT_EQ(Value(*store, "after2"), "3");
}

TEST_F(StoreFaultTest, FailedSyncIsNotAcknowledgedAndWritesResume) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Put(*store, "before", "1").ok());
  fs_->FailNext(FaultOp::kSync, FaultKind::kIOError);
  const absl::Status failed = Put(*store, "unsynced", "x");
  ASSERT_EQ(failed.code(), absl::StatusCode::kUnavailable) << failed;
  EXPECT_NE(failed.message().find("I/O error on the device holding the data "
                                  "directory " +
                                  dir_.string() + " (Input/output error)"),
            absl::string_view::npos)
      << failed;
  EXPECT_EQ(failed.message().find("restart"), absl::string_view::npos)
      << failed;
  ExpectNoFileNames(failed);
  EXPECT_EQ(Value(*store, "before"), "1");
  EXPECT_EQ(fs_->injected(FaultOp::kSync), 1);

  clock_.Advance(kResumeInterval);
  ASSERT_TRUE(Put(*store, "after", "2").ok());
  store.reset();
  store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Value(*store, "before"), "1");
  EXPECT_EQ(Value(*store, "after"), "2");
}

TEST_F(StoreFaultTest, FailedFlushStopsWritesUntilResumed) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Put(*store, "before", "1").ok());
  fs_->FailAlways(FaultOp::kWrite, FaultKind::kNoSpace, ".sst");
  EXPECT_FALSE(store->Flush().ok());
  // The memtable could not be flushed; RocksDB stops writes until a resume.
  const absl::Status failed = Put(*store, "during", "x");
  EXPECT_EQ(failed.code(), absl::StatusCode::kResourceExhausted) << failed;
  ExpectNoFileNames(failed);
  EXPECT_EQ(Value(*store, "before"), "1");

  fs_->Clear();
  clock_.Advance(kResumeInterval);
  ASSERT_TRUE(Put(*store, "after", "2").ok());
  store.reset();
  store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Value(*store, "before"), "1");
  EXPECT_EQ(Value(*store, "after"), "2");
}

TEST_F(StoreFaultTest, UnrecoverableIoErrorKeepsWritesOffUntilReopen) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Put(*store, "before", "1").ok());
  fs_->FailNext(FaultOp::kWrite, FaultKind::kFatalIOError, 1, ".log");
  const absl::Status failed = Put(*store, "lost", "x");
  ASSERT_EQ(failed.code(), absl::StatusCode::kUnavailable) << failed;
  ExpectNoFileNames(failed);
  fs_->Clear();
  clock_.Advance(kResumeInterval);
  const absl::Status still = Put(*store, "later", "y");
  EXPECT_EQ(still.code(), absl::StatusCode::kUnavailable) << still;
  EXPECT_NE(still.message().find("until the server restarts"),
            absl::string_view::npos)
      << still;
  EXPECT_EQ(Value(*store, "before"), "1");
  // The flush on shutdown is skipped, and closing does not crash.
  EXPECT_FALSE(store->Flush().ok());

  store.reset();
  store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Value(*store, "before"), "1");
  ASSERT_TRUE(Put(*store, "after", "2").ok());
}

TEST_F(StoreFaultTest, ReadErrorIsUnavailableWithoutFileNames) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(Put(*store, "k", "v").ok());
    ASSERT_TRUE(store->Flush().ok());
  }
  auto store = OpenStore();  // empty block cache: reads go to the table file
  ASSERT_NE(store, nullptr);
  fs_->FailAlways(FaultOp::kRead, FaultKind::kIOError, ".sst");
  auto v = store->Get(Table::kExecutions, "k");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnavailable) << v.status();
  ExpectNoFileNames(v.status());
  fs_->Clear();
  EXPECT_EQ(Value(*store, "k"), "v");
}

// Writes failing at random, with the clock moving a resume interval between
// them: every acknowledged write is there after a reopen.
TEST_F(StoreFaultTest, FaultsAtARateLoseNothingAcknowledged) {
  std::map<std::string, std::string> acknowledged;
  int failures = 0;
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    fs_->FailAtRate(FaultOp::kWrite, FaultKind::kIOError, 0.05, 7);
    for (int i = 0; i < 300; ++i) {
      const std::string key = absl::StrCat("k", i);
      const std::string value = std::string(2000, 'a' + i % 26);
      const absl::Status s = Put(*store, key, value);
      if (s.ok()) {
        acknowledged[key] = value;
      } else {
        ++failures;
        EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
        clock_.Advance(kResumeInterval);
      }
    }
    fs_->Clear();
  }
  EXPECT_GT(failures, 0);
  EXPECT_GT(acknowledged.size(), 150u);
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (const auto& [key, value] : acknowledged) {
    EXPECT_EQ(Value(*store, key), value) << key;
  }
}

// The hang that made the store stop calling DB::Resume: a flush scheduled
// before a WAL write fails but started after it finds writes stopped, takes
// its schedule slot and runs nothing. RocksDB 7.8 then never schedules the
// last flush a resume asks for, and DB::Resume waited for it for ever (on a
// shard thread, with every other write waiting behind it). The flush pool is
// held here so that the flush starts only after the failure.
TEST_F(StoreFaultTest, FlushStartedWhileWritesAreStoppedDoesNotWedgeResume) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  rocksdb::Env* env = env_.get();
  env->SetBackgroundThreads(1, rocksdb::Env::Priority::HIGH);
  absl::Notification release;
  env->Schedule(
      [](void* arg) {
        static_cast<absl::Notification*>(arg)->WaitForNotification();
      },
      &release, rocksdb::Env::Priority::HIGH);

  // Fill the executions table's memtable (32 MiB) so that a write schedules
  // its flush, which waits behind the held pool.
  std::map<std::string, std::string> acknowledged;
  const std::string big(1 << 20, 'x');
  for (int i = 0; i < 40; ++i) {
    const std::string key = absl::StrCat("big", i);
    ASSERT_TRUE(Put(*store, key, big).ok());
    acknowledged[key] = big;
  }
  fs_->FailAlways(FaultOp::kWrite, FaultKind::kNoSpace, ".log");
  EXPECT_EQ(Put(*store, "lost", "x").code(),
            absl::StatusCode::kResourceExhausted);

  // The flush starts now, with writes stopped; a job queued after it runs
  // once it is done (RocksDB waits a second after a failed flush).
  release.Notify();
  absl::Notification flush_done;
  env->Schedule(
      [](void* arg) { static_cast<absl::Notification*>(arg)->Notify(); },
      &flush_done, rocksdb::Env::Priority::HIGH);
  flush_done.WaitForNotification();

  fs_->Clear();
  clock_.Advance(kResumeInterval);
  ASSERT_TRUE(Put(*store, "after", "1").ok());
  acknowledged["after"] = "1";
  EXPECT_FALSE(store->writes_failing());

  store.reset();
  store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (const auto& [key, value] : acknowledged) {
    EXPECT_EQ(Value(*store, key), value) << key;
  }
  EXPECT_EQ(Value(*store, "lost"), std::nullopt);
}

// Reads made while the database is being reopened get UNAVAILABLE rather
// than waiting; the reopen happens once the last holder lets go.
TEST_F(StoreFaultTest, ReopenWaitsForAScanInProgress) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Put(*store, "a", "1").ok());
  ASSERT_TRUE(Put(*store, "b", "2").ok());
  fs_->FailNext(FaultOp::kWrite, FaultKind::kIOError, 1, ".log");
  ASSERT_FALSE(Put(*store, "lost", "x").ok());
  clock_.Advance(kResumeInterval);

  std::vector<std::string> seen;
  absl::Status inner_read;
  absl::Status inner_write;
  ASSERT_TRUE(store
                  ->Scan(Table::kExecutions, "",
                         [&](absl::string_view key, absl::string_view) {
                           seen.emplace_back(key);
                           if (seen.size() == 1) {
                             // Starts the reopen; this scan still holds the
                             // old database, so the reopen waits for it.
                             inner_write = Put(*store, "during", "y");
                             inner_read =
                                 store->Get(Table::kExecutions, "a").status();
                           }
                           return true;
                         })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(inner_write.code(), absl::StatusCode::kUnavailable) << inner_write;
  EXPECT_EQ(inner_read.code(), absl::StatusCode::kUnavailable) << inner_read;
  EXPECT_NE(inner_read.message().find("reopening"), absl::string_view::npos)
      << inner_read;
  // The scan let go: the database was reopened and writes work.
  EXPECT_FALSE(store->writes_failing());
  ASSERT_TRUE(Put(*store, "after", "z").ok());
  EXPECT_EQ(Value(*store, "a"), "1");
  EXPECT_EQ(Value(*store, "during"), std::nullopt);
}

TEST_F(StoreFaultTest, FreeSpaceFloorRefusesUntilSpaceIsBack) {
  CapturedLog log;
  fs_->SetFreeSpace(uint64_t{10} << 20);
  StoreOptions options = Options();
  options.min_free_bytes = uint64_t{64} << 20;
  auto opened = Store::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Store& store = **opened;
  const absl::Status refused = store.CheckFreeSpaceFloor();
  ASSERT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_NE(refused.message().find(dir_.string() +
                                   " has 10 MiB free, below min_free_space "
                                   "(64 MiB)"),
            absl::string_view::npos)
      << refused;
  // Writes themselves still work: the floor keeps room for them.
  EXPECT_TRUE(Put(store, "k", "v").ok());
  EXPECT_EQ(log.Count("disk space below min_free_space"), 1) << log.text();

  // The figure is cached for a check interval.
  fs_->SetFreeSpace(uint64_t{100} << 20);
  EXPECT_FALSE(store.CheckFreeSpaceFloor().ok());
  clock_.Advance(kFreeSpaceCheckInterval);
  EXPECT_TRUE(store.CheckFreeSpaceFloor().ok());
  // Above the floor but below the warning threshold.
  EXPECT_EQ(log.Count("low disk space: 100 MiB free"), 1) << log.text();

  fs_->SetFreeSpace(uint64_t{20} << 30);
  clock_.Advance(kFreeSpaceCheckInterval);
  EXPECT_TRUE(Put(store, "k2", "v").ok());
  EXPECT_EQ(log.Count("disk space recovered"), 1) << log.text();
}

TEST_F(StoreFaultTest, ZeroFloorNeverRefuses) {
  fs_->SetFreeSpace(0);
  StoreOptions options = Options();
  options.min_free_bytes = 0;
  auto store = Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->CheckFreeSpaceFloor().ok());
}

}  // namespace
}  // namespace errand::store
