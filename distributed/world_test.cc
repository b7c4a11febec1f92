#include "distributed/world.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace deferred::distributed {
namespace {

// An environment holding just `variables`.
EnvironmentLookup Environment(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](const char* name) -> const char* {
    auto it = variables.find(name);
    return it == variables.end() ? nullptr : it->second.c_str();
  };
}

TEST(WorldTest, NoLauncherIsASingleProcess) {
  EXPECT_EQ(*WorldFromEnvironment(Environment({})), WorldInfo{});
}

TEST(WorldTest, TorchrunVariablesComeFirst) {
  absl::StatusOr<WorldInfo> world = WorldFromEnvironment(Environment(
      {{"RANK", "5"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"OMPI_COMM_WORLD_RANK", "0"}}));
  ASSERT_TRUE(world.ok()) << world.status();
  EXPECT_EQ(*world, (WorldInfo{.rank = 5, .world_size = 8, .local_rank = 1, .source = "torchrun"}));
}

TEST(WorldTest, OpenMpiVariables) {
  absl::StatusOr<WorldInfo> world =
      WorldFromEnvironment(Environment({{"OMPI_COMM_WORLD_RANK", "2"},
                                        {"OMPI_COMM_WORLD_SIZE", "3"},
                                        {"OMPI_COMM_WORLD_LOCAL_RANK", "0"}}));
  ASSERT_TRUE(world.ok()) << world.status();
  EXPECT_EQ(*world, (WorldInfo{.rank = 2, .world_size = 3, .local_rank = 0, .source = "openmpi"}));
}

TEST(WorldTest, LocalRankDefaultsToTheRank) {
  EXPECT_EQ(WorldFromEnvironment(Environment({{"RANK", "3"}, {"WORLD_SIZE", "4"}}))->local_rank, 3);
}

TEST(WorldTest, BadValuesAreErrorsNamingTheVariable) {
  const std::map<std::string, std::map<std::string, std::string>> cases = {
      {"RANK=\"x\"", {{"RANK", "x"}, {"WORLD_SIZE", "2"}}},
      {"WORLD_SIZE is not", {{"RANK", "0"}}},
      {"RANK=2", {{"RANK", "2"}, {"WORLD_SIZE", "2"}}},
      {"RANK=-1", {{"RANK", "-1"}, {"WORLD_SIZE", "2"}}},
      {"WORLD_SIZE=0", {{"RANK", "0"}, {"WORLD_SIZE", "0"}}},
      {"LOCAL_RANK=7", {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "7"}}},
      {"OMPI_COMM_WORLD_SIZE=\"\"", {{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", ""}}},
      {"RANK=\"99999999999\"", {{"RANK", "99999999999"}, {"WORLD_SIZE", "2"}}},
  };
  for (const auto& [expected, variables] : cases) {
    absl::StatusOr<WorldInfo> world = WorldFromEnvironment(Environment(variables));
    ASSERT_FALSE(world.ok()) << expected;
    EXPECT_EQ(world.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(world.status().message().find(expected), std::string::npos) << world.status();
  }
}

}  // namespace
}  // namespace deferred::distributed
