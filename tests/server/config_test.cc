#include "errand/server/config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "absl/strings/match.h"

namespace errand::server {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ConfigTest, DefaultsWithNothingSet) {
  auto c = LoadConfig({}, FakeEnv({}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, "127.0.0.1:7233");
  EXPECT_EQ(c->data_dir, "./errand-data");
  EXPECT_TRUE(c->sync);
  EXPECT_EQ(c->log_level, "info");
  EXPECT_EQ(c->min_free_space, uint64_t{64} << 20);
  ASSERT_EQ(c->namespaces.size(), 1u);
  EXPECT_EQ(c->namespaces[0].name, "default");
}

TEST(ConfigTest, FileThenEnvThenFlags) {
  const auto path =
      std::filesystem::temp_directory_path() / "errand-config-test.yaml";
  {
    std::ofstream out(path);
    out << "listen: 0.0.0.0:9000\n"
           "data_dir: /var/lib/errand\n"
           "sync: false\n"
           "shards: 8\n"
           "log_level: debug\n"
           "namespaces:\n"
           "  - name: default\n"
           "  - name: billing\n"
           "    retention: 24h\n";
  }
  auto c = LoadConfig({"--config", path.string(), "--listen=127.0.0.1:7000"},
                      FakeEnv({{"ERRAND_LOG_LEVEL", "warn"},
                               {"ERRAND_LISTEN", "127.0.0.1:1"}}));
  std::filesystem::remove(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, "127.0.0.1:7000");     // flag beats env and file
  EXPECT_EQ(c->log_level, "warn");            // env beats file
  EXPECT_EQ(c->data_dir, "/var/lib/errand");  // file beats default
  EXPECT_FALSE(c->sync);
  EXPECT_EQ(c->shards, 8);
  ASSERT_EQ(c->namespaces.size(), 2u);
  EXPECT_EQ(c->namespaces[1].name, "billing");
  EXPECT_EQ(c->namespaces[1].retention, absl::Hours(24));
}

TEST(ConfigTest, ShippedDefaultConfigParses) {
  auto c = LoadConfig({"--config", ERRAND_SOURCE_DIR "/config/errand.yaml"},
                      FakeEnv({}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, "127.0.0.1:7233");
  EXPECT_TRUE(c->sync);
  EXPECT_EQ(c->min_free_space, Config{}.min_free_space);
  EXPECT_EQ(c->shards, DefaultShards());
}

TEST(ConfigTest, DefaultShardsAreHalfTheCoresFromOneToSixteen) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  EXPECT_EQ(DefaultShards(), std::clamp(cores / 2, 1, 16));
  EXPECT_EQ(Config{}.shards, DefaultShards());
  auto c = LoadConfig({}, FakeEnv({{"ERRAND_SHARDS", "3"}}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->shards, 3);
}

TEST(ConfigTest, MinFreeSpaceTakesSizesFromEachSource) {
  auto from_file = ApplyYaml(Config{}, "min_free_space: 1GiB\n", "test.yaml");
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->min_free_space, uint64_t{1} << 30);
  auto from_env =
      LoadConfig({}, FakeEnv({{"ERRAND_MIN_FREE_SPACE", "512 kib"}}));
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_EQ(from_env->min_free_space, uint64_t{512} << 10);
  auto from_flag = LoadConfig({"--min-free-space=0"},
                              FakeEnv({{"ERRAND_MIN_FREE_SPACE", "64MiB"}}));
  ASSERT_TRUE(from_flag.ok()) << from_flag.status();
  EXPECT_EQ(from_flag->min_free_space, 0u);
  auto bytes = LoadConfig({"--min-free-space", "123456"}, FakeEnv({}));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(bytes->min_free_space, 123456u);
  for (const char* bad : {"lots", "-1", "MiB", "1.5GiB", "99999999999TiB"}) {
    auto c = LoadConfig({"--min-free-space", bad}, FakeEnv({}));
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("--min-free-space"), std::string::npos)
        << c.status();
  }
}

TEST(ConfigTest, PriorityLevelsAndFairness) {
  auto defaults = LoadConfig({}, FakeEnv({}));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->priority_levels, 5);
  EXPECT_TRUE(defaults->fairness);
  auto from_file =
      ApplyYaml(Config{}, "priority_levels: 10\nfairness: false\n", "t.yaml");
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->priority_levels, 10);
  EXPECT_FALSE(from_file->fairness);
  auto from_flags = LoadConfig({"--priority-levels", "60", "--fairness=false"},
                               FakeEnv({{"ERRAND_PRIORITY_LEVELS", "2"}}));
  ASSERT_TRUE(from_flags.ok()) << from_flags.status();
  EXPECT_EQ(from_flags->priority_levels, 60);
  EXPECT_FALSE(from_flags->fairness);
  for (const char* bad : {"0", "61", "-1", "five"}) {
    auto c = LoadConfig({"--priority-levels", bad}, FakeEnv({}));
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("from 1 to 60"), std::string::npos)
        << c.status();
  }
}

TEST(ConfigTest, ScanBudgets) {
  auto defaults = LoadConfig({}, FakeEnv({}));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->list_scan_rows, 100'000);
  EXPECT_EQ(defaults->count_scan_rows, 1'000'000);
  auto set = LoadConfig({"--count-scan-rows", "0"},
                        FakeEnv({{"ERRAND_LIST_SCAN_ROWS", "500"}}));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->list_scan_rows, 500);
  EXPECT_EQ(set->count_scan_rows, 0);
  auto bad = LoadConfig({"--list-scan-rows", "-1"}, FakeEnv({}));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("--list-scan-rows"), std::string::npos);
}

TEST(ConfigTest, MetricsListenFromASectionEnvOrFlag) {
  auto defaults = LoadConfig({}, FakeEnv({}));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->metrics_listen, "");  // off
  auto from_file =
      ApplyYaml(Config{}, "metrics:\n  listen: 0.0.0.0:9090\n", "t.yaml");
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->metrics_listen, "0.0.0.0:9090");
  auto dotted = ApplyYaml(Config{}, "metrics.listen: 127.0.0.1:1\n", "t.yaml");
  ASSERT_TRUE(dotted.ok()) << dotted.status();
  EXPECT_EQ(dotted->metrics_listen, "127.0.0.1:1");
  auto from_env =
      LoadConfig({}, FakeEnv({{"ERRAND_METRICS_LISTEN", "127.0.0.1:9100"}}));
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_EQ(from_env->metrics_listen, "127.0.0.1:9100");
  // A flag wins, and an empty value turns the endpoint off again.
  auto off = LoadConfig({"--metrics-listen="},
                        FakeEnv({{"ERRAND_METRICS_LISTEN", "127.0.0.1:9100"}}));
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(off->metrics_listen, "");
  auto bad = ApplyYaml(Config{}, "metrics:\n  listen: nowhere\n", "t.yaml");
  EXPECT_NE(bad.status().message().find("t.yaml: metrics.listen"),
            std::string::npos)
      << bad.status();
  auto unknown = ApplyYaml(Config{}, "metrics:\n  colour: red\n", "t.yaml");
  EXPECT_NE(unknown.status().message().find("metrics.colour"),
            std::string::npos)
      << unknown.status();
}

TEST(ConfigTest, ErrorsNameTheCulprit) {
  auto bad_flag = LoadConfig({"--bogus", "1"}, FakeEnv({}));
  EXPECT_NE(bad_flag.status().message().find("--bogus"), std::string::npos);
  auto bad_env = LoadConfig({}, FakeEnv({{"ERRAND_SYNC", "maybe"}}));
  EXPECT_NE(bad_env.status().message().find("ERRAND_SYNC"), std::string::npos);
  auto bad_level = LoadConfig({"--log-level", "loud"}, FakeEnv({}));
  EXPECT_EQ(bad_level.status().code(), absl::StatusCode::kInvalidArgument);
  auto bad_listen = LoadConfig({"--listen", "nowhere"}, FakeEnv({}));
  EXPECT_EQ(bad_listen.status().code(), absl::StatusCode::kInvalidArgument);
  auto missing_value = LoadConfig({"--data-dir"}, FakeEnv({}));
  EXPECT_EQ(missing_value.status().code(), absl::StatusCode::kInvalidArgument);
  auto missing_file =
      LoadConfig({"--config", "/nonexistent.yaml"}, FakeEnv({}));
  EXPECT_EQ(missing_file.status().code(), absl::StatusCode::kInvalidArgument);
  auto bad_yaml = ApplyYaml(Config{}, "listen: [1, 2\n", "test.yaml");
  EXPECT_EQ(bad_yaml.status().code(), absl::StatusCode::kInvalidArgument);
  auto unknown_key = ApplyYaml(Config{}, "colour: red\n", "test.yaml");
  EXPECT_NE(unknown_key.status().message().find("colour"), std::string::npos);
}

TEST(ConfigTest, TlsFromEachSource) {
  auto c = ApplyYaml(Config{},
                     "tls:\n"
                     "  cert_file: /etc/errand/tls.crt\n"
                     "  key_file: /etc/errand/tls.key\n"
                     "  client_ca_file: /etc/errand/ca.crt\n",
                     "file");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls.cert_file, "/etc/errand/tls.crt");
  EXPECT_EQ(c->tls.key_file, "/etc/errand/tls.key");
  EXPECT_EQ(c->tls.client_ca_file, "/etc/errand/ca.crt");
  EXPECT_TRUE(c->tls.enabled());

  auto f = LoadConfig({"--tls-cert-file", "a.pem", "--tls-key-file=a.key"},
                      FakeEnv({{"ERRAND_TLS_CLIENT_CA_FILE", "ca.pem"},
                               {"ERRAND_TLS_CERT_FILE", "env.pem"}}));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->tls.cert_file, "a.pem");  // the flag beats the variable
  EXPECT_EQ(f->tls.key_file, "a.key");
  EXPECT_EQ(f->tls.client_ca_file, "ca.pem");

  EXPECT_FALSE(LoadConfig({}, FakeEnv({})).value().tls.enabled());
  auto half = LoadConfig({"--tls-cert-file", "a.pem"}, FakeEnv({}));
  EXPECT_EQ(half.status().message(),
            "tls.cert_file and tls.key_file go together: set both, or neither");
  auto ca_only = LoadConfig({}, FakeEnv({{"ERRAND_TLS_CLIENT_CA_FILE", "x"}}));
  EXPECT_EQ(ca_only.status().message(),
            "tls.client_ca_file needs tls.cert_file and tls.key_file");
  auto unknown = ApplyYaml(Config{}, "tls:\n  certfile: x\n", "file");
  EXPECT_EQ(unknown.status().message(), "file: tls.certfile: unknown setting");
}

TEST(ConfigTest, Principals) {
  const std::string hash = frontend::HashApiKey("secret");
  auto c = ApplyYaml(Config{},
                     "auth:\n"
                     "  principals:\n"
                     "    - name: ci\n"
                     "      api_key_sha256: " +
                         hash +
                         "\n"
                         "      roles: {default: writer, \"*\": reader}\n"
                         "    - name: workers\n"
                         "      tls_identity: worker.example.com\n"
                         "      roles:\n"
                         "        billing: admin\n",
                     "file");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->principals.size(), 2u);
  EXPECT_EQ(c->principals[0].name, "ci");
  EXPECT_EQ(c->principals[0].api_key_sha256, hash);
  EXPECT_EQ(c->principals[0].roles.at("default"), frontend::Role::kWriter);
  EXPECT_EQ(c->principals[0].roles.at("*"), frontend::Role::kReader);
  EXPECT_EQ(c->principals[1].tls_identity, "worker.example.com");
  EXPECT_EQ(c->principals[1].roles.at("billing"), frontend::Role::kAdmin);

  auto bad_role = ApplyYaml(Config{},
                            "auth:\n  principals:\n    - name: x\n"
                            "      tls_identity: x\n"
                            "      roles: {default: owner}\n",
                            "file");
  EXPECT_EQ(bad_role.status().message(),
            "file: auth.principals.roles.default: expected reader, writer or "
            "admin");
  auto plain_key = ApplyYaml(Config{},
                             "auth:\n  principals:\n    - name: x\n"
                             "      api_key_sha256: secret\n"
                             "      roles: {default: reader}\n",
                             "file");
  EXPECT_TRUE(
      absl::StrContains(plain_key.status().message(), "not the key itself"))
      << plain_key.status();
  auto unknown = ApplyYaml(Config{},
                           "auth:\n  principals:\n    - name: x\n"
                           "      api_key: secret\n",
                           "file");
  EXPECT_TRUE(
      absl::StrContains(unknown.status().message(), "unknown principal field"))
      << unknown.status();
}

}  // namespace
}  // namespace errand::server
