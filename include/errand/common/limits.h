// Temporal's request limits that more than one component enforces or
// announces, defined once (shared/spec/temporal-semantics.md, "Limits").
#ifndef ERRAND_COMMON_LIMITS_H_
#define ERRAND_COMMON_LIMITS_H_

#include <cstddef>

namespace errand {

// Longest ID Temporal accepts (limit.maxIDLength): activity IDs and types,
// request IDs, identities, task queue and namespace names.
inline constexpr size_t kMaxIdLength = 1000;

// Largest payload, failure or reason Temporal accepts
// (limit.blobSize.error), also announced to workers.
inline constexpr size_t kBlobSizeLimit = 2 * 1024 * 1024;

}  // namespace errand

#endif  // ERRAND_COMMON_LIMITS_H_
