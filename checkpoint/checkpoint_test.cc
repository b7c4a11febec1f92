#include "checkpoint/checkpoint.h"

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "checkpoint/safetensors_writer.h"
#include "fake_tensor/file_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deferred {
namespace {

using ::testing::HasSubstr;

std::filesystem::path NewFolder(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::filesystem::path folder = std::filesystem::path(dir != nullptr ? dir : "/tmp") / name;
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  return folder;
}

// Writes `tensors` with the given float values to `path`.
void WriteFile(const std::string& path, std::vector<SafetensorsTensor> tensors,
               const std::vector<std::vector<float>>& values,
               const std::map<std::string, std::string>& metadata = {}) {
  auto writer = SafetensorsWriter::Create(path, std::move(tensors), metadata);
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (const auto& v : values) {
    ASSERT_TRUE((*writer)->AppendTensor(std::string_view(reinterpret_cast<const char*>(v.data()),
                                                         v.size() * sizeof(float)))
                    .ok());
  }
  ASSERT_TRUE((*writer)->Commit().ok());
}

std::vector<float> Iota(int64_t n, float first) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = first + static_cast<float>(i);
  return v;
}

TEST(CheckpointTest, HuggingFaceIndexNamesTheFileOfEachTensor) {
  const auto folder = NewFolder("hf");
  WriteFile((folder / "model-00001-of-00002.safetensors").string(),
            {{"a", DType::kFloat32, {2, 3}}}, {Iota(6, 0)});
  WriteFile((folder / "model-00002-of-00002.safetensors").string(),
            {{"b", DType::kFloat32, {4}}, {"c", DType::kFloat32, {1}}}, {Iota(4, 10), Iota(1, 20)});
  ASSERT_TRUE(WriteCheckpointIndex((folder / "model.safetensors.index.json").string(),
                                   {{"a", "model-00001-of-00002.safetensors"},
                                    {"b", "model-00002-of-00002.safetensors"},
                                    {"c", "model-00002-of-00002.safetensors"}},
                                   {}, 44)
                  .ok());
  auto checkpoint = Checkpoint::Open((folder / "model.safetensors.index.json").string());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  ASSERT_EQ((*checkpoint)->tensors().size(), 3u);
  std::vector<float> b(2);
  ASSERT_TRUE((*checkpoint)->ReadRegion(*(*checkpoint)->Find("b"), Region{{1}, {3}},
                                        DType::kFloat32, b.data())
                  .ok());
  EXPECT_EQ(b, (std::vector<float>{11, 12}));
  EXPECT_EQ((*checkpoint)->Find("d"), nullptr);
}

// A [7, 10] tensor saved by four "ranks" as a 2 x 2 grid of uneven regions, one file each,
// reassembled by any region.
class RegionFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = NewFolder("regions");
    whole_ = Iota(70, 0);
    const int64_t rows[] = {0, 4, 7}, cols[] = {0, 3, 10};
    for (int r = 0; r < 2; ++r) {
      for (int c = 0; c < 2; ++c) {
        const Shape sizes = {rows[r + 1] - rows[r], cols[c + 1] - cols[c]};
        std::vector<float> part;
        for (int64_t i = rows[r]; i < rows[r + 1]; ++i) {
          for (int64_t j = cols[c]; j < cols[c + 1]; ++j) part.push_back(whole_[i * 10 + j]);
        }
        const std::string name = absl::StrFormat("rank-%d.safetensors", 2 * r + c);
        WriteFile((folder_ / name).string(), {{"w", DType::kFloat32, sizes}}, {part},
                  {{kRegionsMetadataKey,
                    absl::StrFormat("{\"w\":{\"shape\":[7,10],\"start\":[%d,%d]}}", rows[r], cols[c])}});
        files_.push_back(name);
      }
    }
  }

  std::string Index(const std::vector<std::string>& files) {
    const std::string path = (folder_ / "index.json").string();
    EXPECT_TRUE(WriteCheckpointIndex(path, {}, files, 280).ok());
    return path;
  }

  std::filesystem::path folder_;
  std::vector<float> whole_;
  std::vector<std::string> files_;
};

TEST_F(RegionFilesTest, AnyRegionReassemblesFromThePiecesItOverlaps) {
  auto checkpoint = Checkpoint::Open(Index(files_));
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  const CheckpointTensor* w = (*checkpoint)->Find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape, (Shape{7, 10}));
  EXPECT_EQ(w->pieces.size(), 4u);
  std::mt19937 rng(3);
  for (int trial = 0; trial < 500; ++trial) {
    Region region{{0, 0}, {0, 0}};
    for (int d = 0; d < 2; ++d) {
      const int64_t size = d == 0 ? 7 : 10;
      region.start[d] = static_cast<int64_t>(rng() % size);
      region.stop[d] = region.start[d] + 1 + static_cast<int64_t>(rng() % (size - region.start[d]));
    }
    std::vector<double> out(static_cast<size_t>(region.numel()));
    ASSERT_TRUE((*checkpoint)->ReadRegion(*w, region, DType::kFloat64, out.data()).ok());
    size_t k = 0;
    for (int64_t i = region.start[0]; i < region.stop[0]; ++i) {
      for (int64_t j = region.start[1]; j < region.stop[1]; ++j) {
        ASSERT_EQ(out[k++], whole_[i * 10 + j]) << region.ToString();
      }
    }
  }
}

TEST_F(RegionFilesTest, PiecesThatDoNotTileTheirTensorAreRefused) {
  const std::vector<std::string> three(files_.begin(), files_.begin() + 3);
  EXPECT_THAT(std::string(Checkpoint::Open(Index(three)).status().message()),
              HasSubstr("its stored regions hold 49 of its 70 elements"));
  std::vector<std::string> twice = files_;
  twice.push_back(files_[0]);
  EXPECT_THAT(std::string(Checkpoint::Open(Index(twice)).status().message()), HasSubstr("overlap"));
}

TEST(CheckpointTest, BadIndexesAreRefusedNamingTheProblem) {
  const auto folder = NewFolder("bad_index");
  WriteFile((folder / "a.safetensors").string(), {{"a", DType::kFloat32, {2}}}, {Iota(2, 0)});
  const std::string index = (folder / "index.json").string();
  const std::pair<std::string, std::string> kCases[] = {
      {"[1, 2]", "not a JSON object"},
      {"{\"weight_map\": {\"a\": \"../a.safetensors\"}}", "no plain file name"},
      {"{\"weight_map\": {\"b\": \"a.safetensors\"}}", "the index says it holds tensor 'b'"},
      {"{\"weight_map\": {\"a\": \"missing.safetensors\"}}", "missing.safetensors"},
      {"{}", "names no files"},
      {"{\"weight_map\": " + std::string(40, '[') + std::string(40, ']') + "}", "nested deeper"},
  };
  for (const auto& [text, message] : kCases) {
    ASSERT_TRUE(WriteFileAtomically(index, text).ok());
    const absl::Status status = Checkpoint::Open(index).status();
    EXPECT_FALSE(status.ok()) << text;
    EXPECT_THAT(std::string(status.message()), HasSubstr(message)) << text;
  }
}

}  // namespace
}  // namespace deferred
