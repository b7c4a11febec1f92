// A trace saved in this process (which knows GPT-2) is loaded and materialized by another
// process that does not (tests/trace_loader_main.cc, linked with //deferred only); its
// values, by checksum, equal an eager GPT-2 built here with the same seed.
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "deferred/deferred.h"
#include "examples/models/gpt2.h"
#include "gtest/gtest.h"
#include "tests/equivalence.h"

namespace deferred {
namespace {

// The standard output of `command`.
std::string OutputOf(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) out.append(buffer, n);
  EXPECT_EQ(::pclose(pipe), 0) << command;
  return out;
}

TEST(TraceCrossProcessTest, AnotherProcessMaterializesTheSavedModelAsEagerConstructionDoes) {
  const examples::Gpt2Config config = examples::Gpt2Config::Tiny();
  manual_seed(21);
  const auto eager = std::make_shared<examples::Gpt2>(config);
  manual_seed(21);
  absl::StatusOr<std::shared_ptr<examples::Gpt2>> deferred = deferred_init<examples::Gpt2>(config);
  ASSERT_TRUE(deferred.ok());
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/gpt2.dtrace";
  ASSERT_TRUE(save_trace(**deferred, path).ok());

  std::string expected;
  for (const auto& named : {eager->named_parameters(), eager->named_buffers()}) {
    for (const auto& [name, tensor] : named) expected += name + " " + TensorSha256(tensor) + "\n";
  }
  EXPECT_EQ(OutputOf("tests/trace_loader " + path), expected);
  EXPECT_FALSE(expected.empty());
}

}  // namespace
}  // namespace deferred
