// Compiles device_compile_check.cu with nvcc for a current GPU, as CUDA kernels built on
// replay/rng will be: with -fmad=false (no contraction, as -ffp-contract=off on the host)
// and every warning an error. Needs no GPU; skipped, and reported so, where there is no
// nvcc (found at $CUDA_HOME/bin, /usr/local/cuda/bin, or on PATH).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace {

std::string FindNvcc() {
  std::vector<std::string> candidates;
  if (const char* home = std::getenv("CUDA_HOME")) {
    candidates.push_back(absl::StrCat(home, "/bin/nvcc"));
  }
  candidates.push_back("/usr/local/cuda/bin/nvcc");
  if (const char* path = std::getenv("PATH")) {
    for (const absl::string_view dir : absl::StrSplit(path, ':')) {
      candidates.push_back(absl::StrCat(dir, "/nvcc"));
    }
  }
  for (const std::string& candidate : candidates) {
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

TEST(DeviceCompileTest, SamplersAndMathCompileAsCudaDeviceCode) {
  const std::string nvcc = FindNvcc();
  if (nvcc.empty()) GTEST_SKIP() << "no nvcc on this machine";
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string object =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/device_compile_check.o");
  // Run from the runfiles root, where the sources keep their workspace paths.
  const std::string command =
      absl::StrCat(nvcc, " -std=c++20 --expt-relaxed-constexpr -fmad=false -arch=sm_90 ",
                   "-Werror all-warnings -I. -c ",
                   "replay/rng/device_compile_check.cu -o ", object, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr) << command;
  std::string output;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;) output.append(buffer, n);
  const int status = pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command << "\n" << output;
  EXPECT_TRUE(std::filesystem::exists(object)) << command;
}

}  // namespace
