#ifndef ERRAND_COMMON_PAYLOADS_H_
#define ERRAND_COMMON_PAYLOADS_H_

#include "absl/strings/string_view.h"
#include "temporal/api/common/v1/message.pb.h"

namespace errand {

// A payload holding `text` as a JSON string, encoded the way every SDK's
// default data converter decodes it (metadata encoding=json/plain).
temporal::api::common::v1::Payload JsonStringPayload(absl::string_view text);

// Total size of the payloads' data and metadata, as Temporal's blob size
// limit counts it.
size_t PayloadsSize(const temporal::api::common::v1::Payloads& payloads);

}  // namespace errand

#endif  // ERRAND_COMMON_PAYLOADS_H_
