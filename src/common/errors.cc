#include "errand/common/errors.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "temporal/api/errordetails/v1/message.pb.h"

namespace errand {

namespace details = temporal::api::errordetails::v1;

absl::Status WithDetail(absl::Status status,
                        const google::protobuf::Message& detail) {
  status.SetPayload(absl::StrCat(kTypeUrlPrefix, detail.GetTypeName()),
                    absl::Cord(detail.SerializeAsString()));
  return status;
}

absl::Status NamespaceNotFoundError(absl::string_view name) {
  details::NamespaceNotFoundFailure detail;
  detail.set_namespace_(std::string(name));
  return WithDetail(
      absl::NotFoundError(absl::StrCat("Namespace ", name, " is not found.")),
      detail);
}

absl::Status NamespaceAlreadyExistsError(absl::string_view name) {
  return WithDetail(absl::AlreadyExistsError(absl::StrCat("Namespace \"", name,
                                                          "\" already exists")),
                    details::NamespaceAlreadyExistsFailure());
}

absl::Status NotFoundError(absl::string_view message) {
  return WithDetail(absl::NotFoundError(message), details::NotFoundFailure());
}

absl::Status NamespaceConcurrencyLimitError(absl::string_view message) {
  details::ResourceExhaustedFailure detail;
  detail.set_cause(
      temporal::api::enums::v1::RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT);
  detail.set_scope(
      temporal::api::enums::v1::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
  return WithDetail(absl::ResourceExhaustedError(message), detail);
}

}  // namespace errand
