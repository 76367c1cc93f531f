// Protobuf JSON with Temporal's HTTP API conventions, both ways.
//
// Temporal's HTTP API speaks proto3 JSON (lowerCamelCase names, enums by
// name, 64-bit integers as strings, durations such as "10s") with one
// extension, the payload shorthand, so that callers without an SDK can pass
// plain JSON values:
//  - Reading, a Payload may be any JSON value: null becomes a binary/null
//    payload, an object of exactly "metadata" and "data" (base64) is taken as
//    written, an object with "_protoMessageType" becomes json/protobuf of
//    that type, anything else json/plain holding that value. A Payloads may
//    be a JSON array of such values as well as {"payloads": [...]}.
//  - Writing, a json/plain payload (with no other metadata) is its value, a
//    json/protobuf one its object with "_protoMessageType", a binary/null one
//    {"metadata": {"encoding": "YmluYXJ5L251bGw="}}. A Payloads whose
//    payloads all have such a form is the array of them; otherwise it keeps
//    {"payloads": [...]}, each payload in whichever form it has.
// Turning the shorthand off (the API's ?noPayloadShorthand) gives plain
// proto3 JSON both ways.
#ifndef ERRAND_HTTP_JSON_TRANSCODING_H_
#define ERRAND_HTTP_JSON_TRANSCODING_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace errand::http {

// Objects keep the order they were written in (the reply's field order is
// the message's).
using Json = nlohmann::ordered_json;

struct JsonOptions {
  bool payload_shorthand = true;
  // Indented output (the API's ?pretty).
  bool pretty = false;
};

// Fills `message` (cleared first) from `json`, an object. Unknown fields
// are refused. INVALID_ARGUMENT with the parser's reason.
absl::Status JsonToMessage(const Json& json, google::protobuf::Message* message,
                           const JsonOptions& options);

// The message as JSON text.
std::string MessageToJson(const google::protobuf::Message& message,
                          const JsonOptions& options);

// The field of `descriptor` that a JSON key or a path variable names: its
// lowerCamelCase JSON name or its proto name; null when there is none.
const google::protobuf::FieldDescriptor* FindJsonField(
    const google::protobuf::Descriptor* descriptor, const std::string& name);

}  // namespace errand::http

#endif  // ERRAND_HTTP_JSON_TRANSCODING_H_
