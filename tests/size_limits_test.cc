// Every op of the registry, driven with sizes near the int64 limits, on meta tensors and
// on fake tensors while recording: a call either gives outputs whose element counts, byte
// counts and layouts are exact and in bounds, or throws an `Error` that names the misuse
// (never Internal). A one-element corner of every recorded output then materializes, or
// fails with a clear status (ResourceExhausted when an op must compute a whole input
// too large to allocate). Run under ASan/UBSan, so a wrapped product anywhere on the way
// fails the test too.
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "deferred/deferred.h"
#include "fake_tensor/dispatcher.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/recorder.h"
#include "gtest/gtest.h"
#include "replay/trace.h"
#include "tests/equivalence.h"
#include "tests/test_seed.h"

// Huge allocations must fail as allocations (ResourceExhausted), not abort the process.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }

namespace deferred {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t P(int k) { return int64_t{1} << k; }

// Float32 shapes near the limits: 2^60 elements (2^62 bytes) in various arrangements.
const std::vector<Shape> kShapes = {
    {P(60)},    {P(40), P(20)},   {P(20), P(40)}, {P(40), 1}, {1, P(40)}, {P(20), 1},
    {1, P(20)}, {P(40), 8, P(8)}, {0, P(40), 8},  {3, 4},     {1},        {},
};

// A whole-output op on a draw whose sizes fit (a repeat by 2^31, say) would allocate
// gigabytes; past this cap it fails at once instead, as on a machine out of memory.
constexpr int64_t kAllocationLimit = int64_t{64} << 20;

// Integers an attr may take near the limits.
const int64_t kInts[] = {0,     1,    -1,       2,    3,        P(31),  P(32), P(40),
                         P(62), kMax, kMax - 1, kMin, kMin + 1, -P(62), -P(40)};

// One call of an op, as the dispatcher receives it.
struct Invocation {
  std::string op;
  std::vector<Tensor> inputs;
  Attrs attrs;
};

// Random inputs and attrs for drivers: tensors from a pool, integers from kInts.
class Draw {
 public:
  Draw(const std::vector<Tensor>& pool, const std::vector<Tensor>& bools, Device device,
       uint64_t seed)
      : pool_(pool), bools_(bools), device_(device), rng_(seed) {}

  // For factories: the pool's device (meta, or the home device of fake tensors).
  Device device() const { return device_; }
  const Tensor& tensor() { return pool_[rng_() % pool_.size()]; }
  // A 1-d tensor of the pool.
  const Tensor& vector() {
    for (;;) {
      if (const Tensor& t = tensor(); t.dim() == 1) return t;
    }
  }
  const Tensor& condition() { return bools_[rng_() % bools_.size()]; }
  int64_t integer() { return rng_() % 2 ? kInts[rng_() % std::size(kInts)] : int64_t(rng_() % 4); }
  bool coin() { return rng_() % 2 == 0; }
  Shape shape() {
    Shape s = kShapes[rng_() % kShapes.size()];
    if (coin() && !s.empty()) s[rng_() % s.size()] = integer();
    return s;
  }
  Shape dims(int max_count) {
    Shape dims(rng_() % (max_count + 1));
    for (int64_t& d : dims) d = integer();
    return dims;
  }
  double real() {
    const double values[] = {0.0, 1.0, -1.0, 0.5, 1e300, -1e300, 1e-300};
    return values[rng_() % std::size(values)];
  }

 private:
  const std::vector<Tensor>& pool_;
  const std::vector<Tensor>& bools_;
  Device device_;
  std::mt19937_64 rng_;
};

Attrs FactoryAttrs(Draw& d) {
  return Attrs{{"sizes", d.shape()}, {"dtype", DType::kFloat32}, {"device", d.device()}};
}

using Driver = std::function<Invocation(Draw&)>;

// A driver for every op of the registry, by name.
std::map<std::string, Driver> Drivers() {
  std::map<std::string, Driver> drivers;
  for (const char* name : {"add", "sub", "mul", "div", "pow", "eq", "ne", "lt", "le", "gt", "ge"}) {
    const std::string op = name;
    drivers[op] = [op](Draw& d) { return Invocation{op, {d.tensor(), d.tensor()}, {}}; };
    drivers[op + "_scalar"] = [op](Draw& d) {
      return Invocation{op + "_scalar", {d.tensor()}, Attrs{{"other", Scalar(d.real())}}};
    };
    if (op == "eq" || op == "ne" || op == "lt" || op == "le" || op == "gt" || op == "ge") continue;
    drivers[op + "_"] = [op](Draw& d) {
      return Invocation{op + "_", {d.tensor(), d.tensor()}, {}};
    };
    drivers[op + "_scalar_"] = [op](Draw& d) {
      return Invocation{op + "_scalar_", {d.tensor()}, Attrs{{"other", Scalar(d.real())}}};
    };
  }
  for (const char* name : {"maximum", "minimum"}) {
    drivers[name] = [op = std::string(name)](Draw& d) {
      return Invocation{op, {d.tensor(), d.tensor()}, {}};
    };
  }
  for (const char* name : {"neg", "abs", "exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh",
                           "sigmoid", "erf", "log2", "exp2", "expm1", "log1p", "reciprocal",
                           "floor", "ceil", "round", "sign"}) {
    const std::string op = name;
    drivers[op] = [op](Draw& d) { return Invocation{op, {d.tensor()}, {}}; };
    drivers[op + "_"] = [op](Draw& d) { return Invocation{op + "_", {d.tensor()}, {}}; };
  }
  for (const char* name : {"clamp", "clamp_"}) {
    drivers[name] = [op = std::string(name)](Draw& d) {
      return Invocation{
          op, {d.tensor()}, Attrs{{"min", Scalar(d.real())}, {"max", Scalar(d.real())}}};
    };
  }
  drivers["where"] = [](Draw& d) {
    return Invocation{"where", {d.condition(), d.tensor(), d.tensor()}, {}};
  };
  drivers["to"] = [](Draw& d) {
    return Invocation{
        "to", {d.tensor()}, Attrs{{"dtype", d.coin() ? DType::kFloat64 : DType::kUInt8}}};
  };
  drivers["fill_"] = [](Draw& d) {
    return Invocation{"fill_", {d.tensor()}, Attrs{{"value", Scalar(d.real())}}};
  };
  drivers["copy_"] = [](Draw& d) { return Invocation{"copy_", {d.tensor(), d.tensor()}, {}}; };
  drivers["clone"] = [](Draw& d) { return Invocation{"clone", {d.tensor()}, {}}; };

  drivers["argsort"] = [](Draw& d) {
    return Invocation{"argsort", {d.tensor()}, Attrs{{"dim", d.integer()}, {"descending", d.coin()}}};
  };
  drivers["qr_q"] = [](Draw& d) { return Invocation{"qr_q", {d.tensor()}, {}}; };
  drivers["cumsum"] = [](Draw& d) {
    return Invocation{"cumsum", {d.tensor()}, Attrs{{"dim", d.integer()}, {"start", d.integer()}}};
  };
  for (const char* name : {"sum", "mean", "min", "max"}) {
    drivers[name] = [op = std::string(name)](Draw& d) {
      return Invocation{op, {d.tensor()}, Attrs{{"dims", d.dims(2)}, {"keepdim", d.coin()}}};
    };
  }
  for (const char* name : {"var", "std"}) {
    drivers[name] = [op = std::string(name)](Draw& d) {
      return Invocation{
          op,
          {d.tensor()},
          Attrs{{"dims", d.dims(2)}, {"keepdim", d.coin()}, {"correction", d.integer()}}};
    };
  }

  drivers["view"] = [](Draw& d) {
    return Invocation{"view", {d.tensor()}, Attrs{{"sizes", d.shape()}}};
  };
  drivers["narrow"] = [](Draw& d) {
    return Invocation{"narrow",
                      {d.tensor()},
                      Attrs{{"dim", d.integer()}, {"start", d.integer()}, {"length", d.integer()}}};
  };
  drivers["slice"] = [](Draw& d) {
    return Invocation{"slice",
                      {d.tensor()},
                      Attrs{{"dim", d.integer()},
                            {"start", d.integer()},
                            {"end", d.integer()},
                            {"step", d.integer()}}};
  };
  drivers["select"] = [](Draw& d) {
    return Invocation{"select", {d.tensor()}, Attrs{{"dim", d.integer()}, {"index", d.integer()}}};
  };
  drivers["transpose"] = [](Draw& d) {
    return Invocation{
        "transpose", {d.tensor()}, Attrs{{"dim0", d.integer()}, {"dim1", d.integer()}}};
  };
  drivers["permute"] = [](Draw& d) {
    const Tensor& t = d.tensor();
    Shape dims = d.dims(3);
    if (d.coin()) {  // a permutation of t's dims, so that some draws are valid
      dims.resize(t.dim());
      for (int64_t i = 0; i < t.dim(); ++i) dims[i] = (i + 1) % t.dim();
    }
    return Invocation{"permute", {t}, Attrs{{"dims", dims}}};
  };
  drivers["unsqueeze"] = [](Draw& d) {
    return Invocation{"unsqueeze", {d.tensor()}, Attrs{{"dim", d.integer()}}};
  };
  drivers["squeeze"] = [](Draw& d) { return Invocation{"squeeze", {d.tensor()}, {}}; };
  drivers["squeeze_dim"] = [](Draw& d) {
    return Invocation{"squeeze_dim", {d.tensor()}, Attrs{{"dim", d.integer()}}};
  };
  drivers["expand"] = [](Draw& d) {
    return Invocation{"expand", {d.tensor()}, Attrs{{"sizes", d.shape()}}};
  };
  drivers["diagonal"] = [](Draw& d) {
    return Invocation{
        "diagonal",
        {d.tensor()},
        Attrs{{"diagonal_offset", d.integer()}, {"dim1", d.integer()}, {"dim2", d.integer()}}};
  };
  drivers["t"] = [](Draw& d) { return Invocation{"t", {d.tensor()}, {}}; };

  drivers["cat"] = [](Draw& d) {
    const Tensor& t = d.tensor();  // repeated, so that some draws have matching shapes
    return Invocation{"cat", {t, d.coin() ? t : d.tensor(), t}, Attrs{{"dim", d.integer()}}};
  };
  drivers["stack"] = [](Draw& d) {
    return Invocation{"stack", {d.tensor(), d.tensor()}, Attrs{{"dim", d.integer()}}};
  };
  drivers["repeat"] = [](Draw& d) {
    return Invocation{"repeat", {d.tensor()}, Attrs{{"repeats", d.dims(3)}}};
  };
  for (const char* name : {"tril", "triu", "tril_", "triu_"}) {
    drivers[name] = [op = std::string(name)](Draw& d) {
      return Invocation{op, {d.tensor()}, Attrs{{"diagonal", d.integer()}}};
    };
  }
  drivers["outer"] = [](Draw& d) { return Invocation{"outer", {d.vector(), d.vector()}, {}}; };
  drivers["matmul"] = [](Draw& d) { return Invocation{"matmul", {d.tensor(), d.tensor()}, {}}; };

  drivers["empty"] = [](Draw& d) { return Invocation{"empty", {}, FactoryAttrs(d)}; };
  drivers["eye"] = [](Draw& d) { return Invocation{"eye", {}, FactoryAttrs(d)}; };
  drivers["full"] = [](Draw& d) {
    Attrs attrs = FactoryAttrs(d);
    attrs.Set("value", Scalar(d.real()));
    return Invocation{"full", {}, std::move(attrs)};
  };
  drivers["arange"] = [](Draw& d) {
    Attrs attrs = FactoryAttrs(d);
    attrs.Set("start", Scalar(d.integer()));
    attrs.Set("step", Scalar(d.integer()));
    return Invocation{"arange", {}, std::move(attrs)};
  };
  drivers["linspace"] = [](Draw& d) {
    Attrs attrs = FactoryAttrs(d);
    attrs.Set("start", d.real());
    attrs.Set("end", d.real());
    return Invocation{"linspace", {}, std::move(attrs)};
  };
  drivers["from_bytes"] = [](Draw& d) {
    Attrs attrs = FactoryAttrs(d);
    attrs.Set("bytes", std::string(d.coin() ? 4 : 48, '\0'));
    if (d.coin()) attrs.Set("full_sizes", d.shape());
    return Invocation{"from_bytes", {}, std::move(attrs)};
  };

  drivers["uniform_"] = [](Draw& d) {
    return Invocation{"uniform_", {d.tensor()}, Attrs{{"from", d.real()}, {"to", d.real()}}};
  };
  drivers["normal_"] = [](Draw& d) {
    return Invocation{"normal_", {d.tensor()}, Attrs{{"mean", d.real()}, {"std", d.real()}}};
  };
  drivers["trunc_normal_"] = [](Draw& d) {
    return Invocation{
        "trunc_normal_",
        {d.tensor()},
        Attrs{{"mean", d.real()}, {"std", d.real()}, {"a", d.real()}, {"b", d.real()}}};
  };
  drivers["random_"] = [](Draw& d) {
    return Invocation{
        "random_", {d.tensor()}, Attrs{{"from", d.integer()}, {"to_inclusive", d.integer()}}};
  };
  drivers["bernoulli_"] = [](Draw& d) {
    return Invocation{"bernoulli_", {d.tensor()}, Attrs{{"p", d.coin() ? 0.5 : d.real()}}};
  };
  return drivers;
}

TEST(SizeLimitsTest, EveryOpOfTheRegistryHasADriver) {
  const std::map<std::string, Driver> drivers = Drivers();
  for (const std::string& name : OpRegistry::Global().OpNames()) {
    EXPECT_TRUE(drivers.count(name)) << "op '" << name << "' has no driver in size_limits_test";
  }
  for (const auto& [name, driver] : drivers) {
    EXPECT_TRUE(OpRegistry::Global().Contains(name)) << "driver for unknown op '" << name << "'";
  }
}

// The tensors of kShapes and their transposes, with float32 values 2, and bool
// conditions of the same shapes: meta tensors (with an expanded view too), or fake ones
// when called while recording.
std::pair<std::vector<Tensor>, std::vector<Tensor>> MakePool(Device device) {
  std::vector<Tensor> pool, bools;
  for (const Shape& shape : kShapes) {
    const Tensor t = full(shape, 2.0, {.dtype = DType::kFloat32, .device = device});
    pool.push_back(t);
    bools.push_back(full(shape, true, {.dtype = DType::kBool, .device = device}));
    if (t.dim() == 2) pool.push_back(Dispatch("t", {t}, {})[0]);
  }
  // An expanded view holds 2^60 elements in 4 bytes: shapes only, for a replayed reduction
  // over it would be 2^60 steps of work.
  if (device.is_meta()) {
    pool.push_back(Dispatch("expand", {full({1}, 2.0, {.device = device})},
                            Attrs{{"sizes", Shape{P(40), P(20)}}})[0]);
  }
  return {pool, bools};
}

// Runs `invocation`: OK with outputs that satisfy the layout invariant, or an `Error` that
// is not Internal. Returns the outputs (empty on error).
std::vector<Tensor> RunChecked(const Invocation& invocation, const std::string& context) {
  try {
    std::vector<Tensor> outputs = Dispatch(invocation.op, invocation.inputs, invocation.attrs);
    for (const Tensor& t : outputs) {
      CheckLayoutInStorage(t.layout(), t.dtype(), t.storage()->nbytes(), invocation.op);
    }
    return outputs;
  } catch (const Error& e) {
    EXPECT_NE(e.code(), absl::StatusCode::kInternal) << context << ": " << e.what();
    EXPECT_NE(e.code(), absl::StatusCode::kUnknown) << context << ": " << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << context << ": not a deferred::Error: " << e.what();
  }
  return {};
}

constexpr int kDrawsPerOp = 400;

TEST(SizeLimitsTest, MetaCallsGiveExactShapesOrClearErrors) {
  const auto [pool, bools] = MakePool(Device::Meta());
  for (const auto& [name, driver] : Drivers()) {
    int accepted = 0;
    for (int i = 0; i < kDrawsPerOp; ++i) {
      Draw draw(pool, bools, Device::Meta(), TestSeedBase() + std::hash<std::string>()(name) + i);
      const Invocation invocation = driver(draw);
      accepted += !RunChecked(invocation, absl::StrCat(name, " draw ", i)).empty();
    }
    // Draws mix valid and invalid calls; both outcomes must occur for the test to mean
    // something (an op that accepted nothing would prove nothing).
    EXPECT_GT(accepted, 0) << name;
    RecordProperty(name, accepted);
  }
}

// The spec of the one-element corner at the last index of every dim.
ShardSpec LastCorner(const Tensor& t) {
  ShardSpec spec;
  for (int64_t d = 0; d < t.dim(); ++d)
    spec = spec.And(ShardSpec::Range(d, t.size(d) - 1, t.size(d)));
  return spec;
}

TEST(SizeLimitsTest, RecordedCallsMaterializeTheirCornerOrFailClearly) {
  SetAllocationLimit(kAllocationLimit);
  for (const auto& [name, driver] : Drivers()) {
    // A trace per op, so that in-place ops of other ops do not lengthen its replays.
    auto trace = std::make_shared<Trace>();
    RecordingMode mode(trace);
    std::vector<std::pair<int, Tensor>> recorded;
    {
      ScopedDispatchMode scope(&mode);
      const auto [pool, bools] = MakePool(Device::CPU());
      for (int i = 0; i < kDrawsPerOp / 4; ++i) {
        Draw draw(pool, bools, Device::CPU(),
                  TestSeedBase() + std::hash<std::string>()(name) + 1000 + i);
        for (const Tensor& t : RunChecked(driver(draw), absl::StrCat(name, " draw ", i))) {
          recorded.emplace_back(i, t);
        }
      }
    }
    int materialized = 0, nonempty = 0;
    for (const auto& [draw, t] : recorded) {
      if (t.numel() == 0) continue;
      ++nonempty;
      absl::StatusOr<Tensor> corner = materialize_shard(t, LastCorner(t));
      if (corner.ok()) {
        ++materialized;
        EXPECT_EQ(corner->numel(), 1) << name << " draw " << draw;
      } else {
        EXPECT_TRUE(corner.status().code() == absl::StatusCode::kResourceExhausted ||
                    corner.status().code() == absl::StatusCode::kInvalidArgument)
            << name << " draw " << draw << ": " << corner.status();
      }
    }
    // Region rules make corners cheap, huge as their tensors are: every op with a rule
    // materializes some.
    const OpDef& def = OpRegistry::Global().Get(name);
    if (nonempty > 0 && (def.region_rule || def.kind == OpKind::kView)) {
      EXPECT_GT(materialized, 0) << name << ": none of " << nonempty << " corners";
    }
  }
  SetAllocationLimit(0);
}

// Elementwise ops on constant inputs: the corner of the huge result equals the op applied
// to one-element inputs with the same values, so region rules near the limits compute the
// right element, not just an element.
TEST(SizeLimitsTest, ElementwiseCornersOfHugeTensorsHaveTheRightValues) {
  auto trace = std::make_shared<Trace>();
  RecordingMode mode(trace);
  Tensor a, b;
  {
    ScopedDispatchMode scope(&mode);
    a = full({P(40), P(20)}, 3.0);
    b = full({P(20)}, 0.5);
  }
  for (const char* op : {"add", "sub", "mul", "div", "pow", "lt"}) {
    const Tensor huge = Dispatch(op, {a, b}, {})[0];
    const Tensor small = Dispatch(op, {full({1}, 3.0), full({1}, 0.5)}, {})[0];
    absl::StatusOr<Tensor> corner = materialize_shard(huge, LastCorner(huge));
    ASSERT_TRUE(corner.ok()) << op << ": " << corner.status();
    EXPECT_TRUE(
        TensorsBitwiseEqual(small, Dispatch("view", {*corner}, Attrs{{"sizes", Shape{1}}})[0]))
        << op;
  }
}

}  // namespace
}  // namespace deferred
