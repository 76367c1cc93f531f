#include "errand/metrics/process.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace errand::metrics {
namespace {

CollectedFamily One(std::string name, std::string help, Type type,
                    double value) {
  CollectedFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  f.samples.push_back(Sample{{}, value});
  return f;
}

// Fields of /proc/self/stat after the command name (which may hold spaces
// and parentheses, so it is skipped up to its last ')').
std::vector<std::string> StatFields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> fields;
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream rest(line.substr(close + 1));
  for (std::string field; rest >> field;) fields.push_back(field);
  return fields;
}

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(4096, '\n');
  }
  return 0;
}

std::vector<CollectedFamily> Collect() {
  std::vector<CollectedFamily> out;
  const std::vector<std::string> f = StatFields();
  // Field numbers of proc(5), minus 3 (pid and comm are gone, 1-based).
  if (f.size() > 21) {
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    const double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
    out.push_back(One("process_cpu_seconds_total",
                      "User and system CPU time spent, in seconds.",
                      Type::kCounter, cpu));
    out.push_back(One("process_start_time_seconds",
                      "Start time of the process since the Unix epoch, in "
                      "seconds.",
                      Type::kGauge,
                      BootTimeSeconds() + std::stod(f[19]) / ticks));
    out.push_back(One("process_virtual_memory_bytes",
                      "Virtual memory size in bytes.", Type::kGauge,
                      std::stod(f[20])));
    out.push_back(One("process_resident_memory_bytes",
                      "Resident memory size in bytes.", Type::kGauge,
                      std::stod(f[21]) * page));
    out.push_back(One("process_threads", "Threads of the process.",
                      Type::kGauge, std::stod(f[17])));
  }
  std::error_code ec;
  double fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  out.push_back(
      One("process_open_fds", "Open file descriptors.", Type::kGauge, fds));
  const long max_fds = sysconf(_SC_OPEN_MAX);
  if (max_fds > 0) {
    out.push_back(One("process_max_fds", "Maximum open file descriptors.",
                      Type::kGauge, static_cast<double>(max_fds)));
  }
  return out;
}

}  // namespace

void AddProcessCollector(Registry* registry) {
  registry->AddCollector(Collect);
}

}  // namespace errand::metrics
