// Daemon settings. Each comes from, in rising precedence: built-in defaults,
// the YAML config file, ERRAND_* environment variables, command-line flags.
// config/errand.yaml documents every key.
#ifndef ERRAND_SERVER_CONFIG_H_
#define ERRAND_SERVER_CONFIG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "errand/frontend/auth.h"
#include "errand/server/tls.h"

namespace errand::server {

struct NamespaceConfig {
  std::string name;
  std::string description;
  absl::Duration retention = absl::Hours(72);
};

// The default shard count: half the machine's cores, at least 1 and at
// most 16. A shard is one thread that runs turns and one write at a time;
// fewer shards make bigger group commits (one fsync for more changes) and
// fewer thread switches, and on 2 cores one shard did 10-20% more work for
// the same CPU than four (docs/benchmarks.md). More cores need more shards
// to spread the turns' CPU.
int DefaultShards();

struct Config {
  std::string listen = "127.0.0.1:7233";
  // Where /metrics (Prometheus text format) is served; off when empty, the
  // default, so that several servers on one machine do not fight over a
  // port. Containers set it (ERRAND_METRICS_LISTEN).
  std::string metrics_listen;
  // The web UI and Temporal's HTTP API (errand/http/http_server.h), at
  // Temporal's port for them; off when empty.
  std::string http_listen = "127.0.0.1:8233";
  std::string data_dir = "./errand-data";
  bool sync = true;
  // By default one shard per two cores (DefaultShards).
  int shards = DefaultShards();
  std::string log_level = "info";
  // "text", or "json" (one object per line, for log shippers).
  std::string log_format = "text";
  // How long in-flight calls may run after SIGINT/SIGTERM.
  absl::Duration shutdown_grace = absl::Seconds(10);
  // Closed runs are deleted at close time + their namespace's retention +
  // a jitter below retention_jitter, by a sweep every
  // retention_sweep_interval.
  absl::Duration retention_jitter = absl::Minutes(30);
  absl::Duration retention_sweep_interval = absl::Seconds(10);
  // Rows one ListActivityExecutions page may examine (0: no limit). Past
  // it the page comes back short, with a token: the bound costs a client
  // more calls, never a wrong answer. 100,000 rows take about 0.15 s of a
  // scan thread when the namespace is read in order (visibility_bench:
  // 1,000,000 rows in 1.2-1.9 s), up to about 1 s on an index path, which
  // reads each row by key.
  int64_t list_scan_rows = 100'000;
  // Rows one CountActivityExecutions may examine (0: no limit); past it the
  // count fails with RESOURCE_EXHAUSTED. A count cannot be partial, so the
  // bound is ten times List's: it still counts a whole namespace of a
  // million executions (about 2 s), and bounds what a query the indexes
  // cannot narrow costs on a larger one.
  int64_t count_scan_rows = 1'000'000;
  // New activity starts are refused (RESOURCE_EXHAUSTED) while the data
  // directory's file system has less free space than this, so that what is
  // left goes to activities already started. 0 disables the floor.
  uint64_t min_free_space = uint64_t{64} << 20;
  // Dispatch order within a task queue (matching/backlog.h): the number of
  // priority levels (1 to 60; priority_key 0 means the middle one), and
  // stride scheduling between fairness keys within a level.
  int priority_levels = 5;
  bool fairness = true;
  // Created at start-up when missing; existing ones are left as they are.
  std::vector<NamespaceConfig> namespaces = {{"default", "", absl::Hours(72)}};
  // TLS on the gRPC port (tls.*); plaintext when tls.cert_file is empty.
  TlsConfig tls;
  // Who may call what (auth.principals; the config file only). Empty: no
  // authentication, every caller may do everything.
  std::vector<frontend::Principal> principals;
};

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
std::optional<std::string> ProcessEnv(const std::string& name);

// Builds the configuration for `errand serve` from its flags (argv after the
// subcommand). INVALID_ARGUMENT names the offending flag, key or variable.
absl::StatusOr<Config> LoadConfig(const std::vector<std::string>& flags,
                                  const EnvLookup& env);

// Parses one YAML document (the config file's content) over `base`.
absl::StatusOr<Config> ApplyYaml(Config base, const std::string& yaml_text,
                                 const std::string& source_name);

// The text `errand serve --help` prints.
std::string ServeUsage();

}  // namespace errand::server

#endif  // ERRAND_SERVER_CONFIG_H_
