// errand: the command-line entry point.
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/synchronization/mutex.h"
#include "errand/frontend/auth.h"
#include "errand/server/config.h"
#include "errand/server/health_check.h"
#include "errand/server/json_log_formatter.h"
#include "errand/server/server.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace {

constexpr char kUsage[] =
    R"(Errand: a durable job-queue server that speaks Temporal's Standalone Activity API.

Usage:
  errand serve [flags]   run the server (errand serve --help for flags)
  errand health [flags]  ask a server whether it is serving, over gRPC health
                         (errand health --help for flags)
  errand hash-key        read an API key on stdin, print the SHA-256 that
                         auth.principals[].api_key_sha256 takes
  errand version         print the version
  errand --help          print this help
)";

int Serve(const std::vector<std::string>& flags) {
  for (const auto& f : flags) {
    if (f == "--help" || f == "-h") {
      std::fputs(errand::server::ServeUsage().c_str(), stdout);
      return 0;
    }
  }
  auto config = errand::server::LoadConfig(flags, errand::server::ProcessEnv);
  if (!config.ok()) {
    std::fprintf(stderr, "errand: %s\n",
                 std::string(config.status().message()).c_str());
    return 2;
  }
  auto logger = spdlog::stderr_color_mt("errand");
  if (config->log_format == "json") {
    logger->set_formatter(std::make_unique<errand::server::JsonLogFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ %v");
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(config->log_level));

  // Signals are taken synchronously by this thread; block them before any
  // other thread starts so that none of those receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = errand::server::Server::Start(*config);
  if (!server.ok()) {
    spdlog::critical("cannot start: {}",
                     std::string(server.status().message()));
    return 1;
  }
  spdlog::info("errand {} listening on {} (data dir {}, sync {}, {} shards)",
               ERRAND_VERSION, (*server)->address(), config->data_dir,
               config->sync ? "on" : "off", config->shards);

  int received = 0;
  // SIGHUP reloads the TLS files (here, on this thread: file I/O never runs
  // on gRPC's threads); SIGINT and SIGTERM stop the server.
  while (sigwait(&signals, &received) == 0 && received == SIGHUP) {
    const absl::Status s = (*server)->ReloadTls();
    if (s.ok()) {
      spdlog::info(
          "SIGHUP: TLS certificates reloaded; new connections use them");
    } else if (absl::IsFailedPrecondition(s)) {
      spdlog::info("SIGHUP: no TLS configured, nothing to reload");
    } else {
      spdlog::error(
          "SIGHUP: TLS certificates not reloaded, the current ones stay: {}",
          std::string(s.message()));
    }
  }
  spdlog::info("received {}; shutting down (grace {})",
               received == SIGINT ? "SIGINT" : "SIGTERM",
               absl::FormatDuration(config->shutdown_grace));
  (*server)->Shutdown(config->shutdown_grace);
  spdlog::info("stopped");
  return 0;
}

// Reads an API key from stdin (surrounding whitespace, such as the newline
// of `echo`, is not part of it) and prints its hash for the config file.
int HashKey() {
  const std::string input{std::istreambuf_iterator<char>(std::cin),
                          std::istreambuf_iterator<char>()};
  const absl::string_view key = absl::StripAsciiWhitespace(input);
  if (key.empty()) {
    std::fputs("errand hash-key: no key on stdin\n", stderr);
    return 2;
  }
  std::printf("%s\n", errand::frontend::HashApiKey(key).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil is built with mutex deadlock detection on, which keeps a
  // lock graph on every absl::Mutex acquisition: a few percent of the CPU
  // under load, for a debugging aid. Our locks are few and leaf-level.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" ||
      args[0] == "help") {
    std::fputs(kUsage, stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "version" || args[0] == "--version") {
    std::printf("errand %s\n", ERRAND_VERSION);
    return 0;
  }
  if (args[0] == "hash-key" && args.size() == 1) return HashKey();
  if (args[0] == "serve") {
    return Serve(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (args[0] == "health") {
    return errand::server::HealthCommand(
        std::vector<std::string>(args.begin() + 1, args.end()),
        errand::server::ProcessEnv);
  }
  std::fprintf(stderr, "errand: unknown command \"%s\"\n\n%s", args[0].c_str(),
               kUsage);
  return 2;
}
