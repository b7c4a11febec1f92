#include "deferred/nn/containers.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "deferred/deferred.h"
#include "deferred/nn/layer_testing.h"
#include "fake_tensor/module_path.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deferred::nn {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A leaf with one parameter whose values depend on the order of construction (arange
// offset by a counter is deterministic, so eager and deferred runs agree), and which
// records the module path it was constructed under.
class Leaf : public Module {
 public:
  explicit Leaf(int64_t n) : Module("Leaf"), path(CurrentModulePath()) {
    register_parameter("weight", add(arange(0, n, 1, {.dtype = DType::kFloat32}), 0.5));
    register_buffer("count", full({1}, n));
  }
  std::string path;
};

class Other : public Module {
 public:
  Other() : Module("Other") {}
};

template <typename Named>
std::vector<std::string> Names(const Named& named) {
  std::vector<std::string> names;
  for (const auto& entry : named) names.push_back(entry.first);
  return names;
}

template <typename Fn>
std::string ErrorMessage(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no deferred::Error was thrown";
  return "";
}

TEST(ModuleListTest, ChildrenAreNamedByPosition) {
  ModuleList list;
  list.push_back(std::make_shared<Leaf>(2));
  const std::shared_ptr<Leaf> second = list.emplace_back<Leaf>(3);
  list.push_back(std::make_shared<Other>());
  EXPECT_EQ(list.size(), 3);
  EXPECT_THAT(Names(list.named_children()), ElementsAre("0", "1", "2"));
  EXPECT_THAT(Names(list.named_parameters()), ElementsAre("0.weight", "1.weight"));
  EXPECT_EQ(list.at(1), second);
  EXPECT_EQ(list.at<Leaf>(-2), second);
  EXPECT_EQ(list.at(-1)->type_name(), "Other");
  EXPECT_EQ(list.type_name(), "ModuleList");
}

TEST(ModuleListTest, ConstructsFromAVectorInOrder) {
  const auto a = std::make_shared<Leaf>(1);
  const auto b = std::make_shared<Other>();
  const ModuleList list({a, b});
  EXPECT_EQ(list.at(0), a);
  EXPECT_EQ(list.at(1), b);
}

TEST(ModuleListTest, OutOfRangeAndWrongTypeAreErrors) {
  ModuleList list;
  list.emplace_back<Leaf>(1);
  EXPECT_THAT(ErrorMessage([&] { list.at(1); }),
              HasSubstr("ModuleList: index 1 is out of range for 1 modules"));
  EXPECT_THAT(ErrorMessage([&] { list.at(-2); }), HasSubstr("index -2 is out of range"));
  EXPECT_THAT(ErrorMessage([&] { list.at<Other>(0); }),
              HasSubstr("ModuleList: child 0 is a Leaf, not the requested type"));
  EXPECT_THAT(ErrorMessage([&] { list.push_back(nullptr); }),
              HasSubstr("child module '1' is null"));
  EXPECT_THAT(ErrorMessage([] { ModuleList({std::make_shared<Other>(), nullptr}); }),
              HasSubstr("child module '1' is null"));
}

// A model that builds its layers through containers, as user models do.
class Stack : public Module {
 public:
  explicit Stack(int64_t depth) : Module("Stack") {
    layers = make_module<ModuleList>("layers");
    for (int64_t i = 0; i < depth; ++i) layers->emplace_back<Leaf>(i + 1);
    heads = make_module<ModuleDict>("heads");
    heads->emplace<Leaf>("lm", 2);
    heads->emplace<Leaf>("cls", 3);
    body = make_module<Sequential>("body");
    body->emplace_back<Leaf>(4);
  }
  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<ModuleDict> heads;
  std::shared_ptr<Sequential> body;
};

class Outer : public Module {
 public:
  Outer() : Module("Outer") { stack = make_module<Stack>("encoder", 2); }
  std::shared_ptr<Stack> stack;
};

TEST(ContainersTest, EmplacedModulesAreConstructedUnderTheContainersPath) {
  const Stack stack(2);
  EXPECT_EQ(stack.layers->at<Leaf>(0)->path, "layers.0");
  EXPECT_EQ(stack.layers->at<Leaf>(1)->path, "layers.1");
  EXPECT_EQ(stack.heads->at<Leaf>("cls")->path, "heads.cls");
  EXPECT_EQ(stack.body->at<Leaf>(0)->path, "body.0");

  const Outer outer;
  EXPECT_EQ(outer.stack->layers->at<Leaf>(1)->path, "encoder.layers.1");
  EXPECT_EQ(outer.stack->heads->at<Leaf>("lm")->path, "encoder.heads.lm");
  EXPECT_EQ(CurrentModulePath(), "");
}

TEST(ContainersTest, EmplacingOutsideConstructionUsesTheContainersPath) {
  const Outer outer;
  const std::shared_ptr<Leaf> late = outer.stack->layers->emplace_back<Leaf>(1);
  EXPECT_EQ(late->path, "encoder.layers.2");
}

TEST(ContainersTest, ContainerChildPathIsRelativeToTheCurrentPath) {
  EXPECT_EQ(ContainerChildPath("", "0"), "0");
  EXPECT_EQ(ContainerChildPath("a.layers", "3"), "a.layers.3");
  ScopedModulePath a("a");
  EXPECT_EQ(ContainerChildPath("a", "0"), "0");
  EXPECT_EQ(ContainerChildPath("a.layers", "3"), "layers.3");
  EXPECT_EQ(ContainerChildPath("ab.layers", "3"), "3");
  EXPECT_EQ(ContainerChildPath("b.layers", "3"), "3");
}

TEST(ContainersTest, NamedTensorsFollowContainerOrder) {
  Stack stack(2);
  EXPECT_THAT(Names(stack.named_parameters()),
              ElementsAre("layers.0.weight", "layers.1.weight", "heads.lm.weight",
                          "heads.cls.weight", "body.0.weight"));
  EXPECT_THAT(Names(stack.named_modules()),
              ElementsAre("", "layers", "layers.0", "layers.1", "heads", "heads.lm", "heads.cls",
                          "body", "body.0"));
}

TEST(ContainersTest, MaterializedEqualsEager) {
  EXPECT_TRUE(MaterializedEqualsEager<Stack>(7, 3));
  EXPECT_TRUE(MaterializedEqualsEager<Outer>(8));
}

TEST(ContainersTest, RecordingAllocatesNoTensorData) {
  EXPECT_TRUE(DeferredInitAllocatesNothing<Stack>(4));
}

TEST(SequentialTest, PositionalAndNamedConstruction) {
  const auto a = std::make_shared<Leaf>(1);
  const auto b = std::make_shared<Leaf>(2);
  const Sequential positional({a, b});
  EXPECT_THAT(Names(positional.named_children()), ElementsAre("0", "1"));
  EXPECT_EQ(positional.type_name(), "Sequential");

  const Sequential named(std::vector<std::pair<std::string, std::shared_ptr<Module>>>{
      {"embed", a}, {"proj", b}});
  EXPECT_THAT(Names(named.named_parameters()), ElementsAre("embed.weight", "proj.weight"));
  EXPECT_EQ(named.at(1), b);
  EXPECT_EQ(named.at<Leaf>(-2), a);
}

TEST(SequentialTest, RepeatedOrInvalidNamesAreErrors) {
  using Named = std::vector<std::pair<std::string, std::shared_ptr<Module>>>;
  EXPECT_THAT(ErrorMessage([] {
                Sequential(
                    Named{{"x", std::make_shared<Other>()}, {"x", std::make_shared<Other>()}});
              }),
              HasSubstr("Sequential: module name 'x' is repeated"));
  EXPECT_THAT(ErrorMessage([] { Sequential(Named{{"a.b", std::make_shared<Other>()}}); }),
              HasSubstr("Sequential: invalid name 'a.b'"));
  EXPECT_THAT(ErrorMessage([] { Sequential().at(0); }),
              HasSubstr("Sequential: index 0 is out of range for 0 modules"));
}

TEST(ModuleDictTest, KeysKeepInsertionOrderAndReplaceInPlace) {
  ModuleDict dict;
  dict.insert("b", std::make_shared<Leaf>(1));
  dict.emplace<Leaf>("a", 2);
  const auto replacement = std::make_shared<Other>();
  dict.insert("b", replacement);
  EXPECT_EQ(dict.size(), 2);
  EXPECT_THAT(dict.keys(), ElementsAre("b", "a"));
  EXPECT_EQ(dict.at("b"), replacement);
  EXPECT_TRUE(dict.contains("a"));
  EXPECT_FALSE(dict.contains("c"));
  EXPECT_EQ(dict.type_name(), "ModuleDict");

  const ModuleDict from_pairs({{"x", std::make_shared<Other>()}, {"y", replacement}});
  EXPECT_THAT(from_pairs.keys(), ElementsAre("x", "y"));
}

TEST(ModuleDictTest, MissingInvalidAndWrongTypeAreErrors) {
  ModuleDict dict;
  dict.emplace<Leaf>("a", 1);
  EXPECT_THAT(ErrorMessage([&] { dict.at("z"); }), HasSubstr("ModuleDict has no child module 'z'"));
  EXPECT_THAT(ErrorMessage([&] { dict.at<Other>("a"); }),
              HasSubstr("ModuleDict: 'a' is a Leaf, not the requested type"));
  EXPECT_THAT(ErrorMessage([&] { dict.insert("", std::make_shared<Other>()); }),
              HasSubstr("ModuleDict: invalid name ''"));
  EXPECT_THAT(ErrorMessage([&] { dict.insert("q", nullptr); }),
              HasSubstr("ModuleDict: child module 'q' is null"));
}

}  // namespace
}  // namespace deferred::nn
