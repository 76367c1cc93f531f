// Metrics in Prometheus's text exposition format, written for Errand rather
// than taken from a client library (Debian packages none for C++).
//
// A Registry owns metric families; a family owns one series per set of label
// values. Recording is lock-free once a series exists: counters and histogram
// buckets are relaxed atomics, and histograms have fixed buckets, so a hot
// path that keeps its series pointers costs no allocation and no lock. Finding
// a series by label values takes the family's lock; a new series allocates.
//
// Every family is bounded: past `max_series` label sets, new ones are counted
// in one series whose label values are all "__other__", so that a stream of
// one-off task queues cannot grow the server's memory without bound.
//
// Label values are sanitized as Temporal's server does (each character
// outside [A-Za-z0-9_] becomes "_"), so dashboards written for Temporal's
// metrics match Errand's series.
#ifndef ERRAND_METRICS_METRICS_H_
#define ERRAND_METRICS_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace errand::metrics {

class Counter {
 public:
  void Increment(uint64_t n = 1) {
    value_.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value set from outside (a level, not a count).
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Upper bounds of histogram buckets, ascending; +Inf is implied.
using Buckets = std::vector<double>;

// Temporal's latency buckets, in seconds: 1 ms to 1000 s in 1-2-5 steps.
const Buckets& LatencyBuckets();

class Histogram {
 public:
  explicit Histogram(const Buckets* bounds);
  void Observe(double value);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Take() const;
  const Buckets& bounds() const { return *bounds_; }

 private:
  // Bucket counts, one per bound plus +Inf; fixed at construction.
  static constexpr size_t kMaxBuckets = 32;
  const Buckets* const bounds_;
  std::array<std::atomic<uint64_t>, kMaxBuckets> counts_{};
  std::atomic<double> sum_{0};
};

enum class Type { kCounter, kGauge, kHistogram };

// A label set; const labels of a family come first.
using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// Appends `value` sanitized as Temporal's metrics are: every character (a
// UTF-8 sequence counts as one) outside [A-Za-z0-9_] becomes '_'.
std::string SanitizeLabelValue(absl::string_view value);

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, Type type,
             LabelPairs const_labels, std::vector<std::string> label_names,
             size_t max_series);
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  // Appends the family's HELP, TYPE and sample lines.
  void Render(std::string* out) const ABSL_LOCKS_EXCLUDED(mu_);

 protected:
  // The index of the series for `values` (one per label name), made on
  // first use by `make`.
  void* Find(absl::Span<const absl::string_view> values,
             const std::function<void*()>& make) ABSL_LOCKS_EXCLUDED(mu_);
  virtual void RenderSeries(const void* series, const std::string& labels,
                            std::string* out) const = 0;

 private:
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(absl::Span<const absl::string_view> key) const;
    size_t operator()(const std::vector<std::string>& key) const;
  };
  struct KeyEq {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (absl::string_view(a[i]) != absl::string_view(b[i])) return false;
      }
      return true;
    }
  };

  const std::string name_, help_;
  const Type type_;
  const LabelPairs const_labels_;
  const std::vector<std::string> label_names_;
  const size_t max_series_;
  mutable absl::Mutex mu_;
  // Keys are sanitized values. Series are never removed, so the pointers
  // callers keep stay valid for the family's life.
  absl::flat_hash_map<std::vector<std::string>, void*, KeyHash, KeyEq> series_
      ABSL_GUARDED_BY(mu_);
  bool overflow_logged_ ABSL_GUARDED_BY(mu_) = false;
};

template <class Metric>
class Family final : public FamilyBase {
 public:
  template <class... Args>
  Family(std::string name, std::string help, Type type, LabelPairs const_labels,
         std::vector<std::string> label_names, size_t max_series,
         Args... metric_args)
      : FamilyBase(std::move(name), std::move(help), type,
                   std::move(const_labels), std::move(label_names), max_series),
        make_([this, metric_args...]() -> void* {
          owned_.push_back(std::make_unique<Metric>(metric_args...));
          return owned_.back().get();
        }) {}

  // The series for these label values (one per label name, in order).
  Metric& With(std::initializer_list<absl::string_view> values) {
    return With(absl::MakeConstSpan(values.begin(), values.size()));
  }
  Metric& With(absl::Span<const absl::string_view> values) {
    return *static_cast<Metric*>(Find(values, make_));
  }

 private:
  void RenderSeries(const void* series, const std::string& labels,
                    std::string* out) const override;

  // Appended to under the base's lock only (from make_).
  std::vector<std::unique_ptr<Metric>> owned_;
  const std::function<void*()> make_;
};

template <>
void Family<Counter>::RenderSeries(const void*, const std::string&,
                                   std::string*) const;
template <>
void Family<Gauge>::RenderSeries(const void*, const std::string&,
                                 std::string*) const;
template <>
void Family<Histogram>::RenderSeries(const void*, const std::string&,
                                     std::string*) const;

// One sample of a family computed at scrape time (see Registry::AddCollector).
struct Sample {
  LabelPairs labels;
  double value = 0;
};
struct CollectedFamily {
  std::string name, help;
  Type type = Type::kGauge;
  std::vector<Sample> samples;
};

class Registry {
 public:
  // Families are registered at start-up; names must be unique.
  Family<Counter>& AddCounter(std::string name, std::string help,
                              std::vector<std::string> label_names,
                              LabelPairs const_labels = {});
  Family<Gauge>& AddGauge(std::string name, std::string help,
                          std::vector<std::string> label_names,
                          LabelPairs const_labels = {});
  Family<Histogram>& AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> label_names,
                                  const Buckets* buckets,
                                  LabelPairs const_labels = {});
  // Figures read when scraped (backlogs, store and process figures). A
  // collector runs on the scraping thread and must be quick and thread-safe.
  void AddCollector(std::function<std::vector<CollectedFamily>()> collector);

  // The whole exposition, in text format 0.0.4.
  std::string Render() const;

  // Label sets per family before the "__other__" series takes the rest.
  static constexpr size_t kMaxSeries = 2000;

 private:
  template <class Metric, class... Args>
  Family<Metric>& Add(std::string name, std::string help, Type type,
                      std::vector<std::string> label_names,
                      LabelPairs const_labels, Args... args);

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<std::vector<CollectedFamily>()>> collectors_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace errand::metrics

#endif  // ERRAND_METRICS_METRICS_H_
