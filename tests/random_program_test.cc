// Property test of eager equivalence: a module whose constructor is a random program
// must materialize bitwise equal to the same program run eagerly, and leave the generator
// where eager construction leaves it.
#include <cstdint>
#include <memory>

#include "absl/strings/str_cat.h"
#include "deferred/deferred.h"
#include "gtest/gtest.h"
#include "tests/equivalence.h"
#include "tests/random_program.h"
#include "tests/test_seed.h"

namespace deferred {
namespace {

TEST(RandomProgramTest, MaterializedEqualsEagerForRandomPrograms) {
  constexpr uint64_t kPrograms = 400;
  for (uint64_t seed = TestSeedBase() + 1; seed <= TestSeedBase() + kPrograms; ++seed) {
    SCOPED_TRACE(absl::StrCat("program seed ", seed));
    manual_seed(seed);
    const auto eager = std::make_shared<RandomProgram>(seed);
    const RngState eager_rng = get_rng_state();
    manual_seed(seed);
    absl::StatusOr<std::shared_ptr<RandomProgram>> deferred = deferred_init<RandomProgram>(seed);
    ASSERT_TRUE(deferred.ok()) << deferred.status();
    EXPECT_EQ(get_rng_state(), eager_rng);
    ASSERT_TRUE(materialize_module(**deferred).ok());
    ASSERT_TRUE(ModulesBitwiseEqual(*eager, **deferred));
  }
}

}  // namespace
}  // namespace deferred
