// Fuzz target for List's page token, which is the visibility key of the last
// row a page returned, read back by Lister::List against a store holding a
// few runs in two namespaces.
//
// The first input byte picks the query (and so the plan the token resumes:
// a scan, an equality index or a time range) and the page size; the rest is
// the token. Properties:
// - List answers OK or INVALID_ARGUMENT, never another code or a crash;
// - a token that does not start with the namespace's key prefix is refused,
//   and a token one namespace accepts is refused by the other;
// - an accepted token resumes the listing: the rows are distinct and appear
//   in the same order in the full listing of that query;
// - (seeds) every token List hands out decodes and continues exactly where
//   its page ended.
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "errand/common/timer_thread.h"
#include "errand/common/uuid.h"
#include "errand/engine/activity_engine.h"
#include "errand/matching/matcher.h"
#include "errand/store/keys.h"
#include "errand/visibility/lister.h"
#include "fuzz_target.h"

namespace {

namespace enums = temporal::api::enums::v1;
using errand::visibility::CustomAttributes;
using errand::visibility::Lister;

constexpr const char* kQueries[] = {
    "",                                                 // scan
    "ActivityType = 'mail'",                            // equality index
    "StartTime > '2000-01-01T00:00:00Z'",               // time range
    "ExecutionStatus = 'Running' OR TaskQueue = 'q1'",  // scan, filtered
};
constexpr int kNumQueries = sizeof(kQueries) / sizeof(kQueries[0]);

// Runs in namespaces "ns" and "ns2", some of them closed. Built once per
// process and never torn down (the fuzzer runs until the process exits); its
// directory is removed at exit.
struct Fixture {
  std::filesystem::path dir;
  errand::TimerThread timers;
  std::unique_ptr<errand::store::Store> store;
  std::unique_ptr<errand::matching::Matcher> matcher;
  std::unique_ptr<errand::engine::ActivityEngine> engine;
  std::unique_ptr<Lister> lister;
  CustomAttributes custom;
  // Per namespace and query: the run IDs of the full listing, in order.
  std::map<std::string, std::vector<std::vector<std::string>>> full;

  Fixture() {
    dir = std::filesystem::temp_directory_path() /
          ("errand-page-token-fuzz-" + errand::NewUuid());
    store = std::move(*errand::store::Store::Open({dir.string(), false}));
    matcher = std::make_unique<errand::matching::Matcher>(&timers);
    engine = std::make_unique<errand::engine::ActivityEngine>(
        2, store.get(), matcher.get(), &timers, errand::SystemClock::Get());
    lister = std::make_unique<Lister>(store.get());
    for (int i = 0; i < 12; ++i) {
      const std::string id = "a" + std::to_string(i);
      Start("ns", id, i % 3 == 0 ? "mail" : "sms", i % 2 ? "q1" : "q2");
      if (i % 4 == 1) Terminate("ns", id);
    }
    for (int i = 0; i < 4; ++i) {
      Start("ns2", "b" + std::to_string(i), "mail", "q1");
    }
    for (const char* ns : {"ns", "ns2"}) {
      for (const char* query : kQueries) {
        auto page = lister->List(ns, custom, query, 0, "");
        FUZZ_CHECK(page.ok() && page->next_page_token.empty(),
                   "fixture listing failed");
        std::vector<std::string> runs;
        for (const auto& row : page->executions) runs.push_back(row.run_id());
        full[ns].push_back(runs);
      }
    }
  }

  void Start(const std::string& ns, const std::string& id,
             const std::string& type, const std::string& queue) {
    errand::engine::StartRequest r;
    r.record.set_namespace_id(ns);
    r.record.set_activity_id(id);
    r.record.add_request_ids(errand::NewUuid());
    r.record.mutable_activity_type()->set_name(type);
    r.record.mutable_options()->mutable_task_queue()->set_name(queue);
    r.record.mutable_options()->mutable_start_to_close_timeout()->set_seconds(
        3600);
    r.reuse_policy = enums::ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE;
    r.conflict_policy = enums::ACTIVITY_ID_CONFLICT_POLICY_FAIL;
    std::promise<bool> done;
    engine->Start(std::move(r),
                  [&](absl::StatusOr<errand::engine::StartResult> result) {
                    done.set_value(result.ok());
                  });
    FUZZ_CHECK(done.get_future().get(), "fixture start failed");
  }

  void Terminate(const std::string& ns, const std::string& id) {
    std::promise<bool> done;
    engine->Update({ns, id, "", std::nullopt},
                   errand::engine::Terminate{errand::NewUuid(), "stop", ""},
                   [&](absl::StatusOr<errand::engine::RecordSnapshot> r) {
                     done.set_value(r.ok());
                   });
    FUZZ_CHECK(done.get_future().get(), "fixture terminate failed");
  }
};

Fixture& Get() {
  static Fixture* const fixture = [] {
    auto* f = new Fixture;
    std::atexit([] { std::filesystem::remove_all(Get().dir); });
    return f;
  }();
  return *fixture;
}

// Whether `runs` are distinct and appear in `full` in the same order.
bool IsOrderedSubset(const std::vector<std::string>& runs,
                     const std::vector<std::string>& full) {
  size_t at = 0;
  for (const std::string& run : runs) {
    while (at < full.size() && full[at] != run) ++at;
    if (at == full.size()) return false;
    ++at;
  }
  return true;
}

std::string Input(int query, int page_size, const std::string& token) {
  return std::string(1,
                     static_cast<char>(query + kNumQueries * (page_size - 1))) +
         token;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Fixture& f = Get();
  const int query = data[0] % kNumQueries;
  const int page_size = 1 + (data[0] / kNumQueries) % 8;
  const std::string token(reinterpret_cast<const char*>(data + 1), size - 1);

  auto page = f.lister->List("ns", f.custom, kQueries[query], page_size, token);
  if (!page.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(page.status()),
               "List failed with a code other than INVALID_ARGUMENT");
    return 0;
  }
  FUZZ_CHECK(token.empty() ||
                 absl::StartsWith(token, errand::store::VisibilityPrefix("ns")),
             "a token without the namespace's prefix was accepted");
  std::vector<std::string> runs;
  for (const auto& row : page->executions) runs.push_back(row.run_id());
  FUZZ_CHECK(static_cast<int>(runs.size()) <= page_size, "page too long");
  FUZZ_CHECK(IsOrderedSubset(runs, f.full["ns"][query]),
             "a resumed page is not a part of the full listing");
  if (!token.empty()) {
    auto other =
        f.lister->List("ns2", f.custom, kQueries[query], page_size, token);
    FUZZ_CHECK(absl::IsInvalidArgument(other.status()),
               "a token of one namespace was accepted by another");
  }
  // A token this page hands out continues the listing right after it.
  if (!page->next_page_token.empty()) {
    auto next = f.lister->List("ns", f.custom, kQueries[query], page_size,
                               page->next_page_token);
    FUZZ_CHECK(next.ok(), "a token List handed out was refused");
    for (const auto& row : next->executions) runs.push_back(row.run_id());
    FUZZ_CHECK(IsOrderedSubset(runs, f.full["ns"][query]),
               "the next page repeats or reorders rows");
  }
  return 0;
}

// Every token of a paged listing of each query, as input, plus tokens of the
// other namespace and malformed ones.
std::vector<std::string> FuzzSeeds() {
  Fixture& f = Get();
  std::vector<std::string> seeds;
  for (int query = 0; query < kNumQueries; ++query) {
    for (const char* ns : {"ns", "ns2"}) {
      std::string token;
      std::vector<std::string> runs;
      do {
        auto page = f.lister->List(ns, f.custom, kQueries[query], 3, token);
        FUZZ_CHECK(page.ok(), "paging failed");
        for (const auto& row : page->executions) runs.push_back(row.run_id());
        token = page->next_page_token;
        if (!token.empty()) seeds.push_back(Input(query, 3, token));
      } while (!token.empty());
      FUZZ_CHECK(runs == f.full[ns][query],
                 "paging did not list every row once, in order");
    }
  }
  const std::string prefix = errand::store::VisibilityPrefix("ns");
  seeds.push_back(Input(0, 1, ""));
  seeds.push_back(Input(1, 2, prefix));
  seeds.push_back(Input(2, 5, prefix + std::string(17, '\xff')));
  seeds.push_back(Input(3, 8, prefix + std::string(1, '\0')));
  seeds.push_back(Input(0, 4, "ns"));
  return seeds;
}
