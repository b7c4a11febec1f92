// Mutations of a saved GPT-2 trace: random byte flips, truncations and line swaps. Every
// mutated file is refused with a status (its checksum no longer matches); the same
// mutations resealed with a correct checksum reach the parser and the op checks, which
// must answer OK or a status, never crash, and whatever loads must materialize or fail
// with a status. Runs under ASan and UBSan in CI.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "deferred/deferred.h"
#include "examples/models/gpt2.h"
#include "fake_tensor/file_io.h"
#include "fake_tensor/storage.h"
#include "gtest/gtest.h"
#include "replay/trace_file.h"
#include "tests/test_seed.h"

// Allocations a mutated size asks for must fail as a status, not abort.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }

namespace deferred {
namespace {

std::string SavedGpt2() {
  absl::StatusOr<std::shared_ptr<examples::Gpt2>> model =
      deferred_init<examples::Gpt2>(examples::Gpt2Config::Tiny());
  EXPECT_TRUE(model.ok());
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/gpt2.dtrace";
  EXPECT_TRUE(save_trace(**model, path).ok());
  return *ReadFileToString(path, int64_t{1} << 30);
}

// One random mutation of `text`: a flipped bit, a random byte, a truncation, two lines
// swapped, a line dropped or repeated.
std::string Mutate(const std::string& text, std::mt19937_64& rng) {
  std::string out = text;
  switch (rng() % 6) {
    case 0:
      out[rng() % out.size()] ^= static_cast<char>(1 << (rng() % 8));
      break;
    case 1:
      out[rng() % out.size()] = static_cast<char>(rng());
      break;
    case 2:
      out.resize(rng() % out.size());
      break;
    default: {
      std::vector<std::string> lines = absl::StrSplit(text, '\n');
      const size_t a = rng() % lines.size(), b = rng() % lines.size();
      switch (rng() % 3) {
        case 0:
          std::swap(lines[a], lines[b]);
          break;
        case 1:
          lines.erase(lines.begin() + static_cast<int64_t>(a));
          break;
        default:
          lines.insert(lines.begin() + static_cast<int64_t>(a), lines[b]);
          break;
      }
      out = absl::StrJoin(lines, "\n");
    }
  }
  return out;
}

TEST(TraceMutationTest, EveryMutatedFileIsRefusedWithAStatus) {
  const std::string text = SavedGpt2();
  std::mt19937_64 rng(TestSeedBase() + 1);
  for (int i = 0; i < 3000; ++i) {
    const std::string mutated = Mutate(text, rng);
    if (mutated == text) continue;
    const absl::Status status = DecodeTraceFile(mutated).status();
    EXPECT_TRUE(status.code() == absl::StatusCode::kDataLoss ||
                status.code() == absl::StatusCode::kFailedPrecondition)
        << "mutation " << i << ": " << status;
  }
}

TEST(TraceMutationTest, ResealedMutationsLoadOrFailClearlyAndWhatLoadsMaterializes) {
  const std::string text = SavedGpt2();
  const std::string content = text.substr(0, text.rfind("end sha256 "));
  std::mt19937_64 rng(TestSeedBase() + 2);
  SetAllocationLimit(int64_t{256} << 20);
  int loaded = 0;
  for (int i = 0; i < 2000; ++i) {
    const absl::StatusOr<SavedModel> model = DecodeTraceFile(SealTraceFile(Mutate(content, rng)));
    if (!model.ok()) {
      EXPECT_NE(model.status().code(), absl::StatusCode::kInternal) << i << ": " << model.status();
      continue;
    }
    ++loaded;
    for (const Tensor& t : model->tensors) {
      const absl::Status status = materialize_tensor(t).status();
      EXPECT_NE(status.code(), absl::StatusCode::kInternal) << i << ": " << status;
    }
  }
  SetAllocationLimit(0);
  // Some mutations are harmless (a changed value, a repeated tensor line is not): the
  // test exercises both paths.
  EXPECT_GT(loaded, 0);
}

}  // namespace
}  // namespace deferred
