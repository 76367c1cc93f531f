#include "errand/frontend/operator_handler.h"

#include "absl/strings/str_cat.h"
#include "errand/visibility/filter.h"
#include "temporal/api/operatorservice/v1/request_response.pb.h"

namespace errand::frontend {
namespace {

namespace ops = temporal::api::operatorservice::v1;
namespace enums = temporal::api::enums::v1;

}  // namespace

void RegisterOperatorService(ServiceTable& table,
                             engine::NamespaceRegistry* namespaces) {
  table.Handle<ops::AddSearchAttributesRequest,
               ops::AddSearchAttributesResponse>(
      "AddSearchAttributes",
      [namespaces](const ops::AddSearchAttributesRequest& req,
                   ops::AddSearchAttributesResponse*) -> absl::Status {
        if (req.search_attributes().empty()) {
          return absl::InvalidArgumentError(
              "SearchAttributes are not set on request.");
        }
        for (const auto& [name, type] : req.search_attributes()) {
          if (visibility::IsSystemAttribute(name)) {
            return absl::InvalidArgumentError(absl::StrCat(
                "Search attribute ", name, " is reserved by system."));
          }
          if (type == enums::INDEXED_VALUE_TYPE_UNSPECIFIED ||
              !enums::IndexedValueType_IsValid(type)) {
            return absl::InvalidArgumentError(absl::StrCat(
                "Unknown index value type: ", static_cast<int>(type), "."));
          }
        }
        // Re-adding an attribute keeps its first type, as Temporal does.
        return namespaces
            ->Update(
                req.namespace_(),
                [&](store::NamespaceRecord& record) {
                  for (const auto& [name, type] : req.search_attributes()) {
                    record.mutable_search_attributes()->insert(
                        {name, static_cast<int32_t>(type)});
                  }
                  return absl::OkStatus();
                })
            .status();
      });

  table.Handle<ops::ListSearchAttributesRequest,
               ops::ListSearchAttributesResponse>(
      "ListSearchAttributes",
      [namespaces](const ops::ListSearchAttributesRequest& req,
                   ops::ListSearchAttributesResponse* resp) -> absl::Status {
        auto ns = namespaces->Get(req.namespace_());
        if (!ns.ok()) return ns.status();
        for (const auto& [name, type] : ns->search_attributes()) {
          (*resp->mutable_custom_attributes())[name] =
              static_cast<enums::IndexedValueType>(type);
        }
        for (const auto& [name, type] : visibility::SystemAttributes()) {
          (*resp->mutable_system_attributes())[name] = type;
        }
        return absl::OkStatus();
      });

  table.Handle<ops::RemoveSearchAttributesRequest,
               ops::RemoveSearchAttributesResponse>(
      "RemoveSearchAttributes",
      [namespaces](const ops::RemoveSearchAttributesRequest& req,
                   ops::RemoveSearchAttributesResponse*) -> absl::Status {
        return namespaces
            ->Update(req.namespace_(),
                     [&](store::NamespaceRecord& record) -> absl::Status {
                       for (const auto& name : req.search_attributes()) {
                         if (!record.search_attributes().contains(name)) {
                           return absl::InvalidArgumentError(absl::StrCat(
                               "Search attribute ", name, " doesn't exist."));
                         }
                       }
                       for (const auto& name : req.search_attributes()) {
                         record.mutable_search_attributes()->erase(name);
                       }
                       return absl::OkStatus();
                     })
            .status();
      });
}

}  // namespace errand::frontend
