#include "errand/engine/namespace_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "errand/common/uuid.h"

namespace errand::engine {
namespace {

class NamespaceRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("errand-ns-" + NewUuid());
    Reopen();
  }
  void TearDown() override {
    registry_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    registry_.reset();
    store_.reset();
    auto store = store::Store::Open({dir_.string(), true});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto registry = NamespaceRegistry::Load(store_.get(), &clock_);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(*registry);
  }

  FakeClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<NamespaceRegistry> registry_;
};

TEST_F(NamespaceRegistryTest, RegisterThenGetAndSurviveRestart) {
  NamespaceSpec spec{"orders",
                     "order jobs",
                     "ops@example.com",
                     {{"team", "a"}},
                     absl::Hours(24)};
  auto registered = registry_->Register(spec);
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_TRUE(IsUuid(registered->id()));
  EXPECT_EQ(registered->retention().seconds(), 24 * 3600);

  Reopen();
  auto got = registry_->Get("orders");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->id(), registered->id());
  EXPECT_EQ(got->description(), "order jobs");
  EXPECT_EQ(got->data().at("team"), "a");
  auto by_id = registry_->GetById(registered->id());
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->name(), "orders");
}

TEST_F(NamespaceRegistryTest, DefaultsRetentionWhenUnset) {
  auto registered = registry_->Register({.name = "plain"});
  ASSERT_TRUE(registered.ok());
  EXPECT_EQ(registered->retention().seconds(),
            absl::ToInt64Seconds(kDefaultRetention));
}

TEST_F(NamespaceRegistryTest, DuplicateRegisterIsAlreadyExists) {
  ASSERT_TRUE(registry_->Register({.name = "dup"}).ok());
  auto again = registry_->Register({.name = "dup"});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "Namespace \"dup\" already exists");
  EXPECT_TRUE(registry_->EnsureRegistered({.name = "dup"}).ok());
}

TEST_F(NamespaceRegistryTest, UnknownNamespaceIsNotFoundWithDetail) {
  auto got = registry_->Get("nope");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(got.status().message(), "Namespace nope is not found.");
  EXPECT_TRUE(got.status()
                  .GetPayload("type.googleapis.com/"
                              "temporal.api.errordetails.v1."
                              "NamespaceNotFoundFailure")
                  .has_value());
}

TEST_F(NamespaceRegistryTest, RejectsEmptyAndOverlongNames) {
  EXPECT_EQ(registry_->Register({.name = ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      registry_->Register({.name = std::string(1001, 'x')}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->Get("").status().message(), "Namespace is empty.");
}

TEST_F(NamespaceRegistryTest, UpdatePersistsAndKeepsIdentity) {
  auto registered = registry_->Register({.name = "upd"});
  ASSERT_TRUE(registered.ok());
  clock_.Advance(absl::Minutes(5));
  auto updated = registry_->Update("upd", [](store::NamespaceRecord& r) {
    r.set_description("new");
    r.set_id("forged");
    return absl::OkStatus();
  });
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->id(), registered->id());
  EXPECT_GT(updated->update_time().seconds(),
            registered->update_time().seconds());
  Reopen();
  EXPECT_EQ(registry_->Get("upd")->description(), "new");
  EXPECT_EQ(registry_->Update("missing", [](auto&) { return absl::OkStatus(); })
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST_F(NamespaceRegistryTest, ListIsSortedByName) {
  ASSERT_TRUE(registry_->Register({.name = "b"}).ok());
  ASSERT_TRUE(registry_->Register({.name = "a"}).ok());
  auto all = registry_->List();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name(), "a");
  EXPECT_EQ(all[1].name(), "b");
}

// Lookups read a snapshot: a write in progress (here held inside its
// critical section, where the synced store write also happens) delays none
// of them, and they see the old record until the new one is durable.
TEST_F(NamespaceRegistryTest, LookupsDoNotWaitForAWriteInProgress) {
  ASSERT_TRUE(registry_->Register({.name = "busy", .description = "old"}).ok());
  absl::Notification writing, release;
  std::thread writer([&] {
    auto updated = registry_->Update("busy", [&](store::NamespaceRecord& r) {
      writing.Notify();
      release.WaitForNotification();
      r.set_description("new");
      return absl::OkStatus();
    });
    EXPECT_TRUE(updated.ok()) << updated.status();
  });
  writing.WaitForNotification();
  absl::Notification looked_up;
  std::string seen;
  std::thread reader([&] {
    auto got = registry_->Get("busy");
    if (got.ok()) {
      seen = got->description();
      EXPECT_TRUE(registry_->GetById(got->id()).ok());
    }
    EXPECT_EQ(registry_->List().size(), 1u);
    looked_up.Notify();
  });
  // Bounded so that a regression fails instead of hanging; the lookups
  // themselves take microseconds.
  const bool answered =
      looked_up.WaitForNotificationWithTimeout(absl::Seconds(10));
  release.Notify();
  reader.join();
  writer.join();
  EXPECT_TRUE(answered) << "Get waited for the namespace write";
  EXPECT_EQ(seen, "old");
  EXPECT_EQ(registry_->Get("busy")->description(), "new");
}

TEST_F(NamespaceRegistryTest, ConcurrentWritersAreSerialized) {
  constexpr int kThreads = 8;
  std::atomic<int> registered{0}, already_exists{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      auto r = registry_->Register({.name = "race"});
      if (r.ok()) ++registered;
      if (absl::IsAlreadyExists(r.status())) ++already_exists;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(registered.load(), 1);
  EXPECT_EQ(already_exists.load(), kThreads - 1);
  // Updates from many threads each apply to the latest record: none is lost.
  threads.clear();
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto updated = registry_->Update("race", [i](store::NamespaceRecord& r) {
        (*r.mutable_data())[absl::StrCat("k", i)] = "v";
        return absl::OkStatus();
      });
      EXPECT_TRUE(updated.ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(registry_->Get("race")->data().size(),
            static_cast<size_t>(kThreads));
  Reopen();
  EXPECT_EQ(registry_->Get("race")->data().size(),
            static_cast<size_t>(kThreads));
}

}  // namespace
}  // namespace errand::engine
