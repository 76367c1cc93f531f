// Temporal's per-activity metrics (shared/spec/temporal-semantics.md §11).
//
// What a transition means for the metrics is a pure function of the run
// before and after it and the event (Measure), so it is tested like the
// state machine. Shards measure each applied event during a turn and record
// the measures once the turn's write is durable: a failed write counts
// nothing.
#ifndef ERRAND_ENGINE_ACTIVITY_METRICS_H_
#define ERRAND_ENGINE_ACTIVITY_METRICS_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "errand/engine/activity_state_machine.h"
#include "errand/metrics/metrics.h"

namespace errand::engine {

// What Measure needs of a run as it was before an event.
struct RunBefore {
  ActivityStatus status = store::v1::ACTIVITY_STATUS_UNSPECIFIED;
  absl::Time started_time = absl::InfinitePast();   // of the attempt running
  absl::Time dispatch_time = absl::InfinitePast();  // of the current attempt
};
RunBefore BeforeOf(const ActivityRecord& record);

// The metrics one applied event adds to. Operation is Temporal's
// "operation" tag; nullptr means the event counts nothing.
struct ActivityMeasures {
  const char* operation = nullptr;
  bool success = false;
  bool fail = false;       // the run failed for good
  bool task_fail = false;  // an attempt failed, retried or not
  bool cancel = false;
  bool terminate = false;
  // Timeouts: every one counts as a task timeout; `timeout_terminal` when it
  // closed the run. Temporal's names: "StartToClose", "Heartbeat", ...
  const char* timeout_type = nullptr;
  bool timeout_terminal = false;
  std::optional<absl::Duration> start_to_close;
  std::optional<absl::Duration> schedule_to_close;
  std::optional<absl::Duration> schedule_to_start;
  bool heartbeat = false;
  bool heartbeat_has_details = false;
  // Bytes of the input (start), result, terminal failure or heartbeat
  // details the event carried; nullopt when none.
  std::optional<int64_t> payload_bytes;
  // Operator commands: activity_pause, _unpause, _reset, _update_options.
  enum class Command { kNone, kPause, kUnpause, kReset, kUpdateOptions };
  Command command = Command::kNone;
};

// The measures of `event`, applied at `now` to a run that was `before` and
// is now `after` (the transition succeeded and changed the run).
ActivityMeasures Measure(const RunBefore& before, const ActivityRecord& after,
                         const ActivityEvent& event, absl::Time now);
// The measures of a newly scheduled run: its input's size.
ActivityMeasures MeasureNewRun(const ActivityRecord& record);

// The metric families, registered once with the server's registry. Thread
// safe: shards record from their own threads.
class ActivityMetrics {
 public:
  // `namespace_name` maps a namespace ID to the name the metrics show; it
  // is asked once per namespace.
  ActivityMetrics(metrics::Registry* registry,
                  std::function<std::string(absl::string_view)> namespace_name);

  void Record(const ActivityRecord& run, const ActivityMeasures& measures)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Stable: names are never dropped, and node_hash_map keeps its nodes.
  const std::string& NamespaceName(absl::string_view id)
      ABSL_LOCKS_EXCLUDED(mu_);

  const std::function<std::string(absl::string_view)> namespace_name_;
  metrics::Family<metrics::Counter>& success_;
  metrics::Family<metrics::Counter>& fail_;
  metrics::Family<metrics::Counter>& task_fail_;
  metrics::Family<metrics::Counter>& cancel_;
  metrics::Family<metrics::Counter>& terminate_;
  metrics::Family<metrics::Counter>& timeout_;
  metrics::Family<metrics::Counter>& task_timeout_;
  metrics::Family<metrics::Counter>& pause_;
  metrics::Family<metrics::Counter>& unpause_;
  metrics::Family<metrics::Counter>& reset_;
  metrics::Family<metrics::Counter>& update_options_;
  metrics::Family<metrics::Histogram>& start_to_close_;
  metrics::Family<metrics::Histogram>& schedule_to_close_;
  metrics::Family<metrics::Histogram>& schedule_to_start_;
  metrics::Family<metrics::Counter>& heartbeat_count_;
  metrics::Family<metrics::Counter>& payload_size_;
  absl::Mutex mu_;
  absl::node_hash_map<std::string, std::string> namespace_names_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace errand::engine

#endif  // ERRAND_ENGINE_ACTIVITY_METRICS_H_
