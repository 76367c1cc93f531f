// Fuzz target for the task token and the long-poll token decoders.
//
// Properties, for any bytes:
// - decoding fails only with INVALID_ARGUMENT;
// - a task token decoded for one namespace names that namespace, and the
//   same bytes are refused for any other namespace;
// - what decodes re-encodes from a record with the same fields to a token
//   that decodes to the same fields (decode(encode(x)) == x).
#include <limits>
#include <string>
#include <vector>

#include "errand/frontend/activity_mapping.h"
#include "fuzz_target.h"
#include "google/protobuf/stubs/logging.h"

namespace {

// Undecodable inputs are the common case: keep protobuf from logging each.
[[maybe_unused]] const bool kProtobufQuiet =
    (google::protobuf::SetLogHandler(nullptr), true);

using errand::frontend::DecodeLongPollToken;
using errand::frontend::DecodeTaskToken;
using errand::frontend::EncodeLongPollToken;
using errand::frontend::EncodeTaskToken;
using errand::store::ActivityRecord;

const std::string kNamespace = "6a0c3bd4-2f3e-4a53-9d0e-9b7c3d1e5f20";
const std::string kOtherNamespace = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

ActivityRecord Record(const std::string& ns, const std::string& activity_id,
                      const std::string& run_id, int attempt, int64_t stamp,
                      int64_t version) {
  ActivityRecord r;
  r.set_namespace_id(ns);
  r.set_activity_id(activity_id);
  r.set_run_id(run_id);
  r.set_attempt(attempt);
  r.set_started_stamp(stamp);
  r.set_version(version);
  return r;
}

void CheckTaskToken(const std::string& bytes) {
  auto token = DecodeTaskToken(bytes, kNamespace);
  if (!token.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(token.status()),
               "task token refused with a code other than INVALID_ARGUMENT");
    return;
  }
  FUZZ_CHECK(token->namespace_id() == kNamespace,
             "task token accepted for a namespace it does not name");
  FUZZ_CHECK(!token->activity_id().empty() && !token->run_id().empty(),
             "task token without activity or run id accepted");
  auto other = DecodeTaskToken(bytes, kOtherNamespace);
  FUZZ_CHECK(absl::IsInvalidArgument(other.status()),
             "task token accepted for another namespace");

  const std::string again = EncodeTaskToken(
      Record(token->namespace_id(), token->activity_id(), token->run_id(),
             token->attempt(), token->stamp(), 0));
  auto back = DecodeTaskToken(again, kNamespace);
  FUZZ_CHECK(back.ok() && back->namespace_id() == token->namespace_id() &&
                 back->activity_id() == token->activity_id() &&
                 back->run_id() == token->run_id() &&
                 back->attempt() == token->attempt() &&
                 back->stamp() == token->stamp(),
             "task token does not round trip");
}

void CheckLongPollToken(const std::string& bytes) {
  auto token = DecodeLongPollToken(bytes);
  if (!token.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(token.status()),
               "long-poll token refused with a code other than "
               "INVALID_ARGUMENT");
    return;
  }
  FUZZ_CHECK(!token->run_id().empty(), "long-poll token without run id");
  const std::string again =
      EncodeLongPollToken(Record(token->namespace_id(), token->activity_id(),
                                 token->run_id(), 0, 0, token->version()));
  auto back = DecodeLongPollToken(again);
  FUZZ_CHECK(back.ok() && back->namespace_id() == token->namespace_id() &&
                 back->activity_id() == token->activity_id() &&
                 back->run_id() == token->run_id() &&
                 back->version() == token->version(),
             "long-poll token does not round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  CheckTaskToken(bytes);
  CheckLongPollToken(bytes);
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  const std::string run = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c";
  return {
      EncodeTaskToken(Record(kNamespace, "send-email", run, 1, 1, 3)),
      EncodeTaskToken(
          Record(kNamespace, std::string(1000, 'a'), run, 2147483647, -1, 0)),
      EncodeTaskToken(Record(kOtherNamespace, "send-email", run, 3, 7, 9)),
      EncodeTaskToken(Record(kNamespace, "", run, 1, 1, 1)),
      EncodeLongPollToken(Record(kNamespace, "send-email", run, 0, 0, 42)),
      EncodeLongPollToken(
          Record("", "x", "y", 0, 0, std::numeric_limits<int64_t>::min())),
      std::string("\x0a\xff\xff\xff\xff\x0f", 6),  // an over-long length
      std::string(),
  };
}
