// Fuzz target for the config file parser (ApplyYaml).
//
// Properties, for any text: ApplyYaml returns (no exception escapes it, since
// yaml-cpp reports errors by throwing) with OK or INVALID_ARGUMENT, and an
// accepted file never leaves a namespace without a name or a retention.
#include <exception>
#include <string>
#include <vector>

#include "errand/server/config.h"
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto config =
        errand::server::ApplyYaml(errand::server::Config{}, text, "fuzz.yaml");
    if (!config.ok()) {
      FUZZ_CHECK(absl::IsInvalidArgument(config.status()),
                 "config refused with a code other than INVALID_ARGUMENT");
      return 0;
    }
    for (const auto& ns : config->namespaces) {
      FUZZ_CHECK(!ns.name.empty(), "namespace without a name accepted");
      FUZZ_CHECK(ns.retention > absl::ZeroDuration(),
                 "namespace without a positive retention accepted");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exception escaped ApplyYaml: %s\n", e.what());
    FUZZ_CHECK(false, "exception escaped ApplyYaml");
  }
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  return {
      "listen: 127.0.0.1:7233\ndata_dir: ./errand-data\nsync: true\n"
      "shards: 4\nlog_level: info\nshutdown_grace: 10s\n"
      "retention_jitter: 30m\nretention_sweep_interval: 10s\n"
      "list_scan_rows: 100000\ncount_scan_rows: 1000000\n",
      "namespaces:\n  - name: default\n    description: the default\n"
      "    retention: 72h\n  - name: other\n    retention: 1d\n",
      "{shards: 2, sync: false, namespaces: [{name: a, retention: 1h30m}]}\n",
      "base: &b 5\nshards: *b\n",
      "shards: -1\n",
      "shards: 99999999999999999999\n",
      "retention_jitter: 1e308h\n",
      "namespaces:\n  - x\n  - [1, 2]\n",
      "namespaces: {name: a}\n",
      "? [a, b]\n: c\n",
      "--- !!map\n!!str shards: !!int 3\n...\n",
      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
      "\"\\u0000\": \"\\xff\"\n",
      "",
  };
}
