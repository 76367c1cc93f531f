#ifndef ERRAND_COMMON_UUID_H_
#define ERRAND_COMMON_UUID_H_

#include <string>

#include "absl/strings/string_view.h"

namespace errand {

// A random (version 4) UUID in its canonical lowercase 36-character form.
std::string NewUuid();

// True for the canonical 8-4-4-4-12 hex form, either case.
bool IsUuid(absl::string_view text);

}  // namespace errand

#endif  // ERRAND_COMMON_UUID_H_
