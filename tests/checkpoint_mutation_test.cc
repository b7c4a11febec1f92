// Mutations of a saved GPT-2 checkpoint: random byte flips, random bytes, truncations and
// extensions. Loading each into a deferred model answers OK (a changed value) or a status,
// never crashes, and a refused file leaves the model untouched. Runs under ASan and UBSan
// in CI.
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

#include "checkpoint/safetensors.h"
#include "deferred/checkpoint.h"
#include "deferred/deferred.h"
#include "examples/models/gpt2.h"
#include "fake_tensor/file_io.h"
#include "gtest/gtest.h"
#include "tests/test_seed.h"

extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }

namespace deferred {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return (std::filesystem::path(dir != nullptr ? dir : "/tmp") / name).string();
}

std::shared_ptr<nn::Module> DeferredGpt2() {
  return *deferred_init<examples::Gpt2>(examples::Gpt2Config::Tiny());
}

std::string Mutate(const std::string& bytes, std::mt19937_64& rng) {
  std::string out = bytes;
  // Mostly in the header, where the structure is.
  const size_t header = std::min<size_t>(out.size(), 8 + 4096);
  const size_t at = rng() % 3 ? rng() % header : rng() % out.size();
  switch (rng() % 5) {
    case 0: out[at] ^= static_cast<char>(1 << (rng() % 8)); break;
    case 1: out[at] = static_cast<char>(rng()); break;
    case 2: out.resize(rng() % out.size()); break;
    case 3: out.append(rng() % 64, static_cast<char>(rng())); break;
    default: out[at] = "{}[]\",:0-9 "[rng() % 11]; break;
  }
  return out;
}

TEST(CheckpointMutationTest, EveryMutationLoadsOrIsRefusedLeavingTheModelUntouched) {
  const std::string path = TempPath("gpt2.safetensors");
  ASSERT_TRUE(save_checkpoint(*DeferredGpt2(), path).ok());
  const std::string bytes = *ReadFileToString(path, int64_t{1} << 30);
  std::mt19937_64 rng(TestSeedBase() + 3);
  const std::string mutated_path = TempPath("mutated.safetensors");
  int refused = 0;
  for (int i = 0; i < 1500; ++i) {
    ASSERT_TRUE(WriteFileAtomically(mutated_path, Mutate(bytes, rng)).ok());
    const auto model = DeferredGpt2();
    const absl::Status status = load_checkpoint(*model, mutated_path);
    if (status.ok()) continue;
    ++refused;
    EXPECT_NE(status.code(), absl::StatusCode::kInternal) << i << ": " << status;
    for (const auto& [name, t] : model->named_parameters()) {
      ASSERT_TRUE(is_fake(t)) << i << ": " << name << " changed by a refused load";
    }
  }
  EXPECT_GT(refused, 100);
}

TEST(CheckpointMutationTest, HeaderParserAnswersEveryMutationWithAHeaderOrAStatus) {
  const std::string path = TempPath("gpt2_header.safetensors");
  ASSERT_TRUE(save_checkpoint(*DeferredGpt2(), path).ok());
  const std::string bytes = *ReadFileToString(path, int64_t{1} << 30);
  std::mt19937_64 rng(TestSeedBase() + 4);
  for (int i = 0; i < 20000; ++i) {
    const std::string mutated = Mutate(bytes, rng);
    const absl::Status status =
        ParseSafetensorsHeader(mutated, static_cast<int64_t>(mutated.size())).status();
    EXPECT_TRUE(status.ok() || status.code() == absl::StatusCode::kDataLoss ||
                status.code() == absl::StatusCode::kInvalidArgument)
        << i << ": " << status;
  }
}

}  // namespace
}  // namespace deferred
