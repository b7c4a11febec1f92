#include "checkpoint/safetensors.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "checkpoint/safetensors_file.h"
#include "absl/strings/str_format.h"
#include "checkpoint/safetensors_writer.h"
#include "fake_tensor/file_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deferred {
namespace {

using ::testing::HasSubstr;

constexpr char kVectors[] = "testdata/safetensors/";

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return (std::filesystem::path(dir != nullptr ? dir : "/tmp") / name).string();
}

// The whole of tensor `name` of `file` as T.
template <typename T>
std::vector<T> ReadAll(const SafetensorsFile& file, const std::string& name) {
  const SafetensorsTensor* t = file.header().Find(name);
  EXPECT_NE(t, nullptr) << name;
  const int64_t n = NumElements(t->shape);
  std::string raw(static_cast<size_t>(n) * sizeof(T), '\0');
  const absl::Status status = file.ReadRegion(*t, Region::Full(t->shape), DTypeOf<T>(), raw.data());
  EXPECT_TRUE(status.ok()) << status;
  std::vector<T> out;
  for (int64_t i = 0; i < n; ++i) {
    T value;
    std::memcpy(&value, raw.data() + i * sizeof(T), sizeof(T));
    out.push_back(value);
  }
  return out;
}

std::unique_ptr<SafetensorsFile> OpenVector(const std::string& name) {
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(kVectors + name);
  EXPECT_TRUE(file.ok()) << file.status();
  return file.ok() ? *std::move(file) : nullptr;
}

TEST(SafetensorsTest, HuggingFaceAndCandleVectorsLoad) {
  const auto zeros = OpenVector("hf_i32_zeros_unpadded.safetensors");
  ASSERT_NE(zeros, nullptr);
  EXPECT_EQ(zeros->header().data_offset, 68);  // 60-byte header, unpadded
  EXPECT_EQ(ReadAll<int32_t>(*zeros, "test"), (std::vector<int32_t>{0, 0, 0, 0}));
  const auto one = OpenVector("hf_i32_one_unpadded.safetensors");
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(ReadAll<int32_t>(*one, "test"), (std::vector<int32_t>{0, 0, 0, 1}));
  const auto metadata = OpenVector("hf_i32_metadata_trailing_spaces.safetensors");
  ASSERT_NE(metadata, nullptr);
  EXPECT_EQ(metadata->header().metadata.at("framework"), "pt");
  EXPECT_EQ(ReadAll<int32_t>(*metadata, "test1"), std::vector<int32_t>(4, 0));
  const auto candle = OpenVector("candle_f32_zeros_padded.safetensors");
  ASSERT_NE(candle, nullptr);
  EXPECT_EQ(candle->header().data_offset % 8, 0);
  EXPECT_EQ(ReadAll<float>(*candle, "t"), std::vector<float>(4, 0.0f));
}

// The values dtypes_values.safetensors' metadata note gives.
TEST(SafetensorsTest, EveryDTypeLoadsWithItsKnownValues) {
  const auto file = OpenVector("dtypes_values.safetensors");
  ASSERT_NE(file, nullptr);
  const std::vector<float> f32 = ReadAll<float>(*file, "f32");
  ASSERT_EQ(f32.size(), 24u);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(f32[i], 0.5f * i - 3) << i;
  const std::vector<double> f64 = ReadAll<double>(*file, "f64");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(f64[i], i / 3.0) << i;
  const std::vector<Half> f16 = ReadAll<Half>(*file, "f16");
  for (int i = 0; i < 8; ++i) EXPECT_EQ(static_cast<float>(f16[i]), 0.25f * i - 1) << i;
  const std::vector<BFloat16> bf16 = ReadAll<BFloat16>(*file, "bf16");
  for (int i = 0; i < 8; ++i) EXPECT_EQ(static_cast<float>(bf16[i]), 0.5f * i - 2) << i;
  const std::vector<int64_t> i64 = ReadAll<int64_t>(*file, "i64");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(i64[i], int64_t{1000000007} * i - 2) << i;
  EXPECT_EQ(ReadAll<int32_t>(*file, "i32"), (std::vector<int32_t>{-2, -1, 0, 1}));
  EXPECT_EQ(ReadAll<uint8_t>(*file, "u8"), (std::vector<uint8_t>{250, 251, 252, 253, 254, 255}));
  EXPECT_EQ(ReadAll<bool>(*file, "bool"), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(ReadAll<float>(*file, "scalar"), (std::vector<float>{7.25f}));
  EXPECT_TRUE(ReadAll<float>(*file, "empty").empty());
  EXPECT_EQ(file->header().Find("empty")->shape, (Shape{0, 4}));
  // Converted on the way, as casts convert.
  std::vector<Half> converted(24);
  ASSERT_TRUE(file->ReadRegion(*file->header().Find("f32"), Region::Full({2, 3, 4}), DType::kFloat16,
                               converted.data())
                  .ok());
  for (int i = 0; i < 24; ++i) EXPECT_EQ(converted[i].bits, Half(0.5f * i - 3).bits) << i;
}

TEST(SafetensorsTest, EveryBrokenVectorIsRefusedNamingTheDefect) {
  const std::pair<const char*, const char*> kBroken[] = {
      {"bad_truncated_data.safetensors", "the file is truncated"},
      {"bad_header_length_past_end.safetensors", "runs past the end"},
      {"bad_header_not_json.safetensors", "not a valid JSON object"},
      {"bad_offsets_overlap.safetensors", "overlap"},
      {"bad_offsets_past_data.safetensors", "past the 8 bytes of the data section"},
      {"bad_shape_offsets_mismatch.safetensors", "tensor 'a': shape [3] of F32 is 12 bytes"},
      {"bad_unknown_dtype.safetensors", "unknown dtype \"Q7\""},
      {"bad_negative_shape.safetensors", "not a non-negative integer"},
      {"bad_duplicate_key.safetensors", "names tensor 'a' twice"},
      {"bad_file_shorter_than_8.safetensors", "shorter than the 8-byte header length"},
  };
  for (const auto& [name, message] : kBroken) {
    const absl::Status status = SafetensorsFile::Open(kVectors + std::string(name)).status();
    EXPECT_TRUE(status.code() == absl::StatusCode::kDataLoss ||
                status.code() == absl::StatusCode::kInvalidArgument)
        << name << ": " << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(message)) << name;
    EXPECT_THAT(std::string(status.message()), HasSubstr(name)) << "names the file";
  }
}

TEST(SafetensorsTest, DTypesSafetensorsHasAndDeferredDoesNotAreRefusedByName) {
  for (const char* name : {"I8", "U16", "F8_E4M3", "C64"}) {
    const absl::Status status = ParseSafetensorsDType(name).status();
    EXPECT_THAT(std::string(status.message()), HasSubstr("does not support")) << name;
  }
  EXPECT_THAT(std::string(ParseSafetensorsDType("f32").status().message()), HasSubstr("unknown dtype"));
  for (DType dtype : kAllDTypes) EXPECT_EQ(*ParseSafetensorsDType(SafetensorsDTypeName(dtype)), dtype);
}

// A file of random tensors of every dtype, written and read back whole and by regions.
class WrittenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(7);
    int index = 0;
    for (DType dtype : kAllDTypes) {
      for (const Shape& shape : {Shape{37}, Shape{9, 70}, Shape{3, 4, 1100}, Shape{}, Shape{0, 5}}) {
        SafetensorsTensor t{absl::StrFormat("t%d", index++), dtype, shape};
        std::string bytes(static_cast<size_t>(NumElements(shape) * ElementSize(dtype)), '\0');
        for (char& c : bytes) c = static_cast<char>(rng());
        if (dtype == DType::kBool) {
          for (char& c : bytes) c &= 1;
        }
        tensors_.push_back(t);
        bytes_.push_back(bytes);
      }
    }
    path_ = TempPath("written.safetensors");
    absl::StatusOr<std::unique_ptr<SafetensorsWriter>> writer =
        SafetensorsWriter::Create(path_, tensors_, {{"format", "pt"}});
    ASSERT_TRUE(writer.ok()) << writer.status();
    for (const std::string& b : bytes_) ASSERT_TRUE((*writer)->AppendTensor(b).ok());
    ASSERT_TRUE((*writer)->Commit().ok());
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(path_);
    ASSERT_TRUE(file.ok()) << file.status();
    file_ = *std::move(file);
  }

  std::vector<SafetensorsTensor> tensors_;
  std::vector<std::string> bytes_;
  std::string path_;
  std::unique_ptr<SafetensorsFile> file_;
};

TEST_F(WrittenFileTest, HeaderIsCompactPaddedAndTheDataRoundTrips) {
  EXPECT_EQ(file_->header().data_offset % 8, 0);
  EXPECT_EQ(file_->header().metadata.at("format"), "pt");
  const std::string text = *ReadFileToString(path_, 1 << 26);
  EXPECT_EQ(text.substr(8, 33), "{\"__metadata__\":{\"format\":\"pt\"},\"");
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const SafetensorsTensor* t = file_->header().Find(tensors_[i].name);
    ASSERT_NE(t, nullptr);
    std::string out(bytes_[i].size(), '\0');
    ASSERT_TRUE(file_->ReadRegion(*t, Region::Full(t->shape), t->dtype, out.data()).ok());
    EXPECT_EQ(out, bytes_[i]) << t->name;
  }
}

// Any region read directly equals the same region cut from the whole, and a dim-0 region
// reads exactly its own bytes.
TEST_F(WrittenFileTest, RegionsEqualSlicesOfTheWholeAndReadOnlyTheirRows) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 3000; ++trial) {
    const size_t i = rng() % tensors_.size();
    const SafetensorsTensor& t = *file_->header().Find(tensors_[i].name);
    Region region = Region::Full(t.shape);
    for (int64_t d = 0; d < region.rank(); ++d) {
      if (t.shape[d] == 0) continue;
      region.start[d] = static_cast<int64_t>(rng() % t.shape[d]);
      region.stop[d] = region.start[d] + 1 + static_cast<int64_t>(rng() % (t.shape[d] - region.start[d]));
    }
    const int64_t element = ElementSize(t.dtype);
    std::string out(static_cast<size_t>(region.numel() * element), '\0');
    const CheckpointReadStats before = GetCheckpointReadStats();
    ASSERT_TRUE(file_->ReadRegion(t, region, t.dtype, out.data()).ok());
    const int64_t read = GetCheckpointReadStats().bytes - before.bytes;
    // Expected: the elements of the region from the whole, row-major.
    std::string expected;
    const Shape strides = ContiguousStrides(t.shape);
    Shape at = region.start;
    for (int64_t e = 0; e < region.numel(); ++e) {
      int64_t offset = 0;
      for (int64_t d = 0; d < region.rank(); ++d) offset += at[d] * strides[d];
      expected.append(bytes_[i], static_cast<size_t>(offset * element), static_cast<size_t>(element));
      for (int64_t d = region.rank() - 1; d >= 0; --d) {
        if (++at[d] < region.stop[d]) break;
        at[d] = region.start[d];
      }
    }
    ASSERT_EQ(out, expected) << t.name << " " << region.ToString();
    bool dim0_only = true;
    for (int64_t d = 1; d < region.rank(); ++d) dim0_only &= region.sizes()[d] == t.shape[d];
    if (dim0_only) {
      EXPECT_EQ(read, region.numel() * element) << t.name << " " << region.ToString();
    }
    // Rows are read, or spans with gaps below the coalescing limit between them.
    EXPECT_LE(read, region.numel() * element +
                        SafetensorsFile::kCoalesceGapBytes * (region.numel() + 1));
  }
}

TEST_F(WrittenFileTest, BadRegionsAndBoolBytesAreErrors) {
  const SafetensorsTensor& t = *file_->header().Find("t1");  // float32 [9, 70]
  std::vector<float> out(1000);
  EXPECT_EQ(file_->ReadRegion(t, Region{{0, 0}, {10, 1}}, DType::kFloat32, out.data()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(file_->ReadRegion(t, Region{{0}, {1}}, DType::kFloat32, out.data()).code(),
            absl::StatusCode::kInvalidArgument);
  // A BOOL byte of 2, written behind the writer's back: refused as data loss.
  std::vector<SafetensorsTensor> one = {{"b", DType::kBool, {4}}};
  const std::string path = TempPath("bool.safetensors");
  auto writer = *SafetensorsWriter::Create(path, one, {});
  ASSERT_TRUE(writer->AppendTensor(std::string("\x01\x00\x02\x01", 4)).ok());
  ASSERT_TRUE(writer->Commit().ok());
  auto file = *SafetensorsFile::Open(path);
  bool values[4];
  const absl::Status status = file->ReadRegion(*file->header().Find("b"), Region::Full({4}),
                                               DType::kBool, values);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr("BOOL byte"));
}

TEST(SafetensorsWriterTest, AnUnfinishedWriteLeavesNoFile) {
  const std::string path = TempPath("unfinished.safetensors");
  {
    std::vector<SafetensorsTensor> two = {{"a", DType::kFloat32, {2}}, {"b", DType::kInt64, {1}}};
    auto writer = *SafetensorsWriter::Create(path, two, {});
    ASSERT_TRUE(writer->AppendTensor(std::string(8, '\0')).ok());
    EXPECT_EQ(writer->AppendTensor("short").code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(writer->Commit().code(), absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(path).parent_path())) {
    EXPECT_EQ(entry.path().string().find("unfinished.safetensors.tmp"), std::string::npos)
        << entry.path();
  }
}

}  // namespace
}  // namespace deferred
