// Visibility calls: List and Count, run on the scan executor.
#include <algorithm>
#include <utility>

#include "activity_calls.h"
#include "errand/common/payloads.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace errand::frontend {
namespace {

namespace ws = temporal::api::workflowservice::v1;

// The part of a call's remaining time a scan leaves for the answer to reach
// the caller: a tenth, at most one second.
absl::Time ScanDeadline(absl::Time now, absl::Time call_deadline) {
  if (call_deadline == absl::InfiniteFuture()) return call_deadline;
  const absl::Duration left = call_deadline - now;
  return call_deadline - std::min(absl::Seconds(1), left / 10);
}

// Runs `scan` (a List or Count that reads the store) on the scan executor
// instead of the gRPC thread, within the call's deadline and `max_rows`,
// and finishes the call with its status. A full executor queue answers
// RESOURCE_EXHAUSTED at once rather than queueing without bound.
template <typename Scan>
void OffloadScan(const ActivityServiceDeps& deps, UnaryCall* call,
                 int64_t max_rows, Scan scan) {
  const Clock* clock = deps.clock;
  const visibility::ScanLimits limits{
      max_rows, ScanDeadline(clock->Now(), call->deadline())};
  const bool queued =
      deps.scan_executor->Submit([call, clock, limits, scan = std::move(scan)] {
        // The caller may have waited out its deadline in the queue.
        if (limits.deadline != absl::InfiniteFuture() &&
            clock->Now() >= limits.deadline) {
          return call->Finish(absl::DeadlineExceededError(
              "query did not start before the call's deadline: the server "
              "is busy with other List and Count calls"));
        }
        call->Finish(scan(limits));
      });
  if (!queued) {
    call->Finish(absl::ResourceExhaustedError(
        "too many List and Count calls in progress; retry later"));
  }
}

}  // namespace

void RegisterVisibilityCalls(ServiceTable& table,
                             const ActivityServiceDeps& deps) {
  table.HandleAsync<ws::ListActivityExecutionsRequest,
                    ws::ListActivityExecutionsResponse>(
      "ListActivityExecutions",
      [deps](UnaryCall* call, const ws::ListActivityExecutionsRequest& req,
             ws::ListActivityExecutionsResponse* resp) {
        auto ns = Namespace(deps, req);
        if (!ns.ok()) return call->Finish(ns.status());
        // The request and response live until the call is finished.
        OffloadScan(
            deps, call, deps.list_scan_rows,
            [deps, ns = *std::move(ns), &req,
             resp](const visibility::ScanLimits& limits) {
              auto page = deps.lister->List(ns.id(), ns.search_attributes(),
                                            req.query(), req.page_size(),
                                            req.next_page_token(), limits);
              if (!page.ok()) return page.status();
              for (auto& row : page->executions) {
                visibility::ListedSearchAttributes(
                    ns.search_attributes(), row.mutable_search_attributes());
                *resp->add_executions() = std::move(row);
              }
              resp->set_next_page_token(page->next_page_token);
              return absl::OkStatus();
            });
      });

  table.HandleAsync<ws::CountActivityExecutionsRequest,
                    ws::CountActivityExecutionsResponse>(
      "CountActivityExecutions",
      [deps](UnaryCall* call, const ws::CountActivityExecutionsRequest& req,
             ws::CountActivityExecutionsResponse* resp) {
        auto ns = Namespace(deps, req);
        if (!ns.ok()) return call->Finish(ns.status());
        OffloadScan(deps, call, deps.count_scan_rows,
                    [deps, ns = *std::move(ns), &req,
                     resp](const visibility::ScanLimits& limits) {
                      auto counted = deps.lister->Count(
                          ns.id(), ns.search_attributes(), req.query(), limits);
                      if (!counted.ok()) return counted.status();
                      resp->set_count(counted->count);
                      for (const auto& [status, count] : counted->groups) {
                        auto* group = resp->add_groups();
                        // A search attribute value, typed as Temporal
                        // types it (the Java SDK requires the type).
                        auto* value = group->add_group_values();
                        *value = JsonStringPayload(status);
                        (*value->mutable_metadata())["type"] = "Keyword";
                        group->set_count(count);
                      }
                      return absl::OkStatus();
                    });
      });
}

}  // namespace errand::frontend
