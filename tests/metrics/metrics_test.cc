#include "errand/metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace errand::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(SanitizeLabelValueTest, ReplacesEachCharacterOutsideTheSetOnce) {
  EXPECT_EQ(SanitizeLabelValue("plain_Name09"), "plain_Name09");
  // As Temporal's dev server showed it for this task queue name: one '_'
  // per character, a two-byte UTF-8 letter included.
  EXPECT_EQ(SanitizeLabelValue("Ab.c-d:e/f g~\xC3\x9C"), "Ab_c_d_e_f_g__");
  EXPECT_EQ(SanitizeLabelValue(""), "");
}

TEST(RegistryTest, RendersCountersWithTheirLabels) {
  Registry registry;
  auto& family = registry.AddCounter("things", "Things seen.",
                                     {"kind", "queue"}, {{"service", "x"}});
  family.With({"a", "q-1"}).Increment();
  family.With({"a", "q-1"}).Increment(2);
  family.With({"b", "q_2"}).Increment();
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# HELP things Things seen.\n"
                              "# TYPE things counter\n"));
  EXPECT_THAT(text,
              HasSubstr("things{service=\"x\",kind=\"a\",queue=\"q_1\"} 3\n"));
  EXPECT_THAT(text,
              HasSubstr("things{service=\"x\",kind=\"b\",queue=\"q_2\"} 1\n"));
}

TEST(RegistryTest, ValuesThatSanitizeAlikeShareASeries) {
  // Two raw values that read the same once sanitized must not render as
  // two series with one label set (a parser refuses duplicates).
  Registry registry;
  auto& family = registry.AddCounter("c", "h", {"queue"});
  family.With({"a-b"}).Increment();
  family.With({"a.b"}).Increment();
  EXPECT_EQ(&family.With({"a-b"}), &family.With({"a_b"}));
  EXPECT_THAT(registry.Render(), HasSubstr("c{queue=\"a_b\"} 2\n"));
}

TEST(RegistryTest, HistogramBucketsAreCumulative) {
  Registry registry;
  static const Buckets kBounds = {0.1, 1, 10};
  auto& h = registry.AddHistogram("lat", "Latency.", {"op"}, &kBounds);
  for (double v : {0.05, 0.1, 0.5, 5.0, 50.0}) h.With({"x"}).Observe(v);
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("lat_bucket{op=\"x\",le=\"0.1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("lat_bucket{op=\"x\",le=\"1\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("lat_bucket{op=\"x\",le=\"10\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("lat_bucket{op=\"x\",le=\"+Inf\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("lat_sum{op=\"x\"} 55.65\n"));
  EXPECT_THAT(text, HasSubstr("lat_count{op=\"x\"} 5\n"));
}

TEST(RegistryTest, LabelSetsPastTheBoundShareTheOtherSeries) {
  Registry registry;
  auto& family = registry.AddCounter("c", "h", {"queue"});
  for (size_t i = 0; i < Registry::kMaxSeries + 50; ++i) {
    family.With({std::to_string(i)}).Increment();
  }
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("c{queue=\"__other__\"} 50\n"));
  EXPECT_THAT(text, HasSubstr("c{queue=\"0\"} 1\n"));
  EXPECT_THAT(
      text, Not(HasSubstr("c{queue=\"" + std::to_string(Registry::kMaxSeries) +
                          "\"}")));
}

TEST(RegistryTest, CollectorsAddFamiliesAtScrapeTime) {
  Registry registry;
  double level = 1;
  registry.AddCollector([&level] {
    return std::vector<CollectedFamily>{
        {"depth", "Depth.", Type::kGauge, {{{{"q", "a b"}}, level}}}};
  });
  EXPECT_THAT(registry.Render(), HasSubstr("depth{q=\"a_b\"} 1\n"));
  level = 2.5;
  EXPECT_THAT(registry.Render(), HasSubstr("depth{q=\"a_b\"} 2.5\n"));
}

TEST(RegistryTest, ConcurrentIncrementsAreAllCounted) {
  Registry registry;
  auto& family = registry.AddCounter("c", "h", {"t"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&family, t] {
      for (int i = 0; i < 10000; ++i) {
        family.With({t % 2 == 0 ? "even" : "odd"}).Increment();
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("c{t=\"even\"} 20000\n"));
  EXPECT_THAT(text, HasSubstr("c{t=\"odd\"} 20000\n"));
}

}  // namespace
}  // namespace errand::metrics
