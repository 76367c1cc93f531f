#include "errand/frontend/grpc_status.h"

#include <string>

#include "errand/common/errors.h"
#include "google/rpc/status.pb.h"

namespace errand::frontend {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode share their numbering.
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());

  google::rpc::Status rich;
  status.ForEachPayload(
      [&](absl::string_view type_url, const absl::Cord& value) {
        if (type_url.substr(0, kTypeUrlPrefix.size()) != kTypeUrlPrefix) return;
        google::protobuf::Any* any = rich.add_details();
        any->set_type_url(std::string(type_url));
        any->set_value(std::string(value));
      });
  if (rich.details_size() == 0) return grpc::Status(code, message);
  rich.set_code(static_cast<int>(code));
  rich.set_message(message);
  return grpc::Status(code, message, rich.SerializeAsString());
}

}  // namespace errand::frontend
