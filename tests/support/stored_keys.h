// Test helper: every key of one store table, in order.
#ifndef ERRAND_TESTS_SUPPORT_STORED_KEYS_H_
#define ERRAND_TESTS_SUPPORT_STORED_KEYS_H_

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "errand/store/store.h"

namespace errand::test_support {

inline std::vector<std::string> StoredKeys(store::Store& store,
                                           store::Table table) {
  std::vector<std::string> keys;
  EXPECT_TRUE(store
                  .Scan(table, "",
                        [&](absl::string_view key, absl::string_view) {
                          keys.emplace_back(key);
                          return true;
                        })
                  .ok());
  return keys;
}

}  // namespace errand::test_support

#endif  // ERRAND_TESTS_SUPPORT_STORED_KEYS_H_
