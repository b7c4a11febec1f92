#include "deferred/nn/module.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fake_tensor/error.h"
#include "fake_tensor/module_path.h"
#include "fake_tensor/ops/factories.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deferred::nn {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A module whose tensors and children the test registers from outside.
class Plain : public Module {
 public:
  Plain() : Module("Plain") {}
};

// The names of named_parameters(), named_buffers(), named_modules() or named_children().
template <typename Named>
std::vector<std::string> Names(const Named& named) {
  std::vector<std::string> names;
  for (const auto& entry : named) names.push_back(entry.first);
  return names;
}

// Runs `fn`, which must throw `Error`, and returns its message.
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

TEST(ModuleTest, RegisteredTensorsAreTheSameHandles) {
  Plain m;
  const Tensor weight = zeros({2, 3});
  const Tensor mean = zeros({3});
  EXPECT_TRUE(m.register_parameter("weight", weight).is_same(weight));
  EXPECT_TRUE(m.register_buffer("mean", mean).is_same(mean));
  EXPECT_TRUE(m.parameter("weight").is_same(weight));
  EXPECT_TRUE(m.buffer("mean").is_same(mean));
  EXPECT_THAT(Names(m.named_parameters()), ElementsAre("weight"));
  EXPECT_THAT(Names(m.named_buffers()), ElementsAre("mean"));
  EXPECT_EQ(m.type_name(), "Plain");
}

TEST(ModuleTest, RegisteringAnExistingNameReplacesInPlace) {
  Plain m;
  m.register_parameter("a", zeros({1}));
  m.register_parameter("b", zeros({1}));
  const Tensor replacement = ones({4});
  m.register_parameter("a", replacement);
  EXPECT_THAT(Names(m.named_parameters()), ElementsAre("a", "b"));
  EXPECT_TRUE(m.parameter("a").is_same(replacement));

  m.register_buffer("running", zeros({1}), /*persistent=*/true);
  m.register_buffer("running", ones({1}), /*persistent=*/false);
  EXPECT_THAT(Names(m.named_buffers()), ElementsAre("running"));
  EXPECT_TRUE(m.named_persistent_buffers().empty());

  const auto first = std::make_shared<Plain>();
  const auto second = std::make_shared<Plain>();
  m.register_module("x", first);
  m.register_module("y", std::make_shared<Plain>());
  m.register_module("x", second);
  EXPECT_THAT(Names(m.named_children()), ElementsAre("x", "y"));
  EXPECT_EQ(m.child("x"), second);
}

TEST(ModuleTest, SetParameterTiesAndIsSeenByName) {
  Plain m;
  m.register_parameter("weight", zeros({2}));
  const Tensor other = ones({2});
  m.set_parameter("weight", other);
  EXPECT_TRUE(m.parameter("weight").is_same(other));
}

TEST(ModuleTest, ReplaceTensorFollowsADottedPath) {
  auto root = std::make_shared<Plain>();
  auto a = root->register_module("a", std::make_shared<Plain>());
  a->register_parameter("w", zeros({1}));
  a->register_buffer("b", zeros({1}));
  const Tensor w = ones({2});
  const Tensor b = ones({3});
  root->replace_tensor("a.w", w);
  root->replace_tensor("a.b", b);
  EXPECT_TRUE(a->parameter("w").is_same(w));
  EXPECT_TRUE(a->buffer("b").is_same(b));
  EXPECT_THAT(ErrorMessage([&] { root->replace_tensor("a.missing", w); }),
              HasSubstr("Plain has no parameter or buffer 'missing'"));
  EXPECT_THAT(ErrorMessage([&] { root->replace_tensor("z.w", w); }),
              HasSubstr("Plain has no child module 'z'"));
}

// root: p0; children a (p1, child c (p2)), b (p3).
std::shared_ptr<Plain> Tree() {
  auto root = std::make_shared<Plain>();
  root->register_parameter("p0", zeros({1}));
  auto a = root->register_module("a", std::make_shared<Plain>());
  a->register_parameter("p1", zeros({1}));
  auto c = a->register_module("c", std::make_shared<Plain>());
  c->register_parameter("p2", zeros({1}));
  c->register_buffer("b2", zeros({1}));
  auto b = root->register_module("b", std::make_shared<Plain>());
  b->register_parameter("p3", zeros({1}));
  root->register_buffer("b0", zeros({1}));
  return root;
}

TEST(ModuleTest, DottedNamesAreDepthFirstInRegistrationOrder) {
  const auto root = Tree();
  EXPECT_THAT(Names(root->named_parameters()), ElementsAre("p0", "a.p1", "a.c.p2", "b.p3"));
  EXPECT_THAT(Names(root->named_buffers()), ElementsAre("b0", "a.c.b2"));
  EXPECT_THAT(Names(root->named_modules()), ElementsAre("", "a", "a.c", "b"));
  EXPECT_THAT(Names(root->named_children()), ElementsAre("a", "b"));
}

TEST(ModuleTest, NamedModulesHandsOutTheModulesThemselves) {
  const auto root = Tree();
  const auto modules = root->named_modules();
  ASSERT_EQ(modules.size(), 4u);
  EXPECT_EQ(modules[0].second.get(), root.get());
  EXPECT_EQ(modules[1].second, root->child("a"));
  EXPECT_EQ(modules[2].second, root->child("a")->child("c"));
  EXPECT_EQ(modules[3].second, root->child("b"));
}

TEST(ModuleTest, TiedParameterIsListedOnceAndNamesOfGivesEveryName) {
  auto root = std::make_shared<Plain>();
  const Tensor embedding = zeros({4, 2});
  root->register_parameter("embed", embedding);
  auto head = root->register_module("head", std::make_shared<Plain>());
  head->register_parameter("weight", embedding);
  head->register_parameter("bias", zeros({4}));
  EXPECT_THAT(Names(root->named_parameters()), ElementsAre("embed", "head.bias"));
  EXPECT_THAT(root->names_of(embedding), ElementsAre("embed", "head.weight"));
  EXPECT_THAT(root->names_of(head->parameter("bias")), ElementsAre("head.bias"));
  EXPECT_TRUE(root->names_of(zeros({1})).empty());
}

TEST(ModuleTest, NamesOfCoversBuffersToo) {
  Plain m;
  const Tensor t = zeros({2});
  m.register_parameter("w", t);
  m.register_buffer("shadow", t, /*persistent=*/false);
  EXPECT_THAT(m.names_of(t), ElementsAre("w", "shadow"));
}

TEST(ModuleTest, NonPersistentBuffersAreNotInThePersistentList) {
  auto root = std::make_shared<Plain>();
  root->register_buffer("mean", zeros({2}));
  root->register_buffer("mask", zeros({2}), /*persistent=*/false);
  auto child = root->register_module("child", std::make_shared<Plain>());
  child->register_buffer("cache", zeros({2}), /*persistent=*/false);
  child->register_buffer("var", zeros({2}), /*persistent=*/true);
  EXPECT_THAT(Names(root->named_buffers()),
              ElementsAre("mean", "mask", "child.cache", "child.var"));
  EXPECT_THAT(Names(root->named_persistent_buffers()), ElementsAre("mean", "child.var"));
}

TEST(ModuleTest, UndefinedTensorsAreRegisteredButNotListed) {
  Plain m;
  m.register_parameter("bias", Tensor());
  EXPECT_FALSE(m.parameter("bias").defined());
  EXPECT_TRUE(m.named_parameters().empty());
}

TEST(ModuleTest, ApplyVisitsChildrenBeforeTheirParent) {
  const auto root = Tree();
  std::vector<const Module*> visited;
  root->apply([&](Module& m) { visited.push_back(&m); });
  const Module* a = root->child("a").get();
  EXPECT_THAT(visited, ElementsAre(a->child("c").get(), a, root->child("b").get(), root.get()));
}

TEST(ModuleTest, InvalidNamesAreErrorsNamingTheModuleAndTheName) {
  Plain m;
  EXPECT_THAT(ErrorMessage([&] { m.register_parameter("", zeros({1})); }),
              HasSubstr("Plain: invalid name ''"));
  EXPECT_THAT(ErrorMessage([&] { m.register_parameter("a.b", zeros({1})); }),
              HasSubstr("Plain: invalid name 'a.b'"));
  EXPECT_THAT(ErrorMessage([&] { m.register_buffer("x.y", zeros({1})); }),
              HasSubstr("invalid name 'x.y'"));
  EXPECT_THAT(ErrorMessage([&] { m.register_module("c.d", std::make_shared<Plain>()); }),
              HasSubstr("invalid name 'c.d'"));
  EXPECT_THAT(ErrorMessage([&] { m.register_module<Plain>("c", nullptr); }),
              HasSubstr("Plain: child module 'c' is null"));
  EXPECT_TRUE(m.named_parameters().empty());
  EXPECT_TRUE(m.named_children().empty());
}

TEST(ModuleTest, MissingNamesAreErrorsNamingWhatIsMissing) {
  Plain m;
  m.register_parameter("weight", zeros({1}));
  EXPECT_THAT(ErrorMessage([&] { m.parameter("bias"); }),
              HasSubstr("Plain has no parameter 'bias'"));
  EXPECT_THAT(ErrorMessage([&] { m.buffer("weight"); }), HasSubstr("Plain has no buffer 'weight'"));
  EXPECT_THAT(ErrorMessage([&] { m.child("encoder"); }),
              HasSubstr("Plain has no child module 'encoder'"));
  EXPECT_THAT(ErrorMessage([&] { m.set_parameter("bias", zeros({1})); }),
              HasSubstr("Plain has no parameter 'bias'"));
}

// Records the module path it was constructed under, and builds `depth` more levels.
class PathProbe : public Module {
 public:
  explicit PathProbe(int depth) : Module("PathProbe"), path(CurrentModulePath()) {
    if (depth > 0) inner = make_module<PathProbe>("inner", depth - 1);
  }
  std::string path;
  std::shared_ptr<PathProbe> inner;
};

class Container : public Module {
 public:
  Container() : Module("Container") {
    first = make_module<PathProbe>("first", 1);
    second = make_module<PathProbe>("second", 0);
  }
  std::shared_ptr<PathProbe> first;
  std::shared_ptr<PathProbe> second;
};

TEST(ModuleTest, MakeModulePushesTheChildNameWhileItIsConstructed) {
  const Container root;
  EXPECT_EQ(root.first->path, "first");
  EXPECT_EQ(root.first->inner->path, "first.inner");
  EXPECT_EQ(root.second->path, "second");
  EXPECT_EQ(root.child("first"), root.first);
  EXPECT_EQ(CurrentModulePath(), "");
}

class Failing : public Module {
 public:
  Failing() : Module("Failing") { ThrowError("failing at %s", CurrentModulePath()); }
};

class HoldsFailing : public Module {
 public:
  HoldsFailing() : Module("HoldsFailing") { make_module<Failing>("broken"); }
};

TEST(ModuleTest, MakeModulePopsThePathWhenTheChildThrows) {
  EXPECT_THAT(ErrorMessage([] { HoldsFailing m; }), HasSubstr("failing at broken"));
  EXPECT_EQ(CurrentModulePath(), "");
}

}  // namespace
}  // namespace deferred::nn
