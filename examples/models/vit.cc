#include "examples/models/vit.h"

#include "deferred/nn/containers.h"
#include "deferred/nn/conv.h"
#include "deferred/nn/init.h"
#include "deferred/nn/linear.h"
#include "deferred/nn/normalization.h"
#include "fake_tensor/error.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/random.h"

namespace deferred::examples {
namespace {

constexpr double kLayerNormEps = 1e-6;

class VitAttention : public nn::Module {
 public:
  explicit VitAttention(const VitConfig& config) : Module("Attention") {
    make_module<nn::Linear>("qkv", config.embed_dim, 3 * config.embed_dim);
    make_module<nn::Linear>("proj", config.embed_dim, config.embed_dim);
  }
};

class VitMlp : public nn::Module {
 public:
  explicit VitMlp(const VitConfig& config) : Module("Mlp") {
    make_module<nn::Linear>("fc1", config.embed_dim, config.mlp_ratio * config.embed_dim);
    make_module<nn::Linear>("fc2", config.mlp_ratio * config.embed_dim, config.embed_dim);
  }
};

class VitBlock : public nn::Module {
 public:
  explicit VitBlock(const VitConfig& config) : Module("Block") {
    make_module<nn::LayerNorm>("norm1", Shape{config.embed_dim},
                               nn::LayerNormOptions{.eps = kLayerNormEps});
    make_module<VitAttention>("attn", config);
    make_module<nn::LayerNorm>("norm2", Shape{config.embed_dim},
                               nn::LayerNormOptions{.eps = kLayerNormEps});
    make_module<VitMlp>("mlp", config);
  }
};

class PatchEmbed : public nn::Module {
 public:
  explicit PatchEmbed(const VitConfig& config) : Module("PatchEmbed") {
    make_module<nn::Conv2d>("proj", config.in_chans, config.embed_dim, config.patch_size,
                            nn::ConvOptions{.stride = config.patch_size});
  }
};

}  // namespace

VitConfig VitConfig::VitBase16() { return VitConfig{}; }

VitConfig VitConfig::Tiny() {
  return VitConfig{.image_size = 8, .patch_size = 4, .in_chans = 3, .num_classes = 10,
                   .embed_dim = 16, .depth = 2, .num_heads = 2, .mlp_ratio = 4};
}

Vit::Vit(const VitConfig& config) : Module("VisionTransformer") {
  if (config.patch_size <= 0 || config.image_size % config.patch_size != 0) {
    ThrowError("Vit: image_size %d is not a positive multiple of patch_size %d",
               config.image_size, config.patch_size);
  }
  make_module<PatchEmbed>("patch_embed", config);
  const Tensor cls_token = register_parameter("cls_token", zeros({1, 1, config.embed_dim}));
  const Tensor pos_embed = register_parameter(
      "pos_embed", randn({1, config.num_patches() + 1, config.embed_dim}) * 0.02);
  auto blocks = make_module<nn::ModuleList>("blocks");
  for (int64_t i = 0; i < config.depth; ++i) blocks->emplace_back<VitBlock>(config);
  make_module<nn::LayerNorm>("norm", Shape{config.embed_dim},
                             nn::LayerNormOptions{.eps = kLayerNormEps});
  make_module<nn::Linear>("head", config.embed_dim, config.num_classes);

  // init_weights: the position embedding, the class token, then every Linear.
  nn::init::trunc_normal_(pos_embed, 0.0, 0.02);
  cls_token.normal_(0.0, 1e-6);
  apply([](nn::Module& m) {
    if (auto* linear = dynamic_cast<nn::Linear*>(&m)) {
      nn::init::trunc_normal_(linear->weight(), 0.0, 0.02);
      if (linear->bias().defined()) nn::init::zeros_(linear->bias());
    }
  });
}

}  // namespace deferred::examples
