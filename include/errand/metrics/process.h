// The process figures Prometheus's client libraries export under the same
// names (process_cpu_seconds_total, process_resident_memory_bytes, ...),
// read from /proc/self at scrape time.
#ifndef ERRAND_METRICS_PROCESS_H_
#define ERRAND_METRICS_PROCESS_H_

#include "errand/metrics/metrics.h"

namespace errand::metrics {

void AddProcessCollector(Registry* registry);

}  // namespace errand::metrics

#endif  // ERRAND_METRICS_PROCESS_H_
