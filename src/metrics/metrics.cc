#include "errand/metrics/metrics.h"

#include <algorithm>
#include <cmath>

#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "spdlog/spdlog.h"

namespace errand::metrics {
namespace {

constexpr char kOther[] = "__other__";

bool Allowed(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

bool NeedsSanitizing(absl::string_view value) {
  return !std::all_of(value.begin(), value.end(), Allowed);
}

// A sample value: integers exactly, others with round-trip precision.
std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(v));
  }
  // The shortest of 15 or 17 significant digits that reads back exactly:
  // 0.005, not 0.0050000000000000001.
  std::string text = absl::StrFormat("%.15g", v);
  double back = 0;
  if (absl::SimpleAtod(text, &back) && back == v) return text;
  return absl::StrFormat("%.17g", v);
}

void AppendEscaped(absl::string_view value, std::string* out) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

// `{a="x",b="y"}`, or "" for no labels; `extra` (e.g. le) goes last.
std::string LabelText(const LabelPairs& labels,
                      const std::pair<std::string, std::string>* extra) {
  if (labels.empty() && extra == nullptr) return "";
  std::string out = "{";
  bool first = true;
  auto add = [&](const std::string& name, const std::string& value) {
    if (!first) out.push_back(',');
    first = false;
    absl::StrAppend(&out, name, "=\"");
    AppendEscaped(value, &out);
    out.push_back('"');
  };
  for (const auto& [name, value] : labels) add(name, value);
  if (extra != nullptr) add(extra->first, extra->second);
  out.push_back('}');
  return out;
}

const char* TypeName(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void AppendHeader(const std::string& name, const std::string& help, Type type,
                  std::string* out) {
  absl::StrAppend(out, "# HELP ", name, " ");
  for (char c : help) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
  absl::StrAppend(out, "\n# TYPE ", name, " ", TypeName(type), "\n");
}

}  // namespace

const Buckets& LatencyBuckets() {
  static const Buckets kBuckets = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1,
                                   0.2,   0.5,   1,     2,    5,    10,   20,
                                   50,    100,   200,   500,  1000};
  return kBuckets;
}

std::string SanitizeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size();) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (Allowed(static_cast<char>(c))) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    out.push_back('_');
    // One '_' per character: skip a UTF-8 sequence's continuation bytes.
    ++i;
    if (c >= 0xC0) {
      while (i < value.size() &&
             (static_cast<unsigned char>(value[i]) & 0xC0) == 0x80) {
        ++i;
      }
    }
  }
  return out;
}

Histogram::Histogram(const Buckets* bounds) : bounds_(bounds) {
  // The +Inf bucket needs a slot too.
  if (bounds_->size() + 1 > kMaxBuckets) std::abort();
}

void Histogram::Observe(double value) {
  const auto it = std::lower_bound(bounds_->begin(), bounds_->end(), value);
  counts_[static_cast<size_t>(it - bounds_->begin())].fetch_add(
      1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Take() const {
  Snapshot s;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

FamilyBase::FamilyBase(std::string name, std::string help, Type type,
                       LabelPairs const_labels,
                       std::vector<std::string> label_names, size_t max_series)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      const_labels_(std::move(const_labels)),
      label_names_(std::move(label_names)),
      max_series_(max_series) {}

size_t FamilyBase::KeyHash::operator()(
    absl::Span<const absl::string_view> key) const {
  size_t h = key.size();
  for (absl::string_view v : key) h = absl::HashOf(h, v);
  return h;
}

size_t FamilyBase::KeyHash::operator()(
    const std::vector<std::string>& key) const {
  size_t h = key.size();
  for (const std::string& v : key) h = absl::HashOf(h, absl::string_view(v));
  return h;
}

void* FamilyBase::Find(absl::Span<const absl::string_view> values,
                       const std::function<void*()>& make) {
  // Label values usually need no sanitizing; only those that do cost a copy.
  std::vector<std::string> sanitized;
  absl::InlinedVector<absl::string_view, 4> key(values.begin(), values.end());
  for (size_t i = 0; i < key.size(); ++i) {
    if (NeedsSanitizing(key[i])) {
      if (sanitized.empty()) sanitized.resize(key.size());
      sanitized[i] = SanitizeLabelValue(key[i]);
      key[i] = sanitized[i];
    }
  }
  {
    // The usual case: the series exists. Readers share the lock, so
    // recording threads do not queue behind one another.
    absl::ReaderMutexLock lock(&mu_);
    auto it = series_.find(absl::MakeConstSpan(key));
    if (it != series_.end()) return it->second;
  }
  absl::MutexLock lock(&mu_);
  auto it = series_.find(absl::MakeConstSpan(key));
  if (it != series_.end()) return it->second;
  std::vector<std::string> owned_key(key.begin(), key.end());
  if (series_.size() >= max_series_) {
    if (!overflow_logged_) {
      overflow_logged_ = true;
      spdlog::warn("metric {} has {} label sets; new ones are counted under {}",
                   name_, series_.size(), kOther);
    }
    owned_key.assign(key.size(), kOther);
    if (auto other = series_.find(owned_key); other != series_.end()) {
      return other->second;
    }
  }
  void* made = make();
  series_.emplace(std::move(owned_key), made);
  return made;
}

void FamilyBase::Render(std::string* out) const {
  AppendHeader(name_, help_, type_, out);
  absl::MutexLock lock(&mu_);
  // Sorted, so that a scrape reads the same way twice.
  std::vector<std::pair<const std::vector<std::string>*, void*>> sorted;
  sorted.reserve(series_.size());
  for (const auto& [key, series] : series_) sorted.emplace_back(&key, series);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  for (const auto& [key, series] : sorted) {
    LabelPairs labels = const_labels_;
    for (size_t i = 0; i < label_names_.size() && i < key->size(); ++i) {
      labels.emplace_back(label_names_[i], (*key)[i]);
    }
    RenderSeries(series, LabelText(labels, nullptr), out);
  }
}

template <>
void Family<Counter>::RenderSeries(const void* series,
                                   const std::string& labels,
                                   std::string* out) const {
  absl::StrAppend(out, name(), labels, " ",
                  static_cast<const Counter*>(series)->value(), "\n");
}

template <>
void Family<Gauge>::RenderSeries(const void* series, const std::string& labels,
                                 std::string* out) const {
  absl::StrAppend(out, name(), labels, " ",
                  FormatValue(static_cast<const Gauge*>(series)->value()),
                  "\n");
}

template <>
void Family<Histogram>::RenderSeries(const void* series,
                                     const std::string& labels,
                                     std::string* out) const {
  const auto* h = static_cast<const Histogram*>(series);
  const Histogram::Snapshot s = h->Take();
  // `labels` is "{...}" or empty; "le" joins it.
  const std::string open =
      labels.empty() ? "{" : labels.substr(0, labels.size() - 1) + ",";
  for (size_t i = 0; i < s.cumulative.size(); ++i) {
    const std::string le =
        i < h->bounds().size() ? FormatValue(h->bounds()[i]) : "+Inf";
    absl::StrAppend(out, name(), "_bucket", open, "le=\"", le, "\"} ",
                    s.cumulative[i], "\n");
  }
  absl::StrAppend(out, name(), "_sum", labels, " ", FormatValue(s.sum), "\n");
  absl::StrAppend(out, name(), "_count", labels, " ", s.count, "\n");
}

template <class Metric, class... Args>
Family<Metric>& Registry::Add(std::string name, std::string help, Type type,
                              std::vector<std::string> label_names,
                              LabelPairs const_labels, Args... args) {
  auto family = std::make_unique<Family<Metric>>(
      std::move(name), std::move(help), type, std::move(const_labels),
      std::move(label_names), kMaxSeries, args...);
  Family<Metric>& ref = *family;
  absl::MutexLock lock(&mu_);
  families_.push_back(std::move(family));
  return ref;
}

Family<Counter>& Registry::AddCounter(std::string name, std::string help,
                                      std::vector<std::string> label_names,
                                      LabelPairs const_labels) {
  return Add<Counter>(std::move(name), std::move(help), Type::kCounter,
                      std::move(label_names), std::move(const_labels));
}

Family<Gauge>& Registry::AddGauge(std::string name, std::string help,
                                  std::vector<std::string> label_names,
                                  LabelPairs const_labels) {
  return Add<Gauge>(std::move(name), std::move(help), Type::kGauge,
                    std::move(label_names), std::move(const_labels));
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help,
                                          std::vector<std::string> label_names,
                                          const Buckets* buckets,
                                          LabelPairs const_labels) {
  return Add<Histogram>(std::move(name), std::move(help), Type::kHistogram,
                        std::move(label_names), std::move(const_labels),
                        buckets);
}

void Registry::AddCollector(
    std::function<std::vector<CollectedFamily>()> collector) {
  absl::MutexLock lock(&mu_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::Render() const {
  std::string out;
  std::vector<std::function<std::vector<CollectedFamily>()>> collectors;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& family : families_) family->Render(&out);
    collectors = collectors_;
  }
  for (const auto& collect : collectors) {
    for (const CollectedFamily& family : collect()) {
      AppendHeader(family.name, family.help, family.type, &out);
      for (const Sample& sample : family.samples) {
        LabelPairs labels;
        labels.reserve(sample.labels.size());
        for (const auto& [name, value] : sample.labels) {
          labels.emplace_back(name, SanitizeLabelValue(value));
        }
        absl::StrAppend(&out, family.name, LabelText(labels, nullptr), " ",
                        FormatValue(sample.value), "\n");
      }
    }
  }
  return out;
}

}  // namespace errand::metrics
