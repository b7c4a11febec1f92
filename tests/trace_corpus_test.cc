// The committed trace-file corpus (testdata/traces): every broken file is refused with the
// status its MANIFEST line gives, and the valid files, written by an earlier build, load
// and materialize bitwise equal to a fresh recording of the same models.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "deferred/deferred.h"
#include "deferred/nn/linear.h"
#include "gtest/gtest.h"
#include "tests/equivalence.h"

namespace deferred {
namespace {

constexpr char kFolder[] = "testdata/traces/";

TEST(TraceCorpusTest, EveryBrokenFileGivesItsStatus) {
  std::ifstream manifest(std::string(kFolder) + "MANIFEST");
  ASSERT_TRUE(manifest.is_open()) << "testdata/traces/MANIFEST not in the runfiles";
  int checked = 0;
  for (std::string line; std::getline(manifest, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string> fields = absl::StrSplit(line, '\t');
    ASSERT_EQ(fields.size(), 3u) << line;
    const absl::Status status = load_trace(kFolder + fields[0]).status();
    EXPECT_EQ(absl::StatusCodeToString(status.code()), fields[1]) << fields[0] << ": " << status;
    EXPECT_NE(status.message().find(fields[2]), std::string::npos)
        << fields[0] << ": " << status << "\nexpected to contain: " << fields[2];
    EXPECT_NE(status.message().find(fields[0]), std::string::npos) << "names the file";
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

TEST(TraceCorpusTest, ValidFilesLoadAndMaterializeAsAFreshRecording) {
  absl::StatusOr<std::shared_ptr<nn::Module>> loaded =
      load_trace(std::string(kFolder) + "linear.dtrace");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  manual_seed(0);
  absl::StatusOr<std::shared_ptr<nn::Linear>> fresh = deferred_init<nn::Linear>(4, 3);
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(materialize_module(**loaded).ok());
  ASSERT_TRUE(materialize_module(**fresh).ok());
  EXPECT_TRUE(ModulesBitwiseEqual(**fresh, **loaded));
  EXPECT_EQ((*loaded)->type_name(), "Linear");

  absl::StatusOr<std::shared_ptr<nn::Module>> views =
      load_trace(std::string(kFolder) + "views_and_ties.dtrace");
  ASSERT_TRUE(views.ok()) << views.status();
  ASSERT_TRUE(materialize_module(**views).ok());
  EXPECT_EQ((*views)->parameter("window").to_vector<float>(),
            (std::vector<float>{1, 2, 5, 6, 9, 10}));
  EXPECT_TRUE((*views)->parameter("window").is_same((*views)->parameter("tied")));
}

}  // namespace
}  // namespace deferred
