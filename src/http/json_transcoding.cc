#include "errand/http/json_transcoding.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace errand::http {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

constexpr char kPayloads[] = "temporal.api.common.v1.Payloads";
constexpr char kPayload[] = "temporal.api.common.v1.Payload";
constexpr char kMessageTypeKey[] = "_protoMessageType";

std::string Base64(absl::string_view raw) { return absl::Base64Escape(raw); }

// Standard or URL-safe base64, padded or not, as proto3 JSON allows.
bool Unbase64(const Json& value, std::string* out) {
  if (!value.is_string()) return false;
  const std::string& text = value.get_ref<const std::string&>();
  return absl::Base64Unescape(text, out) ||
         absl::WebSafeBase64Unescape(text, out);
}

const std::string& BinaryNullEncoding() {
  static const std::string* const kValue =
      new std::string(Base64("binary/null"));
  return *kValue;
}

Json BinaryNullPayload() {
  Json payload = Json::object();
  payload["metadata"] = Json::object({{"encoding", BinaryNullEncoding()}});
  return payload;
}

// Go's encoding/json, which Temporal uses for a shorthand value, writes
// objects with their keys sorted: nlohmann::json (a std::map) does too.
std::string CompactSorted(const Json& value) {
  return nlohmann::json(value).dump(-1, ' ', false,
                                    nlohmann::json::error_handler_t::replace);
}

Json JsonPlainPayload(const Json& value) {
  Json payload = Json::object();
  payload["metadata"] = Json::object({{"encoding", Base64("json/plain")}});
  payload["data"] = Base64(CompactSorted(value));
  return payload;
}

// An object already in proto3 JSON form: exactly "metadata" (base64 values,
// an encoding among them) and "data" (base64), or a binary/null payload's
// metadata alone.
bool IsFullPayload(const Json& value) {
  auto metadata = value.find("metadata");
  if (metadata == value.end() || !metadata->is_object() ||
      !metadata->contains("encoding")) {
    return false;
  }
  std::string raw;
  for (const auto& [key, v] : metadata->items()) {
    if (!Unbase64(v, &raw)) return false;
  }
  auto data = value.find("data");
  if (data == value.end()) {
    return value.size() == 1 && (*metadata)["encoding"] == BinaryNullEncoding();
  }
  return value.size() == 2 && Unbase64(*data, &raw);
}

Json ExpandPayload(const Json& value) {
  if (value.is_null()) return BinaryNullPayload();
  if (!value.is_object()) return JsonPlainPayload(value);
  if (IsFullPayload(value)) return value;
  auto type = value.find(kMessageTypeKey);
  if (type != value.end() && type->is_string()) {
    Json body = value;
    body.erase(kMessageTypeKey);
    Json payload = Json::object();
    payload["metadata"] =
        Json::object({{"encoding", Base64("json/protobuf")},
                      {"messageType", Base64(type->get<std::string>())}});
    payload["data"] = Base64(CompactSorted(body));
    return payload;
  }
  return JsonPlainPayload(value);
}

// The shorthand of a payload in proto3 JSON form, if it has one.
bool ShortPayload(const Json& full, Json* out) {
  if (!full.is_object()) return false;
  auto metadata = full.find("metadata");
  if (metadata == full.end() || !metadata->is_object()) return false;
  std::string encoding;
  if (!Unbase64(metadata->value("encoding", Json()), &encoding)) return false;
  std::string data;
  if (full.contains("data") && !Unbase64(full["data"], &data)) return false;
  if (encoding == "binary/null") {
    *out = BinaryNullPayload();
    return true;
  }
  if (encoding == "json/plain" && metadata->size() == 1) {
    Json value = Json::parse(data, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return false;
    *out = Json(nlohmann::json(std::move(value)));
    return true;
  }
  std::string type;
  if (encoding == "json/protobuf" && metadata->size() == 2 &&
      Unbase64(metadata->value("messageType", Json()), &type) &&
      !type.empty()) {
    Json value = Json::parse(data, nullptr, /*allow_exceptions=*/false);
    if (!value.is_object()) return false;
    Json object(nlohmann::json(std::move(value)));
    object[kMessageTypeKey] = type;
    *out = std::move(object);
    return true;
  }
  return false;
}

enum class Direction { kExpand, kCollapse };

// Reading, a FieldMask is its JSON form only, a string of lowerCamelCase
// paths, as Temporal's parser insists (C++'s also takes the object form and
// snake_case, which would let a request mean something else here than on
// Temporal). The first problem found, or empty.
void CheckFieldMask(const Json& value, std::string* error) {
  if (!error->empty() || value.is_null()) return;
  if (!value.is_string()) {
    *error = "invalid FieldMask: expected a string of comma-separated paths";
  } else if (value.get_ref<const std::string&>().find('_') !=
             std::string::npos) {
    *error =
        "FieldMask.paths contains invalid path: " + value.get<std::string>() +
        " (paths are lowerCamelCase)";
  }
}

void Rewrite(Json& object, const Descriptor* descriptor, Direction direction,
             std::string* error);

void RewritePayloads(Json& value, Direction direction) {
  if (direction == Direction::kExpand) {
    if (value.is_array()) {
      value = Json::object({{"payloads", std::move(value)}});
    }
    if (value.is_object() && value.contains("payloads") &&
        value["payloads"].is_array()) {
      for (Json& payload : value["payloads"]) payload = ExpandPayload(payload);
    }
    return;
  }
  if (!value.is_object()) return;
  auto list = value.find("payloads");
  if (list == value.end()) {
    value = Json::array();
    return;
  }
  if (!list->is_array()) return;
  Json shorts = Json::array();
  bool all = true;
  for (Json& payload : *list) {
    Json short_form;
    if (ShortPayload(payload, &short_form)) {
      shorts.push_back(short_form);
      payload = std::move(short_form);
    } else {
      all = false;
    }
  }
  if (all) value = std::move(shorts);
}

void RewriteValue(Json& value, const Descriptor* type, Direction direction,
                  std::string* error) {
  if (type->full_name() == "google.protobuf.FieldMask") {
    if (direction == Direction::kExpand) CheckFieldMask(value, error);
  } else if (type->full_name() == kPayloads) {
    RewritePayloads(value, direction);
  } else if (type->full_name() == kPayload) {
    if (direction == Direction::kExpand) {
      value = ExpandPayload(value);
    } else {
      Json short_form;
      if (ShortPayload(value, &short_form)) value = std::move(short_form);
    }
  } else if (value.is_object() &&
             type->file()->package() != "google.protobuf") {
    Rewrite(value, type, direction, error);
  }
}

void Rewrite(Json& object, const Descriptor* descriptor, Direction direction,
             std::string* error) {
  if (!object.is_object()) return;
  for (auto& [key, value] : object.items()) {
    const FieldDescriptor* field = FindJsonField(descriptor, key);
    if (field == nullptr || field->message_type() == nullptr) continue;
    const Descriptor* type = field->message_type();
    if (field->is_map()) {
      const Descriptor* value_type =
          field->message_type()->map_value()->message_type();
      if (value_type == nullptr || !value.is_object()) continue;
      for (auto& [k, v] : value.items()) {
        RewriteValue(v, value_type, direction, error);
      }
    } else if (field->is_repeated()) {
      if (!value.is_array()) continue;
      for (Json& element : value) {
        RewriteValue(element, type, direction, error);
      }
    } else {
      RewriteValue(value, type, direction, error);
    }
  }
}

}  // namespace

const FieldDescriptor* FindJsonField(const Descriptor* descriptor,
                                     const std::string& name) {
  for (int i = 0; i < descriptor->field_count(); ++i) {
    if (descriptor->field(i)->json_name() == name) return descriptor->field(i);
  }
  return descriptor->FindFieldByName(name);
}

absl::Status JsonToMessage(const Json& json, google::protobuf::Message* message,
                           const JsonOptions& options) {
  message->Clear();
  if (!json.is_object()) {
    return absl::InvalidArgumentError("the request body must be a JSON object");
  }
  Json expanded = json;
  if (options.payload_shorthand) {
    std::string error;
    Rewrite(expanded, message->GetDescriptor(), Direction::kExpand, &error);
    if (!error.empty()) return absl::InvalidArgumentError(error);
  } else {
    // Only the FieldMask check; payloads stay as written.
    std::string error;
    Json copy = json;
    Rewrite(copy, message->GetDescriptor(), Direction::kExpand, &error);
    if (!error.empty()) return absl::InvalidArgumentError(error);
  }
  const std::string text =
      expanded.dump(-1, ' ', false, Json::error_handler_t::replace);
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  const auto status =
      google::protobuf::util::JsonStringToMessage(text, message, parse);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        std::string(status.message().data(), status.message().size()));
  }
  return absl::OkStatus();
}

std::string MessageToJson(const google::protobuf::Message& message,
                          const JsonOptions& options) {
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = false;
  std::string text;
  // Printing a valid message cannot fail: every type is in the generated
  // pool, Any details included.
  (void)google::protobuf::util::MessageToJsonString(message, &text, print);
  if (!options.payload_shorthand && !options.pretty) return text;
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return text;
  if (options.payload_shorthand) {
    std::string unused;
    Rewrite(json, message.GetDescriptor(), Direction::kCollapse, &unused);
  }
  return json.dump(options.pretty ? 2 : -1, ' ', false,
                   Json::error_handler_t::replace);
}

}  // namespace errand::http
