#include "errand/http/gateway.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"

namespace errand::http {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

HttpResponse JsonError(int http_status, grpc::StatusCode code,
                       absl::string_view message) {
  google::rpc::Status status;
  status.set_code(code);
  status.set_message(std::string(message));
  return HttpResponse{http_status, MessageToJson(status, {})};
}

// The headers Temporal's HTTP API passes on as gRPC metadata: the API key,
// the client's name and version, and any Grpc-Metadata-<name>.
std::vector<std::pair<std::string, std::string>> ForwardedMetadata(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  static constexpr absl::string_view kForwarded[] = {
      "authorization", "authorization-extras", "client-name", "client-version",
      "x-forwarded-for"};
  static constexpr absl::string_view kPrefix = "grpc-metadata-";
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [raw_name, value] : headers) {
    std::string name = absl::AsciiStrToLower(raw_name);
    if (absl::StartsWith(name, kPrefix)) {
      name = name.substr(kPrefix.size());
    } else if (std::find(std::begin(kForwarded), std::end(kForwarded), name) ==
               std::end(kForwarded)) {
      continue;
    }
    // gRPC refuses keys and values it cannot send: skip them rather than
    // fail the call. Binary (-bin) and reserved (grpc-) keys are not passed,
    // nor Errand's own (errand-): only the server sets those.
    const bool key_ok =
        !name.empty() && !absl::StartsWith(name, "grpc-") &&
        !absl::StartsWith(name, "errand-") && !absl::EndsWith(name, "-bin") &&
        std::all_of(name.begin(), name.end(), [](char c) {
          return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' ||
                 c == '_' || c == '.';
        });
    const bool value_ok = std::all_of(value.begin(), value.end(), [](char c) {
      return c >= 0x20 && c <= 0x7e;
    });
    if (key_ok && value_ok) out.emplace_back(std::move(name), value);
  }
  return out;
}

// A query string or path value as the JSON a field of `field`'s type takes
// (proto3 JSON accepts strings for most scalars; not for bools and numbers
// that are JSON numbers).
Json ScalarJson(const FieldDescriptor* field, const std::string& value) {
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      if (value == "true" || value == "1") return true;
      if (value == "false" || value == "0") return false;
      return value;
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_ENUM: {
      int64_t n = 0;
      if (absl::SimpleAtoi(value, &n)) return n;
      return value;
    }
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double d = 0;
      if (absl::SimpleAtod(value, &d)) return d;
      return value;
    }
    default:
      return value;
  }
}

// Sets the field at `path` (dot-separated JSON or proto names) in `object`,
// a request of type `descriptor`, to `value`. Repeated fields collect every
// value; `replace` makes a path variable win over the body. NOT_FOUND when
// the path names no field (such query parameters are ignored, as
// grpc-gateway does); INVALID_ARGUMENT for a second value of a singular
// field from the query string.
absl::Status SetField(Json& object, const Descriptor* descriptor,
                      absl::string_view path, const std::string& value,
                      bool replace) {
  Json* node = &object;
  const std::vector<absl::string_view> names = absl::StrSplit(path, '.');
  for (size_t i = 0; i < names.size(); ++i) {
    const FieldDescriptor* field =
        FindJsonField(descriptor, std::string(names[i]));
    if (field == nullptr || !node->is_object()) {
      return absl::NotFoundError(path);
    }
    // One spelling per field: the body may have used the proto name.
    if (field->json_name() != field->name()) node->erase(field->name());
    Json& slot = (*node)[field->json_name()];
    const bool last = i + 1 == names.size();
    if (!last) {
      if (field->message_type() == nullptr || field->is_repeated()) {
        return absl::NotFoundError(path);
      }
      if (!slot.is_object()) slot = Json::object();
      node = &slot;
      descriptor = field->message_type();
      continue;
    }
    Json converted = ScalarJson(field, value);
    if (field->is_repeated() && !replace) {
      if (!slot.is_array()) slot = Json::array();
      slot.push_back(std::move(converted));
    } else if (!replace && !slot.is_null()) {
      return absl::InvalidArgumentError(
          absl::StrCat("too many values for field \"", path,
                       "\": ", slot.dump(), ", \"", value, "\""));
    } else {
      slot = std::move(converted);
    }
  }
  return absl::OkStatus();
}

// Parses a request body, noting in `duplicate` the first key an object
// repeats: proto3 JSON refuses a field given twice (nlohmann would keep the
// last one silently). Throws Json::parse_error.
Json ParseRejectingDuplicates(const std::string& text, std::string* duplicate) {
  std::vector<absl::flat_hash_set<std::string>> keys;
  return Json::parse(text, [&](int, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!keys.empty() &&
            !keys.back().insert(parsed.get<std::string>()).second &&
            duplicate->empty()) {
          *duplicate = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return true;
  });
}

bool Flag(absl::string_view value) { return value != "false" && value != "0"; }

std::vector<std::pair<std::string, std::string>> QueryPairs(
    absl::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    std::string key;
    std::string value;
    if (!PercentDecode(kv.first, /*plus_is_space=*/true, &key) ||
        !PercentDecode(kv.second, /*plus_is_space=*/true, &value)) {
      continue;
    }
    pairs.emplace_back(std::move(key), std::move(value));
  }
  return pairs;
}

}  // namespace

int HttpStatusFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}

HttpResponse ErrorResponse(const grpc::Status& status,
                           const JsonOptions& options) {
  google::rpc::Status body;
  if (status.error_details().empty() ||
      !body.ParseFromString(status.error_details())) {
    body.Clear();
    body.set_code(status.error_code());
    body.set_message(status.error_message());
  }
  return HttpResponse{HttpStatusFor(status.error_code()),
                      MessageToJson(body, options)};
}

JsonOptions OptionsFromQuery(absl::string_view query) {
  JsonOptions options;
  for (const auto& [key, value] : QueryPairs(query)) {
    if (key == "pretty") options.pretty = Flag(value);
    if (key == "noPayloadShorthand") options.payload_shorthand = !Flag(value);
  }
  return options;
}

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Create(
    std::shared_ptr<grpc::Channel> channel,
    const std::vector<const google::protobuf::ServiceDescriptor*>& services) {
  auto routes = RouteTable::Build(services);
  if (!routes.ok()) return routes.status();
  return std::unique_ptr<Gateway>(
      new Gateway(std::move(channel), *std::move(routes)));
}

Gateway::Gateway(std::shared_ptr<grpc::Channel> channel, RouteTable routes)
    : channel_(std::move(channel)), routes_(std::move(routes)) {}

grpc::Status Gateway::Call(const google::protobuf::MethodDescriptor* method,
                           const google::protobuf::Message& request,
                           const HttpRequest& metadata_source,
                           google::protobuf::Message* response) const {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  for (const auto& [key, value] : ForwardedMetadata(metadata_source.headers)) {
    context.AddMetadata(key, value);
  }
  for (const auto& [key, value] : metadata_source.trusted_metadata) {
    context.AddMetadata(key, value);
  }
  const std::string serialized = request.SerializeAsString();
  grpc::Slice slice(serialized);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  grpc::GenericStub stub(channel_);
  absl::Notification done;
  grpc::Status result;
  stub.UnaryCall(
      &context,
      absl::StrCat("/", method->service()->full_name(), "/", method->name()),
      grpc::StubOptions(), &request_buffer, &response_buffer,
      [&](grpc::Status status) {
        result = std::move(status);
        done.Notify();
      });
  done.WaitForNotification();
  if (!result.ok()) return result;
  std::vector<grpc::Slice> slices;
  if (!response_buffer.Dump(&slices).ok()) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "unreadable reply");
  }
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  if (!response->ParseFromString(bytes)) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "unparsable reply");
  }
  return grpc::Status::OK;
}

HttpResponse Gateway::Handle(const HttpRequest& request) const {
  const size_t question = request.target.find('?');
  const absl::string_view path =
      absl::string_view(request.target).substr(0, question);
  const absl::string_view query =
      question == std::string::npos
          ? absl::string_view()
          : absl::string_view(request.target).substr(question + 1);
  const JsonOptions options = OptionsFromQuery(query);

  const RouteMatch match = routes_.Match(request.verb, path);
  if (match.result == RouteMatch::Result::kNotFound) {
    return JsonError(404, grpc::StatusCode::NOT_FOUND, "Not Found");
  }
  if (match.result == RouteMatch::Result::kWrongMethod) {
    return JsonError(405, grpc::StatusCode::UNIMPLEMENTED,
                     "Method Not Allowed");
  }
  const google::protobuf::MethodDescriptor* method = match.binding->method;
  const Descriptor* input = method->input_type();

  Json json = Json::object();
  if (match.binding->body == "*") {
    if (!absl::StripAsciiWhitespace(request.body).empty()) {
      std::string duplicate;
      try {
        json = ParseRejectingDuplicates(request.body, &duplicate);
      } catch (const Json::parse_error& e) {
        return JsonError(400, grpc::StatusCode::INVALID_ARGUMENT, e.what());
      }
      if (!duplicate.empty()) {
        return JsonError(400, grpc::StatusCode::INVALID_ARGUMENT,
                         absl::StrCat("duplicate field \"", duplicate, "\""));
      }
      if (!json.is_object()) {
        return JsonError(400, grpc::StatusCode::INVALID_ARGUMENT,
                         "the request body must be a JSON object");
      }
    }
  } else {
    for (const auto& [key, value] : QueryPairs(query)) {
      if (key == "pretty" || key == "noPayloadShorthand") continue;
      absl::Status s = SetField(json, input, key, value, /*replace=*/false);
      if (absl::IsInvalidArgument(s)) {
        return JsonError(400, grpc::StatusCode::INVALID_ARGUMENT, s.message());
      }
    }
  }
  for (const auto& [field_path, value] : match.variables) {
    (void)SetField(json, input, field_path, value, /*replace=*/true);
  }

  const google::protobuf::Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(
          input);
  const google::protobuf::Message* response_prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(
          method->output_type());
  if (prototype == nullptr || response_prototype == nullptr) {
    return JsonError(501, grpc::StatusCode::UNIMPLEMENTED,
                     "method not available");
  }
  std::unique_ptr<google::protobuf::Message> message(prototype->New());
  if (absl::Status s = JsonToMessage(json, message.get(), options); !s.ok()) {
    return JsonError(400, grpc::StatusCode::INVALID_ARGUMENT, s.message());
  }
  std::unique_ptr<google::protobuf::Message> response(
      response_prototype->New());
  const grpc::Status status = Call(method, *message, request, response.get());
  if (!status.ok()) return ErrorResponse(status, options);
  return HttpResponse{200, MessageToJson(*response, options)};
}

}  // namespace errand::http
