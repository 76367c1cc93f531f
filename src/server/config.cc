#include "errand/server/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace errand::server {
namespace {

constexpr const char* kLogLevels[] = {"trace", "debug",    "info", "warn",
                                      "error", "critical", "off"};

absl::Status Invalid(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

absl::StatusOr<bool> ParseBool(const std::string& where,
                               const std::string& text) {
  const std::string v = absl::AsciiStrToLower(text);
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return Invalid(where,
                 absl::StrCat("expected true or false, got \"", text, "\""));
}

}  // namespace

int DefaultShards() {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(cores / 2, 1, 16);
}

namespace {

absl::StatusOr<int> ParseShards(const std::string& where,
                                const std::string& text) {
  int n = 0;
  if (!absl::SimpleAtoi(text, &n) || n < 1 || n > 1024) {
    return Invalid(where, absl::StrCat("expected a shard count from 1 to "
                                       "1024, got \"",
                                       text, "\""));
  }
  return n;
}

absl::StatusOr<int64_t> ParseRowCount(const std::string& where,
                                      const std::string& text) {
  int64_t n = 0;
  if (!absl::SimpleAtoi(text, &n) || n < 0) {
    return Invalid(where, absl::StrCat("expected a row count (0 for no "
                                       "limit), got \"",
                                       text, "\""));
  }
  return n;
}

absl::StatusOr<absl::Duration> ParseDurationValue(const std::string& where,
                                                  const std::string& text) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration()) {
    return Invalid(where, absl::StrCat("expected a duration such as 10s or "
                                       "72h, got \"",
                                       text, "\""));
  }
  return d;
}

// A byte count: a plain number, or one with a binary unit (KiB, MiB, GiB,
// TiB; case does not matter), such as 64MiB.
absl::StatusOr<uint64_t> ParseSize(const std::string& where,
                                   const std::string& text) {
  constexpr std::pair<const char*, int> kUnits[] = {
      {"kib", 10}, {"mib", 20}, {"gib", 30}, {"tib", 40}, {"b", 0}};
  std::string number = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  int shift = 0;
  for (const auto& [unit, bits] : kUnits) {
    if (absl::EndsWith(number, unit)) {
      number = std::string(absl::StripAsciiWhitespace(
          number.substr(0, number.size() - std::strlen(unit))));
      shift = bits;
      break;
    }
  }
  uint64_t n = 0;
  if (number.empty() || !absl::SimpleAtoi(number, &n) ||
      (shift > 0 && n > (UINT64_MAX >> shift))) {
    return Invalid(where, absl::StrCat("expected a size such as 64MiB, 1GiB "
                                       "or 0, got \"",
                                       text, "\""));
  }
  return n << shift;
}

absl::Status CheckLogLevel(const std::string& where, const std::string& level) {
  for (const char* l : kLogLevels) {
    if (level == l) return absl::OkStatus();
  }
  return Invalid(where, absl::StrCat("unknown log level \"", level,
                                     "\" (trace, debug, info, warn, error, "
                                     "critical, off)"));
}

absl::Status CheckListen(const std::string& where, const std::string& listen) {
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return Invalid(where,
                   absl::StrCat("expected HOST:PORT, got \"", listen, "\""));
  }
  return absl::OkStatus();
}

// Applies one setting given by name, whatever its source.
absl::Status ApplySetting(Config& config, const std::string& key,
                          const std::string& value, const std::string& where) {
  if (key == "listen") {
    if (absl::Status s = CheckListen(where, value); !s.ok()) return s;
    config.listen = value;
  } else if (key == "http.listen") {
    if (!value.empty()) {
      if (absl::Status s = CheckListen(where, value); !s.ok()) return s;
    }
    config.http_listen = value;
  } else if (key == "metrics.listen") {
    if (!value.empty()) {
      if (absl::Status s = CheckListen(where, value); !s.ok()) return s;
    }
    config.metrics_listen = value;
  } else if (key == "data_dir") {
    if (value.empty()) return Invalid(where, "must not be empty");
    config.data_dir = value;
  } else if (key == "sync") {
    auto v = ParseBool(where, value);
    if (!v.ok()) return v.status();
    config.sync = *v;
  } else if (key == "shards") {
    auto v = ParseShards(where, value);
    if (!v.ok()) return v.status();
    config.shards = *v;
  } else if (key == "log_level") {
    if (absl::Status s = CheckLogLevel(where, value); !s.ok()) return s;
    config.log_level = value;
  } else if (key == "log_format") {
    if (value != "text" && value != "json") {
      return Invalid(where, absl::StrCat("unknown log format \"", value,
                                         "\" (text, json)"));
    }
    config.log_format = value;
  } else if (key == "shutdown_grace") {
    auto v = ParseDurationValue(where, value);
    if (!v.ok()) return v.status();
    config.shutdown_grace = *v;
  } else if (key == "retention_jitter") {
    auto v = ParseDurationValue(where, value);
    if (!v.ok()) return v.status();
    config.retention_jitter = *v;
  } else if (key == "retention_sweep_interval") {
    auto v = ParseDurationValue(where, value);
    if (!v.ok()) return v.status();
    if (*v == absl::ZeroDuration()) return Invalid(where, "must be positive");
    config.retention_sweep_interval = *v;
  } else if (key == "list_scan_rows") {
    auto v = ParseRowCount(where, value);
    if (!v.ok()) return v.status();
    config.list_scan_rows = *v;
  } else if (key == "count_scan_rows") {
    auto v = ParseRowCount(where, value);
    if (!v.ok()) return v.status();
    config.count_scan_rows = *v;
  } else if (key == "priority_levels") {
    int n = 0;
    if (!absl::SimpleAtoi(value, &n) || n < 1 || n > 60) {
      return Invalid(where, absl::StrCat("expected a number of levels from 1 "
                                         "to 60, got \"",
                                         value, "\""));
    }
    config.priority_levels = n;
  } else if (key == "fairness") {
    auto v = ParseBool(where, value);
    if (!v.ok()) return v.status();
    config.fairness = *v;
  } else if (key == "tls.cert_file") {
    config.tls.cert_file = value;
  } else if (key == "tls.key_file") {
    config.tls.key_file = value;
  } else if (key == "tls.client_ca_file") {
    config.tls.client_ca_file = value;
  } else if (key == "min_free_space") {
    auto v = ParseSize(where, value);
    if (!v.ok()) return v.status();
    config.min_free_space = *v;
  } else {
    return Invalid(where, "unknown setting");
  }
  return absl::OkStatus();
}

struct Setting {
  const char* key;
  const char* flag;
  const char* env;
};
constexpr Setting kSettings[] = {
    {"listen", "--listen", "ERRAND_LISTEN"},
    {"data_dir", "--data-dir", "ERRAND_DATA_DIR"},
    {"sync", "--sync", "ERRAND_SYNC"},
    {"shards", "--shards", "ERRAND_SHARDS"},
    {"log_level", "--log-level", "ERRAND_LOG_LEVEL"},
    {"log_format", "--log-format", "ERRAND_LOG_FORMAT"},
    {"shutdown_grace", "--shutdown-grace", "ERRAND_SHUTDOWN_GRACE"},
    {"retention_jitter", "--retention-jitter", "ERRAND_RETENTION_JITTER"},
    {"retention_sweep_interval", "--retention-sweep-interval",
     "ERRAND_RETENTION_SWEEP_INTERVAL"},
    {"list_scan_rows", "--list-scan-rows", "ERRAND_LIST_SCAN_ROWS"},
    {"count_scan_rows", "--count-scan-rows", "ERRAND_COUNT_SCAN_ROWS"},
    {"min_free_space", "--min-free-space", "ERRAND_MIN_FREE_SPACE"},
    {"priority_levels", "--priority-levels", "ERRAND_PRIORITY_LEVELS"},
    {"fairness", "--fairness", "ERRAND_FAIRNESS"},
    {"metrics.listen", "--metrics-listen", "ERRAND_METRICS_LISTEN"},
    {"http.listen", "--http-listen", "ERRAND_HTTP_LISTEN"},
    {"tls.cert_file", "--tls-cert-file", "ERRAND_TLS_CERT_FILE"},
    {"tls.key_file", "--tls-key-file", "ERRAND_TLS_KEY_FILE"},
    {"tls.client_ca_file", "--tls-client-ca-file", "ERRAND_TLS_CLIENT_CA_FILE"},
};

// auth.principals: a list of {name, api_key_sha256, tls_identity, roles}.
absl::Status ApplyPrincipals(Config& config, const YAML::Node& list,
                             const std::string& where) {
  if (!list.IsSequence()) return Invalid(where, "expected a list");
  config.principals.clear();
  for (const auto& item : list) {
    if (!item.IsMap()) return Invalid(where, "expected a principal mapping");
    frontend::Principal p;
    for (const auto& field : item) {
      const std::string name = field.first.as<std::string>();
      const std::string at = absl::StrCat(where, ".", name);
      if (name == "roles") {
        if (!field.second.IsMap()) {
          return Invalid(at, "expected namespace: role pairs");
        }
        for (const auto& role : field.second) {
          const std::string ns = role.first.as<std::string>();
          auto parsed = frontend::ParseRole(role.second.as<std::string>());
          if (!parsed) {
            return Invalid(absl::StrCat(at, ".", ns),
                           "expected reader, writer or admin");
          }
          p.roles[ns] = *parsed;
        }
        continue;
      }
      if (!field.second.IsScalar()) return Invalid(at, "expected a value");
      const std::string value = field.second.as<std::string>();
      if (name == "name") {
        p.name = value;
      } else if (name == "api_key_sha256") {
        p.api_key_sha256 = value;
      } else if (name == "tls_identity") {
        p.tls_identity = value;
      } else {
        return Invalid(at,
                       "unknown principal field (name, api_key_sha256, "
                       "tls_identity, roles)");
      }
    }
    config.principals.push_back(std::move(p));
  }
  if (absl::Status s = frontend::ValidatePrincipals(config.principals);
      !s.ok()) {
    return Invalid(where, std::string(s.message()));
  }
  return absl::OkStatus();
}

// Checks that hold between settings, once every source is applied.
absl::Status CheckCombined(const Config& config) {
  const TlsConfig& tls = config.tls;
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "tls.cert_file and tls.key_file go together: set both, or neither");
  }
  if (!tls.client_ca_file.empty() && tls.cert_file.empty()) {
    return absl::InvalidArgumentError(
        "tls.client_ca_file needs tls.cert_file and tls.key_file");
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

absl::StatusOr<Config> ApplyYaml(Config config, const std::string& yaml_text,
                                 const std::string& source_name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Invalid(source_name, e.what());
  }
  if (root.IsNull()) return config;
  if (!root.IsMap())
    return Invalid(source_name, "expected a mapping of settings");
  try {
    for (const auto& entry : root) {
      const std::string key = entry.first.as<std::string>();
      const std::string where = absl::StrCat(source_name, ": ", key);
      if (key == "namespaces") {
        if (!entry.second.IsSequence()) {
          return Invalid(where, "expected a list of namespaces");
        }
        config.namespaces.clear();
        for (const auto& item : entry.second) {
          NamespaceConfig ns;
          if (!item["name"] || item["name"].as<std::string>().empty()) {
            return Invalid(where, "every namespace needs a name");
          }
          ns.name = item["name"].as<std::string>();
          if (item["description"]) {
            ns.description = item["description"].as<std::string>();
          }
          if (item["retention"]) {
            auto d = ParseDurationValue(absl::StrCat(where, ".retention"),
                                        item["retention"].as<std::string>());
            if (!d.ok()) return d.status();
            if (*d == absl::ZeroDuration()) {
              return Invalid(absl::StrCat(where, ".retention"),
                             "must be positive");
            }
            ns.retention = *d;
          }
          config.namespaces.push_back(ns);
        }
        continue;
      }
      if (key == "tls" || key == "auth" || entry.second.IsMap()) {
        // Sections of settings: "metrics:" with "listen:" under it names
        // metrics.listen, and so on. An empty section sets nothing.
        if (entry.second.IsNull()) continue;
        if (!entry.second.IsMap()) return Invalid(where, "expected a mapping");
        for (const auto& sub : entry.second) {
          const std::string sub_key =
              absl::StrCat(key, ".", sub.first.as<std::string>());
          const std::string sub_where =
              absl::StrCat(source_name, ": ", sub_key);
          if (sub_key == "auth.principals") {
            if (absl::Status s = ApplyPrincipals(config, sub.second, sub_where);
                !s.ok()) {
              return s;
            }
            continue;
          }
          if (!sub.second.IsScalar() && !sub.second.IsNull()) {
            return Invalid(sub_where, "expected a value");
          }
          const std::string value =
              sub.second.IsNull() ? "" : sub.second.as<std::string>();
          if (absl::Status s = ApplySetting(config, sub_key, value, sub_where);
              !s.ok()) {
            return s;
          }
        }
        continue;
      }
      if (!entry.second.IsScalar()) return Invalid(where, "expected a value");
      if (absl::Status s =
              ApplySetting(config, key, entry.second.as<std::string>(), where);
          !s.ok()) {
        return s;
      }
    }
  } catch (const YAML::Exception& e) {
    return Invalid(source_name, e.what());
  }
  return config;
}

absl::StatusOr<Config> LoadConfig(const std::vector<std::string>& flags,
                                  const EnvLookup& env) {
  // Flags are read first (to find --config) and applied last.
  std::vector<std::pair<const Setting*, std::string>> flag_values;
  std::optional<std::string> config_path = env("ERRAND_CONFIG");
  for (size_t i = 0; i < flags.size(); ++i) {
    std::string name = flags[i];
    std::optional<std::string> value;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto take_value = [&]() -> absl::StatusOr<std::string> {
      if (value) return *value;
      if (i + 1 >= flags.size()) return Invalid(name, "needs a value");
      return flags[++i];
    };
    if (name == "--config") {
      auto v = take_value();
      if (!v.ok()) return v.status();
      config_path = *v;
      continue;
    }
    const Setting* match = nullptr;
    for (const Setting& s : kSettings) {
      if (name == s.flag) match = &s;
    }
    if (match == nullptr) {
      return Invalid(name, "unknown flag (see errand serve --help)");
    }
    auto v = take_value();
    if (!v.ok()) return v.status();
    flag_values.emplace_back(match, *v);
  }

  Config config;
  if (config_path) {
    std::ifstream in(*config_path);
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read config file ", *config_path));
    }
    std::stringstream text;
    text << in.rdbuf();
    auto loaded = ApplyYaml(config, text.str(), *config_path);
    if (!loaded.ok()) return loaded.status();
    config = *loaded;
  }
  for (const Setting& s : kSettings) {
    if (auto v = env(s.env)) {
      if (absl::Status st = ApplySetting(config, s.key, *v, s.env); !st.ok()) {
        return st;
      }
    }
  }
  for (const auto& [setting, value] : flag_values) {
    if (absl::Status st =
            ApplySetting(config, setting->key, value, setting->flag);
        !st.ok()) {
      return st;
    }
  }
  if (absl::Status st = CheckCombined(config); !st.ok()) return st;
  return config;
}

std::string ServeUsage() {
  return R"(Usage: errand serve [flags]

Runs the Errand server: Temporal's Standalone Activity API over gRPC, with an
embedded RocksDB store.

Flags (each overrides the config file; each has an environment variable):
  --config FILE          YAML config file (ERRAND_CONFIG); see config/errand.yaml
  --listen HOST:PORT     gRPC address (ERRAND_LISTEN) [127.0.0.1:7233]
  --http-listen HOST:PORT
                         the web UI and Temporal's HTTP API; empty: off
                         (ERRAND_HTTP_LISTEN) [127.0.0.1:8233]
  --metrics-listen HOST:PORT
                         where GET /metrics serves Prometheus metrics
                         (ERRAND_METRICS_LISTEN) [off]
  --data-dir DIR         where data lives (ERRAND_DATA_DIR) [./errand-data]
  --sync true|false      fsync every acknowledged change (ERRAND_SYNC) [true]
  --shards N             activity engine shards (ERRAND_SHARDS)
                         [half the cores, 1 to 16]
  --log-level LEVEL      trace|debug|info|warn|error|critical|off
                         (ERRAND_LOG_LEVEL) [info]
  --log-format text|json one line per event, as text or as a JSON object
                         (ERRAND_LOG_FORMAT) [text]
  --shutdown-grace DUR   time in-flight calls get on SIGINT/SIGTERM
                         (ERRAND_SHUTDOWN_GRACE) [10s]
  --retention-jitter DUR closed runs are deleted at close + namespace
                         retention + a jitter below this
                         (ERRAND_RETENTION_JITTER) [30m]
  --retention-sweep-interval DUR
                         time between retention sweeps
                         (ERRAND_RETENTION_SWEEP_INTERVAL) [10s]
  --list-scan-rows N     rows one List page may examine; past it the page
                         is short, with a token (ERRAND_LIST_SCAN_ROWS)
                         [100000; 0: no limit]
  --count-scan-rows N    rows one Count may examine; past it the count
                         fails (ERRAND_COUNT_SCAN_ROWS) [1000000; 0: no limit]
  --min-free-space SIZE  refuse new activity starts while the data directory's
                         file system has less free space; 0 disables
                         (ERRAND_MIN_FREE_SPACE) [64MiB]
  --priority-levels N    priority levels of every task queue, 1 to 60
                         (ERRAND_PRIORITY_LEVELS) [5]
  --fairness true|false  share dispatches between fairness keys by weight
                         (ERRAND_FAIRNESS) [true]
  --tls-cert-file FILE   PEM certificate chain: serve TLS (ERRAND_TLS_CERT_FILE)
  --tls-key-file FILE    PEM private key of that certificate
                         (ERRAND_TLS_KEY_FILE)
  --tls-client-ca-file FILE
                         PEM CA certificates: require client certificates
                         they signed, mTLS (ERRAND_TLS_CLIENT_CA_FILE)
  TLS files are read again on SIGHUP. API keys and roles (auth.principals) are
  set in the config file only; see docs/security.md.
)";
}

}  // namespace errand::server
