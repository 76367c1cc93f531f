// The bounded, reproducible driver ctest runs for each fuzz target when it is
// built without libFuzzer (with gcc, in the ordinary build). scripts/fuzz.sh
// builds the same targets with clang's libFuzzer instead, without this file.
//
//   <target> CORPUS_DIR ITERATIONS   replays every file in CORPUS_DIR and the
//                                    target's seeds, then feeds ITERATIONS
//                                    mutations of them (fixed seed)
//   <target> --write-corpus DIR      writes the target's seeds to DIR (how
//                                    the committed corpora were made)
//   <target> FILE...                 replays the given files (reproducers)
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_target.h"

namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void Run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()),
                         input.size());
}

// One random edit of the kinds libFuzzer makes most often: bit flips, byte
// inserts/erases/overwrites with "interesting" values, and splices of a
// chunk of another input.
void Mutate(std::string& input, const std::vector<std::string>& pool,
            std::mt19937& rng) {
  static constexpr uint8_t kInteresting[] = {0x00, 0x01, 0x7f, 0x80, 0xff,
                                             0x08, 0x0a, 0x10, 0x12, 0x1a,
                                             0x22, '\'', ':',  '-',  ' '};
  auto pick = [&](size_t n) { return n == 0 ? 0 : rng() % n; };
  const size_t at = pick(input.size() + 1);
  switch (rng() % 6) {
    case 0:
      if (!input.empty()) input[pick(input.size())] ^= 1 << (rng() % 8);
      break;
    case 1:
      input.insert(at, 1, static_cast<char>(rng() % 256));
      break;
    case 2:
      if (at < input.size()) input.erase(at, 1 + pick(8));
      break;
    case 3:
      if (!input.empty()) {
        input[pick(input.size())] =
            static_cast<char>(kInteresting[pick(sizeof(kInteresting))]);
      }
      break;
    case 4: {
      const std::string& other = pool[pick(pool.size())];
      if (other.empty()) break;
      const size_t from = pick(other.size());
      input.insert(at, other, from, 1 + pick(other.size() - from));
      break;
    }
    default:
      if (at < input.size()) input.resize(at);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--write-corpus") {
    const fs::path dir = argv[2];
    fs::create_directories(dir);
    const std::vector<std::string> seeds = FuzzSeeds();
    for (size_t i = 0; i < seeds.size(); ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "seed-%02zu", i);
      std::ofstream(dir / name, std::ios::binary) << seeds[i];
    }
    std::printf("wrote %zu seeds to %s\n", seeds.size(), argv[2]);
    return 0;
  }
  if (argc != 3 || !fs::is_directory(argv[1])) {
    for (int i = 1; i < argc; ++i) Run(ReadFile(argv[i]));
    std::printf("replayed %d inputs\n", argc - 1);
    return 0;
  }
  std::vector<std::string> pool = FuzzSeeds();
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(argv[1])) {
    if (!entry.is_regular_file()) continue;
    pool.push_back(ReadFile(entry.path()));
    ++files;
  }
  for (const std::string& input : pool) Run(input);
  const int iterations = std::atoi(argv[2]);
  std::mt19937 rng(12345);  // fixed: a failure reproduces
  for (int i = 0; i < iterations; ++i) {
    std::string input = pool[rng() % pool.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) Mutate(input, pool, rng);
    Run(input);
  }
  std::printf("%zu corpus files, %zu seeds, %d mutations: no failure\n", files,
              pool.size() - files, iterations);
  return 0;
}
