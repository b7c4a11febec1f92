#include "deferred/deferred.h"

#include <string>
#include <vector>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"
#include "fake_tensor/ops/shape_ops.h"
#include "fake_tensor/recorder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/equivalence.h"

namespace deferred {
namespace {

using ::testing::HasSubstr;

// A small model whose constructor derives a buffer from a parameter, edits a parameter
// in place through a view, and ties two parameters.
class Toy : public nn::Module {
 public:
  explicit Toy(int64_t n) : Module("Toy") {
    Tensor weight = register_parameter("weight", arange(0, n * 4, 1, {.dtype = DType::kFloat32}));
    // In-place through a view: the second half of the storage, scaled.
    const Tensor second_half = MakeView(weight, TensorLayout{{n * 2}, {1}, n * 2});
    mul_(second_half, 0.5);
    register_parameter("bias", add(full({n}, 0.25), 1));
    register_buffer("scaled", mul(weight, weight));
    register_parameter("tied", weight);
    register_buffer("mask", lt(arange(0, n), n / 2), /*persistent=*/false);
  }
};

TEST(DeferredInitTest, MaterializedModuleEqualsEagerConstruction) {
  const auto eager = std::make_shared<Toy>(6);
  absl::StatusOr<std::shared_ptr<Toy>> deferred = deferred_init<Toy>(6);
  ASSERT_TRUE(deferred.ok()) << deferred.status();
  for (const auto& [name, t] : (*deferred)->named_parameters()) EXPECT_TRUE(is_fake(t)) << name;
  ASSERT_TRUE(materialize_module(**deferred).ok());

  const auto expected = eager->named_parameters();
  const auto actual = (*deferred)->named_parameters();
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(expected[i].first, actual[i].first);
    EXPECT_FALSE(is_fake(actual[i].second));
    EXPECT_TRUE(TensorsBitwiseEqual(expected[i].second, actual[i].second)) << actual[i].first;
  }
  const auto expected_buffers = eager->named_buffers();
  const auto actual_buffers = (*deferred)->named_buffers();
  ASSERT_EQ(expected_buffers.size(), actual_buffers.size());
  for (size_t i = 0; i < expected_buffers.size(); ++i) {
    EXPECT_TRUE(TensorsBitwiseEqual(expected_buffers[i].second, actual_buffers[i].second))
        << actual_buffers[i].first;
  }
}

TEST(DeferredInitTest, RecordingAllocatesNoTensorData) {
  const AllocationStats before = GetAllocationStats();
  absl::StatusOr<std::shared_ptr<Toy>> deferred = deferred_init<Toy>(1 << 20);
  ASSERT_TRUE(deferred.ok()) << deferred.status();
  EXPECT_EQ(GetAllocationStats().total_bytes, before.total_bytes);
  EXPECT_EQ(GetAllocationStats().allocation_count, before.allocation_count);
}

TEST(DeferredInitTest, TiedParametersShareOneMaterializedStorage) {
  absl::StatusOr<std::shared_ptr<Toy>> deferred = deferred_init<Toy>(4);
  ASSERT_TRUE(deferred.ok());
  Toy& toy = **deferred;
  EXPECT_EQ(toy.names_of(toy.parameter("weight")),
            (std::vector<std::string>{"weight", "tied"}));
  ASSERT_TRUE(materialize_module(toy).ok());
  EXPECT_EQ(toy.parameter("weight").storage()->data(), toy.parameter("tied").storage()->data());
}

TEST(DeferredInitTest, OpsAfterDeferredInitAreRecordedAndReplayed) {
  absl::StatusOr<std::shared_ptr<Toy>> deferred = deferred_init<Toy>(4);
  ASSERT_TRUE(deferred.ok());
  (*deferred)->apply([](nn::Module& m) {
    for (const auto& [name, t] : m.named_parameters()) {
      if (name == "bias") fill_(t, 3.0);
    }
  });
  ASSERT_TRUE(materialize_module(**deferred).ok());
  for (float v : (*deferred)->parameter("bias").to_vector<float>()) EXPECT_EQ(v, 3.0f);
}

TEST(DeferredInitTest, MaterializeTensorLeavesTheFakeTensorFake) {
  absl::StatusOr<std::shared_ptr<Toy>> deferred = deferred_init<Toy>(4);
  ASSERT_TRUE(deferred.ok());
  const Tensor& bias = (*deferred)->parameter("bias");
  absl::StatusOr<Tensor> real = materialize_tensor(bias);
  ASSERT_TRUE(real.ok()) << real.status();
  EXPECT_TRUE(is_fake(bias));
  EXPECT_EQ(real->to_vector<float>(), std::vector<float>(4, 1.25f));
}

TEST(DeferredInitTest, BuffersOnlyAndFilterSelectWhatIsMaterialized) {
  absl::StatusOr<std::shared_ptr<Toy>> deferred = deferred_init<Toy>(4);
  ASSERT_TRUE(deferred.ok());
  Toy& toy = **deferred;
  ASSERT_TRUE(materialize_module(toy, {.buffers_only = true}).ok());
  EXPECT_FALSE(is_fake(toy.buffer("scaled")));
  EXPECT_TRUE(is_fake(toy.parameter("bias")));
  ASSERT_TRUE(materialize_module(toy, {.filter = [](const std::string& name) {
                                         return name == "bias";
                                       }}).ok());
  EXPECT_FALSE(is_fake(toy.parameter("bias")));
  EXPECT_TRUE(is_fake(toy.parameter("weight")));
}

TEST(DeferredInitTest, MaterializingTwiceChangesNothing) {
  absl::StatusOr<std::shared_ptr<Toy>> deferred = deferred_init<Toy>(4);
  ASSERT_TRUE(deferred.ok());
  ASSERT_TRUE(materialize_module(**deferred).ok());
  const Tensor weight = (*deferred)->parameter("weight");
  const std::byte* data = weight.storage()->data();
  fill_(weight, 7.0);  // a real tensor now: eager, and never overwritten again
  const int64_t allocations = GetAllocationStats().allocation_count;
  ASSERT_TRUE(materialize_module(**deferred).ok());
  EXPECT_EQ(GetAllocationStats().allocation_count, allocations);
  EXPECT_EQ(weight.storage()->data(), data);
  EXPECT_EQ(weight.to_vector<float>()[0], 7.0f);
}

class Reader : public nn::Module {
 public:
  Reader() : Module("Reader") {
    const Tensor t = zeros({2});
    t.item<float>();
  }
};

class Outer : public nn::Module {
 public:
  Outer() : Module("Outer") { make_module<Reader>("reader"); }
};

TEST(DeferredInitTest, DataAccessWhileRecordingNamesOpAndModulePath) {
  absl::StatusOr<std::shared_ptr<Outer>> result = deferred_init<Outer>();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(result.status().message().find("item"), std::string::npos) << result.status();
  EXPECT_NE(result.status().message().find("'reader'"), std::string::npos) << result.status();
  EXPECT_EQ(CurrentDispatchMode(), nullptr);
}

TEST(DeferredInitTest, FailingFactoryRestoresModeAndGenerator) {
  manual_seed(3);
  const RngState before = get_rng_state();
  absl::StatusOr<std::shared_ptr<nn::Module>> result =
      deferred_init([]() -> std::shared_ptr<nn::Module> { throw std::runtime_error("boom"); });
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("boom"), std::string::npos);
  EXPECT_EQ(CurrentDispatchMode(), nullptr);
  EXPECT_EQ(get_rng_state(), before);
}

TEST(DeferredInitTest, LargeRealConstantIsAnErrorThatSaysWhatToDo) {
  const Tensor big = zeros({1 << 17, 4});  // 2 MiB of float32
  absl::StatusOr<std::shared_ptr<nn::Module>> result = deferred_init([&] {
    auto toy = std::make_shared<Toy>(4);
    add_(toy->parameter("bias"), big);
    return toy;
  });
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("inside deferred_init"), std::string::npos)
      << result.status();
}

class Empty : public nn::Module {
 public:
  Empty() : Module("Empty") { register_parameter("w", add(zeros({3, 0}), 1)); }
};

TEST(DeferredInitTest, TensorsWithoutElementsMaterialize) {
  absl::StatusOr<std::shared_ptr<Empty>> deferred = deferred_init<Empty>();
  ASSERT_TRUE(deferred.ok());
  ASSERT_TRUE(materialize_module(**deferred).ok());
  const Tensor& w = (*deferred)->parameter("w");
  EXPECT_FALSE(is_fake(w));
  EXPECT_EQ(w.sizes(), (Shape{3, 0}));
  absl::StatusOr<Tensor> again = materialize_tensor(w);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->numel(), 0);
}

TEST(DeferredInitTest, UnavailableDeviceIsAStatus) {
  absl::StatusOr<std::shared_ptr<Toy>> deferred = deferred_init<Toy>(4);
  ASSERT_TRUE(deferred.ok());
  const absl::Status status = materialize_module(**deferred, {.device = Device::CUDA(0)});
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(is_fake((*deferred)->parameter("bias")));
  // check_device says so beforehand, with the same error.
  EXPECT_EQ(check_device(Device::CUDA(0)), status);
  EXPECT_TRUE(check_device(Device::CPU()).ok());
  EXPECT_EQ(check_device(Device::Meta()).code(), absl::StatusCode::kInvalidArgument);
}

// A model whose constructor puts one tensor on cuda:0 explicitly.
class OnCuda : public nn::Module {
 public:
  OnCuda() : Module("OnCuda") {
    register_parameter("cpu_weight", randn({3, 4}));
    register_parameter("cuda_weight", randn({3, 4}, {.device = Device::CUDA(0)}));
  }
};

TEST(DeferredInitTest, TensorsMaterializeOnTheirHomeDeviceUnlessTold) {
  manual_seed(8);
  absl::StatusOr<std::shared_ptr<OnCuda>> deferred = deferred_init<OnCuda>();
  ASSERT_TRUE(deferred.ok()) << deferred.status();
  const Tensor cuda_weight = (*deferred)->parameter("cuda_weight");
  EXPECT_EQ(cuda_weight.device(), Device::CUDA(0));
  // Not silently on the CPU: its home device, which this build cannot use, named with the
  // way out.
  const absl::Status status = materialize_module(**deferred);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(status.message()), HasSubstr("cuda_weight was created on cuda:0"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("MaterializeOptions::device"));
  EXPECT_TRUE(is_fake((*deferred)->parameter("cpu_weight")));  // nothing changed
  EXPECT_EQ(materialize_tensor(cuda_weight).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(materialize_shard(cuda_weight, ShardSpec::Chunk(0, 0, 2)).status().code(),
            absl::StatusCode::kUnavailable);
  // The CPU home of the other tensor is the default.
  absl::StatusOr<Tensor> cpu_weight = materialize_tensor((*deferred)->parameter("cpu_weight"));
  ASSERT_TRUE(cpu_weight.ok()) << cpu_weight.status();
  EXPECT_TRUE(cpu_weight->device().is_cpu());

  // Told otherwise, both land on the CPU with the values a CPU construction gives.
  absl::StatusOr<Tensor> moved = materialize_tensor(cuda_weight, Device::CPU());
  ASSERT_TRUE(moved.ok()) << moved.status();
  ASSERT_TRUE(materialize_module(**deferred, {.device = Device::CPU()}).ok());
  EXPECT_TRUE((*deferred)->parameter("cuda_weight").device().is_cpu());
  EXPECT_TRUE(TensorsBitwiseEqual(*moved, (*deferred)->parameter("cuda_weight")));
  manual_seed(8);
  const Tensor cpu_first = randn({3, 4});
  const Tensor cpu_second = randn({3, 4});
  EXPECT_TRUE(TensorsBitwiseEqual(cpu_first, (*deferred)->parameter("cpu_weight")));
  EXPECT_TRUE(TensorsBitwiseEqual(cpu_second, (*deferred)->parameter("cuda_weight")));
}

class Repeated : public nn::Module {
 public:
  Repeated() : Module("Repeated") {
    register_parameter("w", repeat(ones({2, 2}), {int64_t{1} << 31, int64_t{1} << 31}));
  }
};

TEST(DeferredInitTest, RecordingATensorWhoseSizeOverflowsIsAnError) {
  manual_seed(5);
  const RngState before = get_rng_state();
  absl::StatusOr<std::shared_ptr<Repeated>> result = deferred_init<Repeated>();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("repeat: a tensor of shape [4294967296, 4294967296]"),
            std::string::npos)
      << result.status();
  EXPECT_EQ(get_rng_state(), before);
}

class WithMeta : public nn::Module {
 public:
  WithMeta() : Module("WithMeta") {
    register_parameter("real", full({3}, 2.0));
    register_buffer("shape_only", add(zeros({2, 3}, {.device = Device::Meta()}), 1));
  }
};

TEST(DeferredInitTest, MetaTensorsStayMetaAndHaveNothingToMaterialize) {
  absl::StatusOr<std::shared_ptr<WithMeta>> deferred = deferred_init<WithMeta>();
  ASSERT_TRUE(deferred.ok()) << deferred.status();
  const Tensor meta = (*deferred)->buffer("shape_only");
  EXPECT_TRUE(meta.is_meta());
  EXPECT_FALSE(is_fake(meta));
  EXPECT_EQ(meta.sizes(), (Shape{2, 3}));

  for (const absl::Status& status :
       {materialize_tensor(meta).status(),
        materialize_shard(meta, ShardSpec::Chunk(0, 0, 2)).status()}) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find("meta device"), std::string::npos) << status;
  }
  ASSERT_TRUE(materialize_module(**deferred).ok());
  EXPECT_TRUE((*deferred)->buffer("shape_only").is_meta());
  EXPECT_EQ((*deferred)->parameter("real").to_vector<float>(), std::vector<float>(3, 2.0f));
}

TEST(DeferredInitTest, AnyExceptionFromTheFactoryIsAStatusAndRestoresTheGenerator) {
  manual_seed(9);
  const RngState before = get_rng_state();
  absl::StatusOr<std::shared_ptr<nn::Module>> thrown = deferred_init([]() -> std::shared_ptr<nn::Module> {
    rand({4});  // advances the generator before failing
    throw 42;
  });
  EXPECT_EQ(thrown.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(thrown.status().message().find("module factory threw"), std::string::npos);
  EXPECT_EQ(get_rng_state(), before);
  EXPECT_EQ(CurrentDispatchMode(), nullptr);

  absl::StatusOr<std::shared_ptr<nn::Module>> null = deferred_init([]() -> std::shared_ptr<nn::Module> {
    rand({4});
    return nullptr;
  });
  EXPECT_EQ(null.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(null.status().message().find("returned null"), std::string::npos);
  EXPECT_EQ(get_rng_state(), before);

  EXPECT_EQ(deferred_init(ModuleFactory()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(get_rng_state(), before);
}

TEST(DeferredInitTest, ThrowingFilterOrShardCallbackIsAStatus) {
  absl::StatusOr<std::shared_ptr<Toy>> deferred = deferred_init<Toy>(4);
  ASSERT_TRUE(deferred.ok());
  const absl::Status filter_error = materialize_module(
      **deferred, {.filter = [](const std::string& name) -> bool {
        ThrowError("no filter for %s", name);
      }});
  EXPECT_EQ(filter_error.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(filter_error.message().find("no filter for weight"), std::string::npos)
      << filter_error;
  const absl::Status shard_error = materialize_module(
      **deferred, {.shard = [](const std::string&, const Shape&) -> std::optional<ShardSpec> {
        throw 42;
      }});
  EXPECT_EQ(shard_error.code(), absl::StatusCode::kInternal);
  for (const auto& [name, t] : (*deferred)->named_parameters()) EXPECT_TRUE(is_fake(t)) << name;
}

TEST(DeferredInitTest, InvalidDeviceIsInvalidArgument) {
  absl::StatusOr<std::shared_ptr<Toy>> deferred = deferred_init<Toy>(4);
  ASSERT_TRUE(deferred.ok());
  const Tensor& bias = (*deferred)->parameter("bias");
  EXPECT_EQ(materialize_module(**deferred, {.device = Device::CUDA(-1)}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(materialize_tensor(bias, Device::CUDA(-1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(materialize_shard(bias, ShardSpec(), Device::CUDA(-1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(materialize_tensor(Tensor()).status().code(), absl::StatusCode::kInvalidArgument);
  try {
    zeros({2}, {.device = Device::CUDA(-1)});
    ADD_FAILURE() << "a factory on cuda:-1 was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("cuda:-1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deferred
