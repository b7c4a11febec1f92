#include "fake_tensor/dispatcher.h"

#include <algorithm>
#include <string>
#include <vector>

#include "fake_tensor/generator.h"
#include "gtest/gtest.h"

namespace deferred {
namespace {

// A test-only op family, registered here so the dispatcher is tested without real ops.
const bool registered = [] {
  OpRegistry& registry = OpRegistry::Global();
  registry.RegisterOp(OpDef{
      .name = "test_iota",
      .kind = OpKind::kFactory,
      .attrs = {{"sizes", AttrType::kShape}, {"device", AttrType::kDevice}},
      .shape_rule = [](const OpCall& call) {
        return TensorSpecs{TensorSpec{call.attrs.Get<Shape>("sizes"), DType::kInt64,
                                      call.attrs.Get<Device>("device")}};
      }});
  registry.RegisterKernel(
      "test_iota", DeviceType::kCPU,
      [](const KernelContext&, const OpCall&, absl::Span<const Tensor> outputs) {
        int64_t* data = outputs[0].data_ptr<int64_t>();
        for (int64_t i = 0; i < outputs[0].numel(); ++i) data[i] = i;
      });
  registry.RegisterOp(OpDef{.name = "test_random",
                            .kind = OpKind::kInPlace,
                            .shape_rule =
                                [](const OpCall& call) {
                                  const Tensor& self = call.inputs[0];
                                  return TensorSpecs{
                                      TensorSpec{self.sizes(), self.dtype(), self.device()}};
                                },
                            .rng_words_per_element = [](const OpCall&) { return int64_t{3}; }});
  registry.RegisterKernel(
      "test_random", DeviceType::kCPU,
      [](const KernelContext&, const OpCall& call, absl::Span<const Tensor> outputs) {
        outputs[0].data_ptr<int64_t>()[0] = call.attrs.Get<int64_t>("offset");
      });
  registry.RegisterOp(
      OpDef{.name = "test_first_row", .kind = OpKind::kView, .view_rule = [](const OpCall& call) {
              const Tensor& t = call.inputs[0];
              return TensorLayout{{t.size(1)}, {t.stride(1)}, t.storage_offset()};
            }});
  return true;
}();

Attrs IotaAttrs(Shape sizes, Device device) {
  return Attrs{{"sizes", std::move(sizes)}, {"device", device}};
}

TEST(DispatcherTest, EagerFactoryRunsTheCpuKernel) {
  const Tensor t = DispatchOne("test_iota", {}, IotaAttrs({2, 3}, Device::CPU()));
  EXPECT_EQ(t.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
}

TEST(DispatcherTest, MetaDeviceGivesShapesWithoutData) {
  const Tensor t = DispatchOne("test_iota", {}, IotaAttrs({2, 3}, Device::Meta()));
  EXPECT_TRUE(t.is_meta());
  EXPECT_FALSE(t.has_data());
  EXPECT_EQ(t.sizes(), (Shape{2, 3}));
  const Tensor row = DispatchOne("test_first_row", {t}, {});
  EXPECT_EQ(row.sizes(), (Shape{3}));
  EXPECT_TRUE(row.is_meta());
}

TEST(DispatcherTest, ViewSharesStorage) {
  const Tensor t = DispatchOne("test_iota", {}, IotaAttrs({2, 3}, Device::CPU()));
  const Tensor row = DispatchOne("test_first_row", {t}, {});
  EXPECT_EQ(row.storage().get(), t.storage().get());
  EXPECT_EQ(row.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2}));
}

TEST(DispatcherTest, RandomOpsReserveCeilOfWordsOverFourBlocks) {
  manual_seed(7);
  const Tensor t = DispatchOne("test_iota", {}, IotaAttrs({5}, Device::CPU()));
  Dispatch("test_random", {t}, {});  // 5 elements * 3 words = 15 words: 4 blocks
  EXPECT_EQ(t.to_vector<int64_t>()[0], 0);
  EXPECT_EQ(get_rng_state(), (RngState{7, 4}));
  Dispatch("test_random", {t}, {});
  EXPECT_EQ(t.to_vector<int64_t>()[0], 4);
  EXPECT_EQ(get_rng_state(), (RngState{7, 8}));
}

TEST(DispatcherTest, ALiveCallCannotSetTheCoordinatesTheDispatcherRecords) {
  manual_seed(7);
  const Tensor t = DispatchOne("test_iota", {}, IotaAttrs({5}, Device::CPU()));
  for (const char* name : {"seed", "offset"}) {
    try {
      Dispatch("test_random", {t}, Attrs{{name, int64_t{3}}});
      FAIL() << "expected an Error for attr " << name;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("unknown attr '") + name + "'"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(get_rng_state(), (RngState{7, 0}));
}

TEST(DispatcherTest, AttrsMustBeExactlyTheDeclaredOnes) {
  const auto error_of = [](Attrs attrs) {
    try {
      Dispatch("test_iota", {}, std::move(attrs));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of(Attrs{{"sizes", Shape{2}}}), "test_iota: missing attr 'device'");
  EXPECT_EQ(error_of(Attrs{{"sizes", int64_t{2}}, {"device", Device::CPU()}}),
            "test_iota: attr 'sizes' must be of type Shape");
  EXPECT_EQ(error_of(Attrs{{"sizes", Shape{2}}, {"device", Device::CPU()}, {"dim", int64_t{0}}}),
            "test_iota: unknown attr 'dim'");
  // A recorded random call carries its coordinates, and must.
  const Tensor t = DispatchOne("test_iota", {}, IotaAttrs({5}, Device::CPU()));
  const OpDef& random = OpRegistry::Global().Get("test_random");
  EXPECT_NO_THROW(
      ValidateCall(OpCall{&random, {t}, Attrs{{"seed", int64_t{1}}, {"offset", int64_t{0}}}}));
  EXPECT_THROW(ValidateCall(OpCall{&random, {t}, Attrs{{"seed", int64_t{1}}}}), Error);
}

TEST(DispatcherTest, UnknownOpIsNotFound) {
  try {
    Dispatch("no_such_op", {}, {});
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), absl::StatusCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("no_such_op"), std::string::npos);
  }
}

TEST(DispatcherTest, OpNamesAreTheDefinedOpsSorted) {
  OpRegistry& registry = OpRegistry::Global();
  // A kernel registered for an op no one defines makes an entry, but not an op.
  registry.RegisterKernel("test_kernel_without_op", DeviceType::kCPU,
                          [](const KernelContext&, const OpCall&, absl::Span<const Tensor>) {});
  const std::vector<std::string> names = registry.OpNames();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
  for (const char* defined : {"test_iota", "test_random", "test_first_row"}) {
    EXPECT_EQ(std::count(names.begin(), names.end(), defined), 1) << defined;
  }
  EXPECT_EQ(std::count(names.begin(), names.end(), "test_kernel_without_op"), 0);
  EXPECT_FALSE(registry.Contains("test_kernel_without_op"));
}

TEST(DispatcherTest, MissingKernelNamesOpAndDevice) {
  const Tensor t = DispatchOne("test_iota", {}, IotaAttrs({2}, Device::CPU()));
  try {
    DispatchOne("test_iota", {}, IotaAttrs({2}, Device::CUDA(0)));
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda:0"), std::string::npos) << e.what();
  }
}

TEST(DispatcherTest, FakeInputOutsideRecordingIsAnError) {
  const Tensor fake = AllocateTensor({3}, DType::kInt64, Device::CPU(), /*fake=*/true);
  try {
    Dispatch("test_random", {fake}, {});
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(std::string(e.what()).find("test_random"), std::string::npos) << e.what();
  }
}

// A mode that counts calls and delegates to eager execution.
class CountingMode : public DispatchMode {
 public:
  std::vector<Tensor> Run(OpCall& call) override {
    names.push_back(call.def->name);
    return RunEager(call);
  }
  std::vector<std::string> names;
};

TEST(DispatcherTest, ModesSeeEveryCallAndUnwind) {
  CountingMode mode;
  {
    ScopedDispatchMode scope(&mode);
    EXPECT_EQ(CurrentDispatchMode(), &mode);
    const Tensor t = DispatchOne("test_iota", {}, IotaAttrs({2, 2}, Device::CPU()));
    DispatchOne("test_first_row", {t}, {});
  }
  EXPECT_EQ(CurrentDispatchMode(), nullptr);
  EXPECT_EQ(mode.names, (std::vector<std::string>{"test_iota", "test_first_row"}));
}

}  // namespace
}  // namespace deferred
