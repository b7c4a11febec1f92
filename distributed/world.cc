#include "distributed/world.h"

#include <cstdlib>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace deferred::distributed {
namespace {

// The value of `name` as an int; nullopt when unset.
absl::StatusOr<std::optional<int>> IntVariable(const EnvironmentLookup& getenv, const char* name) {
  const char* text = getenv(name);
  if (text == nullptr) return std::nullopt;
  int value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("environment: %s=\"%s\" is not an integer", name, text));
  }
  return value;
}

absl::StatusOr<WorldInfo> ReadWorld(const EnvironmentLookup& getenv, const char* source,
                                    const char* rank_name, const char* size_name,
                                    const char* local_name) {
  absl::StatusOr<std::optional<int>> rank = IntVariable(getenv, rank_name);
  absl::StatusOr<std::optional<int>> size = IntVariable(getenv, size_name);
  absl::StatusOr<std::optional<int>> local = IntVariable(getenv, local_name);
  for (const auto* value : {&rank, &size, &local}) {
    if (!value->ok()) return value->status();
  }
  if (!size->has_value()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("environment: %s is set but %s is not", rank_name, size_name));
  }
  WorldInfo world{.rank = **rank,
                  .world_size = **size,
                  .local_rank = local->value_or(**rank),
                  .source = source};
  if (world.world_size < 1 || world.rank < 0 || world.rank >= world.world_size ||
      world.local_rank < 0 || world.local_rank >= world.world_size) {
    return absl::InvalidArgumentError(
        absl::StrFormat("environment: %s=%d and %s=%d are not ranks of a world of %s=%d", rank_name,
                        world.rank, local_name, world.local_rank, size_name, world.world_size));
  }
  return world;
}

}  // namespace

absl::StatusOr<WorldInfo> WorldFromEnvironment(const EnvironmentLookup& getenv) {
  if (getenv("RANK") != nullptr) {
    return ReadWorld(getenv, "torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK");
  }
  if (getenv("OMPI_COMM_WORLD_RANK") != nullptr) {
    return ReadWorld(getenv, "openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
                     "OMPI_COMM_WORLD_LOCAL_RANK");
  }
  return WorldInfo{};
}

absl::StatusOr<WorldInfo> WorldFromEnvironment() {
  return WorldFromEnvironment([](const char* name) { return std::getenv(name); });
}

}  // namespace deferred::distributed
