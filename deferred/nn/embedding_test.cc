#include "deferred/nn/embedding.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "deferred/deferred.h"
#include "deferred/nn/layer_testing.h"
#include "fake_tensor/generator.h"
#include "fake_tensor/ops/views.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "replay/trace.h"

namespace deferred::nn {
namespace {

using ::testing::Each;
using ::testing::HasSubstr;

TEST(EmbeddingTest, WeightIsStandardNormal) {
  manual_seed(17);
  const Embedding embedding(64, 64);
  EXPECT_EQ(embedding.weight().sizes(), (Shape{64, 64}));
  EXPECT_EQ(embedding.padding_idx(), std::nullopt);
  // 4096 draws: the mean's standard error is 1/64.
  const ValueStats stats = StatsOf(embedding.weight());
  EXPECT_NEAR(stats.mean, 0.0, 0.06);
  EXPECT_NEAR(stats.stddev, 1.0, 0.05);
  EXPECT_LT(stats.min, -2.5);
  EXPECT_GT(stats.max, 2.5);
}

TEST(EmbeddingTest, PaddingRowIsExactlyZeroAndOtherRowsAreNot) {
  manual_seed(4);
  const Embedding embedding(6, 5, {.padding_idx = 2});
  EXPECT_EQ(embedding.padding_idx(), 2);
  for (int64_t row = 0; row < 6; ++row) {
    const std::vector<float> values = select(embedding.weight(), 0, row).to_vector<float>();
    if (row == 2) {
      EXPECT_THAT(values, Each(0.0f));
      for (float v : values) EXPECT_FALSE(std::signbit(v));
    } else {
      EXPECT_NE(values, std::vector<float>(5, 0.0f)) << "row " << row;
    }
  }
}

TEST(EmbeddingTest, PaddingZeroesOnlyTheRowAndKeepsTheOtherDraws) {
  manual_seed(4);
  const Embedding plain(6, 5);
  manual_seed(4);
  const Embedding padded(6, 5, {.padding_idx = -1});
  const std::vector<float> a = plain.weight().to_vector<float>();
  const std::vector<float> b = padded.weight().to_vector<float>();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(b[i], i >= 25 ? 0.0f : a[i]) << i;
}

TEST(EmbeddingTest, NegativePaddingIndexWraps) {
  EXPECT_EQ(Embedding(10, 2, {.padding_idx = -1}).padding_idx(), 9);
  EXPECT_EQ(Embedding(10, 2, {.padding_idx = -10}).padding_idx(), 0);
  EXPECT_EQ(Embedding(10, 2, {.padding_idx = 0}).padding_idx(), 0);
}

TEST(EmbeddingTest, MaterializedEqualsEagerForRandomConfigurations) {
  std::mt19937_64 rng(77);
  for (int trial = 0; trial < 12; ++trial) {
    const uint64_t seed = rng();
    const int64_t num = 1 + rng() % 30;
    const int64_t dim = 1 + rng() % 20;
    std::optional<int64_t> padding_idx;
    if (trial % 3 != 0) padding_idx = static_cast<int64_t>(rng() % (2 * num)) - num;
    const DType dtype = trial % 4 == 0 ? DType::kFloat64 : DType::kFloat32;
    SCOPED_TRACE(testing::Message() << "seed " << seed << " num " << num << " dim " << dim
                                    << " padding_idx " << padding_idx.value_or(999)
                                    << " dtype " << DTypeName(dtype));
    EXPECT_TRUE(MaterializedEqualsEager<Embedding>(seed, num, dim, EmbeddingOptions{padding_idx},
                                                   TensorOptions{.dtype = dtype}));
  }
}

TEST(EmbeddingTest, PaddingRowOfTheDeferredModuleIsZeroAfterMaterialization) {
  absl::StatusOr<std::shared_ptr<Embedding>> embedding =
      deferred_init<Embedding>(8, 3, EmbeddingOptions{.padding_idx = 5});
  ASSERT_TRUE(embedding.ok()) << embedding.status();
  ASSERT_TRUE(materialize_module(**embedding).ok());
  EXPECT_THAT(select((*embedding)->weight(), 0, 5).to_vector<float>(), Each(0.0f));
}

TEST(EmbeddingTest, PaddingRowIsRecordedAsAnInPlaceFillThroughARowView) {
  absl::StatusOr<std::shared_ptr<Embedding>> embedding =
      deferred_init<Embedding>(8, 3, EmbeddingOptions{.padding_idx = 5});
  ASSERT_TRUE(embedding.ok()) << embedding.status();
  const Tensor& weight = (*embedding)->weight();
  const std::shared_ptr<Trace> trace = TraceOf(weight);
  ASSERT_NE(trace, nullptr);
  const StorageVersion latest = trace->Latest(*weight.storage());
  EXPECT_GT(latest.version, 0);  // the fill made a new version of the weight's storage
  const std::vector<Trace::Vertex> ops = trace->Subgraph({latest});
  ASSERT_FALSE(ops.empty());
  const TraceNode last = trace->Node(ops.back());
  EXPECT_EQ(last.def->name, "fill_");
  ASSERT_EQ(last.outputs.size(), 1u);
  EXPECT_EQ(last.outputs[0].value, latest);
  EXPECT_EQ(last.outputs[0].layout.sizes, (Shape{3}));
  EXPECT_EQ(last.outputs[0].layout.strides, (Shape{1}));
  EXPECT_EQ(last.outputs[0].layout.storage_offset, 15);
}

TEST(EmbeddingTest, RecordingAllocatesNoTensorData) {
  EXPECT_TRUE(DeferredInitAllocatesNothing<Embedding>(
      1 << 14, 1 << 10, EmbeddingOptions{.padding_idx = 0}, TensorOptions{}));
}

TEST(EmbeddingTest, PaddingIndexOutOfRangeIsAnError) {
  EXPECT_THAT(ConstructionError<Embedding>(4, 2, EmbeddingOptions{.padding_idx = 4}),
              HasSubstr("Embedding: padding_idx must be within num_embeddings, got "
                        "padding_idx=4 for num_embeddings=4"));
  EXPECT_THAT(ConstructionError<Embedding>(4, 2, EmbeddingOptions{.padding_idx = -5}),
              HasSubstr("padding_idx=-5 for num_embeddings=4"));
}

TEST(EmbeddingTest, NegativeSizesAreErrors) {
  EXPECT_THAT(ConstructionError<Embedding>(-4, 2),
              HasSubstr("Embedding: num_embeddings and embedding_dim must be non-negative, "
                        "got num_embeddings=-4 and embedding_dim=2"));
}

}  // namespace
}  // namespace deferred::nn
